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
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from ralph.scenarios import list_scenarios

RALPH = str(Path(sys.executable).parent / "ralph")
DEADLINE_S = 240.0

pytestmark = pytest.mark.skipif(shutil.which("tmux") is None, reason="tmux is not installed")


class Pane:
    """One tmux pane on a private server (its own socket), running bash without rc files."""

    def __init__(self, cwd: Path) -> None:
        self.socket = f"ralph-watch-test-{uuid.uuid4().hex[:8]}"
        self._tmux("new-session", "-d", "-s", "w", "-x", "150", "-y", "60", "-c", str(cwd),
                   "bash --norc --noprofile")  # fmt: skip

    def _tmux(self, *args: str) -> str:
        done = subprocess.run(
            ["tmux", "-L", self.socket, "-f", "/dev/null", *args],
            capture_output=True, text=True, timeout=30, check=True,
        )  # fmt: skip
        return done.stdout

    def type(self, text: str) -> None:
        self._tmux("send-keys", "-t", "w", "-l", text)

    def key(self, name: str) -> None:
        self._tmux("send-keys", "-t", "w", name)

    def enter(self, line: str) -> None:
        self.type(line)
        self.key("Enter")

    def screen(self) -> str:
        return self._tmux("capture-pane", "-p", "-t", "w")

    def wait_for(self, done: Callable[[str], bool], what: str, seen: list[str] | None = None) -> str:
        """Capture until ``done(screen)``; every distinct screen is kept in ``seen``."""
        deadline = time.monotonic() + DEADLINE_S
        screen = ""
        while time.monotonic() < deadline:
            screen = self.screen()
            if seen is not None and (not seen or seen[-1] != screen):
                seen.append(screen)
            if done(screen):
                return screen
            time.sleep(0.05)
        raise AssertionError(f"timed out waiting for {what}; last screen:\n{screen}")

    def kill(self) -> None:
        subprocess.run(
            ["tmux", "-L", self.socket, "kill-server"], capture_output=True, timeout=30, check=False
        )


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
    pane = Pane(planned_scenario)
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
