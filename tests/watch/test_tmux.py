"""`ralph watch` in a real terminal (tmux) against a real simulated `ralph construct`.

The bundled scenario is created and planned with the `ralph` command; `ralph watch` starts first (showing the
plan run), then `ralph construct` runs in the background; the pane must show the new run running, its
fields changing, and its end; `q` and Ctrl-C must quit with status 0 and the terminal back in canonical
mode.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from tests.terminal import Pane

from ralph.scenarios import list_scenarios

RALPH = str(Path(sys.executable).parent / "ralph")
DEADLINE_S = 240.0

pytestmark = pytest.mark.skipif(shutil.which("tmux") is None, reason="tmux is not installed")


@pytest.fixture
def planned_scenario(tmp_path: Path) -> Path:
    """The first bundled scenario, created and planned with the `ralph` command (hybrid profile)."""
    scenario = list_scenarios()[0]
    repo = tmp_path / "scenario"
    env = {**os.environ, "RALPH_PROFILE": "hybrid"}
    subprocess.run([RALPH, "scenario", "create", scenario.name, str(repo)], env=env, check=True, timeout=300,
                   capture_output=True)  # fmt: skip
    spec = next((repo / "ralph" / "specs").glob("*.md"))
    subprocess.run([RALPH, "plan", str(spec.relative_to(repo))], cwd=repo, env=env, check=True, timeout=300,
                   capture_output=True)  # fmt: skip
    return repo


@pytest.fixture
def pane(planned_scenario: Path) -> Iterator[Pane]:
    pane = Pane(planned_scenario, deadline_s=DEADLINE_S)
    try:
        yield pane
    finally:
        pane.kill()


def exit_line(screen: str, count: int) -> str:
    """The ``count``-th ``watch-exit=N`` line printed by the shell ("" until there is one)."""
    found = re.findall(r"^watch-exit=\d+$", screen, re.M)
    return found[count - 1] if len(found) >= count else ""


def field(screen: str, name: str) -> str:
    match = re.search(rf"│ {name} +(.*?) *│", screen)
    return match.group(1) if match else ""


def test_watch_follows_a_simulated_construct_and_quits_on_q_and_ctrl_c(
    planned_scenario: Path, pane: Pane
) -> None:
    repo = planned_scenario
    pane.enter(f"RALPH_PROFILE=hybrid {RALPH} watch --interval 0.2; echo watch-exit=$?")
    pane.wait_for(lambda s: "ralph watch" in s and "last exit" in s, "the plan run's frame")
    env = {**os.environ, "RALPH_PROFILE": "hybrid"}
    construct = subprocess.Popen(
        [RALPH, "construct", "--max-iterations", "4"], cwd=repo, env=env,
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        seen: list[str] = []
        pane.wait_for(
            lambda s: field(s, "status").startswith("running"), "the construct run to show as running", seen
        )
        end = pane.wait_for(lambda s: "last exit max_iterations" in s, "the construct run's end", seen)
    finally:
        _, err = construct.communicate(timeout=DEADLINE_S)
    assert construct.returncode == 3, err
    running = [s for s in seen if field(s, "status").startswith("running")]
    assert all("[simulated]" in s for s in running)
    assert {field(s, "stage").split(" ")[0] for s in running} <= {
        "BUILD",
        "VERIFY",
        "INVESTIGATE",
        "DECOMPOSE",
        "starting",
    }
    progress = {(field(s, "iteration"), field(s, "cost"), field(s, "calls")) for s in seen}
    assert len(progress) >= 3, f"fields did not update: {progress}"
    assert field(end, "iteration").startswith("4 (4 / 4 done this run)")
    assert field(end, "cost").startswith("$") and field(end, "cost") != "$0.0000"
    assert "activity" in end and "== " in end
    pane.type("q")
    after = pane.wait_for(lambda s: exit_line(s, 1), "watch to exit on q")
    assert exit_line(after, 1) == "watch-exit=0", after
    pane.enter("clear")
    pane.enter(f"{RALPH} watch --interval 0.2; echo watch-exit=$?")
    pane.wait_for(lambda s: "last exit max_iterations" in s, "watch to start again")
    pane.key("C-c")
    after = pane.wait_for(lambda s: exit_line(s, 1), "watch to exit on Ctrl-C")
    assert exit_line(after, 1) == "watch-exit=0", after
    pane.enter("stty -a | grep -o -- '-\\?icanon' | sed 's/^/mode=/'")
    mode = pane.wait_for(lambda s: re.search(r"^mode=", s, re.M) is not None, "the terminal mode")
    assert re.search(r"^mode=icanon$", mode, re.M), mode
