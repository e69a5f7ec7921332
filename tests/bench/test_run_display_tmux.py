"""`ralph bench run --all` in a real terminal (tmux): the live Rich table over real simulated cells.

The bundled scenario gets a three-cell experiment (opus and sonnet: remote, sharing the one cloud slot;
devstral: local-only), set up and planned with the `ralph` command. In the pane:

1. `bench run --all`, Ctrl-C once opus is running past its first iteration: exit 130, opus interrupted (130),
   sonnet still pending.
2. `bench run --all` again: the cells are resumed/started and run to the end. While running, a cell shows
   running with an iteration > 0 and a stage; sonnet is pending, noted "waiting for the cloud slot", while
   opus runs and devstral runs beside them; never two remote cells at once. At the end every cell is
   finished with its exit code, tasks done/total (tasks DECOMPOSE added included) and a non-zero elapsed
   time; exit 0.
3. `bench run --all` once more: nothing starts, every row is as before,
   noted "skipped: finished"; exit 0.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from tests.terminal import Pane

from ralph.scenarios import create_scenario
from ralph.tix import TicketStore

RALPH = str(Path(sys.executable).parent / "ralph")
DEADLINE_S = 120.0
CELLS = ("opus", "sonnet", "devstral")
REMOTE = ("opus", "sonnet")
HEADERS = ["Cell", "Profile", "Status", "Iter", "Stage", "Tasks", "Cost", "Elapsed", "Note"]
STAGES = {"INVESTIGATE", "BUILD", "VERIFY", "DECOMPOSE", "DEDUP", "COMPLETE"}

pytestmark = [
    pytest.mark.skipif(shutil.which("tmux") is None, reason="tmux is not installed"),
    pytest.mark.timeout(600),
]


def _ralph(*args: str, cwd: Path) -> None:
    done = subprocess.run([RALPH, *args], cwd=cwd, capture_output=True, text=True, timeout=300, check=False)
    assert done.returncode == 0, f"ralph {' '.join(args)} -> {done.returncode}\n{done.stdout}\n{done.stderr}"


@pytest.fixture
def root(tmp_path: Path) -> Path:
    """``exp/``: three cells (opus, sonnet, devstral; one replicate, 3 iterations) set up and planned."""
    target = create_scenario("c-runtime-refactor", tmp_path / "target").repo
    (tmp_path / "exp").mkdir()
    (tmp_path / "exp" / "experiment.toml").write_text(
        f'target_repo = "{target}"\nbase_ref = "main"\nspec = "runtime-refactor.md"\n'
        f"profiles = {json.dumps(list(CELLS))}\nreplicates = 1\nseed = 5\n"
        "[limits]\nmax_iterations = 3\nmax_wall_time_s = 600\n"
        "[concurrency]\ncloud = 1\nlocal = 1\n"
    )
    _ralph("bench", "setup", "exp", cwd=tmp_path)
    _ralph("bench", "plan", "exp", cwd=tmp_path)
    return tmp_path


@pytest.fixture
def pane(root: Path) -> Iterator[Pane]:
    pane = Pane(root, size=(160, 50), deadline_s=DEADLINE_S, poll_s=0.1)
    try:
        yield pane
    finally:
        pane.kill()


def table(screen: str) -> dict[str, dict[str, str]]:
    """The progress table's rows by cell ({} without title and header); rows cut mid-redraw are left out."""
    lines = screen.splitlines()
    titles = [i for i, line in enumerate(lines) if line.rstrip() == "ralph bench run"]
    if not titles:
        return {}
    rows: dict[str, dict[str, str]] = {}
    header: list[str] = []
    for line in lines[titles[-1] + 1 :]:
        if line.startswith("┃"):
            header = [c.strip() for c in line.strip().strip("┃").split("┃")]
        elif line.startswith("│") and header == HEADERS:
            values = [c.strip() for c in line.strip().strip("│").split("│")]
            if len(values) == len(HEADERS) and values[0] in CELLS:
                rows[values[0]] = dict(zip(HEADERS, values, strict=True))
        elif line.startswith("└"):
            break
    return rows if header == HEADERS else {}


def exit_of(screen: str, run: int) -> int | None:
    found = re.search(rf"^run-exit-{run}=(\d+)$", screen, re.M)
    return int(found.group(1)) if found else None


def bench_run(pane: Pane, run: int) -> None:
    pane.enter("clear")
    pane.wait_for(lambda s: "ralph bench run" not in s, "the screen to clear")
    pane.enter(f"{RALPH} bench run exp --all; echo run-exit-{run}=$?")


def running(rows: dict[str, dict[str, str]]) -> set[str]:
    return {c for c, r in rows.items() if r["Status"] == "running"}


def busy(row: dict[str, str]) -> bool:
    """Running past its first iteration, in a stage."""
    return row["Status"] == "running" and int(row["Iter"]) > 0 and row["Stage"] in STAGES


def meta(root: Path, cell: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((root / "exp" / "results" / cell / "experiment-meta.json").read_text())
    return data


def test_bench_run_live_table_in_a_terminal(root: Path, pane: Pane) -> None:
    # 1. Ctrl-C while opus is past its first iteration.
    bench_run(pane, 1)
    seen: list[str] = []
    pane.wait_for(lambda s: busy(table(s).get("opus", {"Status": ""})), "opus running past iteration 1", seen)
    pane.key("C-c")
    end = pane.wait_for(lambda s: exit_of(s, 1) is not None, "the interrupted run to exit", seen)
    assert exit_of(end, 1) == 130, end
    assert "run it again to resume" in end
    rows = table(end)
    assert rows["opus"]["Status"] == "interrupted (130)", end
    assert rows["sonnet"]["Status"] == "pending" and rows["sonnet"]["Elapsed"] == "0m00s", end
    assert not running(rows) and all(r["Stage"] == "-" for r in rows.values()), end
    assert meta(root, "opus")["status"] == "interrupted" and meta(root, "opus")["exit_code"] == 130
    assert all(len(running(table(s)) & set(REMOTE)) <= 1 for s in seen)

    # 2. Run again to the end.
    bench_run(pane, 2)
    seen = []
    end = pane.wait_for(lambda s: exit_of(s, 2) is not None, "the full run to exit", seen)
    assert exit_of(end, 2) == 0, end
    frames = [table(s) for s in seen]
    frames = [f for f in frames if set(f) == set(CELLS)]
    assert frames, seen[-1]
    assert any(any(busy(r) for r in f.values()) for f in frames), "no cell shown running in a stage"
    # The cloud slot: sonnet waits while opus runs, and the local-only devstral runs beside opus.
    waits = [
        f["sonnet"] for f in frames if f["opus"]["Status"] == "running" and f["sonnet"]["Status"] == "pending"
    ]
    assert waits and all(r["Note"] == "waiting for the cloud slot" for r in waits), waits
    assert any(running(f) == {"opus", "devstral"} for f in frames)
    assert any(f["sonnet"]["Status"] == "running" for f in frames)
    assert all(len(running(f) & set(REMOTE)) <= 1 for f in frames)
    final = table(end)
    assert set(final) == set(CELLS), end
    for cell, row in final.items():
        status = re.fullmatch(r"finished \((\d+)\)", row["Status"])
        assert status and int(status.group(1)) in (0, 3, 4), end
        assert int(status.group(1)) == meta(root, cell)["exit_code"]
        assert row["Profile"] == cell and row["Stage"] == "-" and int(row["Iter"]) >= 1, end
        tasks = re.fullmatch(r"(\d+)/(\d+)", row["Tasks"])
        assert tasks and int(tasks.group(2)) > 0 and int(tasks.group(1)) <= int(tasks.group(2)), end
        assert re.fullmatch(r"\d+m\d\ds", row["Elapsed"]) and row["Elapsed"] != "0m00s", end
        assert re.fullmatch(r"\$\d+\.\d\d", row["Cost"]), end
    assert final["opus"]["Cost"] != "$0.00" and final["devstral"]["Cost"] == "$0.00"
    attempts = {c: len(meta(root, c)["attempts"]) for c in CELLS}
    assert attempts["opus"] == 2 and attempts["sonnet"] == 1 and attempts["devstral"] >= 1

    # 3. Once more: every cell is skipped, nothing starts, the rows are unchanged.
    bench_run(pane, 3)
    seen = []
    again = pane.wait_for(lambda s: exit_of(s, 3) is not None, "the skipping run to exit", seen)
    assert exit_of(again, 3) == 0, again
    assert not any(running(table(s)) for s in seen)
    rows = table(again)
    assert {c: r["Note"] for c, r in rows.items()} == dict.fromkeys(CELLS, "skipped: finished"), again
    # The same rows (the final table of run 2 already counted the tasks DECOMPOSE added while it ran).
    assert {c: {**r, "Note": ""} for c, r in rows.items()} == final, f"{end}\n{again}"
    for cell, row in rows.items():
        worktree = root / "target-experiments" / "exp" / cell
        assert row["Tasks"].endswith(f"/{TicketStore.open(worktree).counts().total}"), again
    assert {c: len(meta(root, c)["attempts"]) for c in CELLS} == attempts
