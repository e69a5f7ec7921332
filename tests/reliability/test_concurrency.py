"""Eight constructs in eight worktrees of one repository share one log folder while four processes add notes
to the ticket store of the first: no line is lost or interleaved, every record names its run, and each run's
end record matches its own lines."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from tests.reliability.concurrency import check_notes, check_run_adds_up, ledger, make_worktrees, run_all
from tests.reliability.harness import full_size, record_figure

ITERATIONS = 50 if full_size() else 3
"""Full size runs every construct to its end (the scenario takes 9 iterations with this profile)."""


@pytest.mark.parametrize(("runs", "iterations", "writers", "notes"), [(8, ITERATIONS, 4, 25)])
def test_concurrent_runs_and_ticket_writers_lose_nothing(
    planned_repo: Callable[..., Path], tmp_path: Path, runs: int, iterations: int, writers: int, notes: int
) -> None:
    trees = make_worktrees(planned_repo("opus"), tmp_path / "cells", runs)
    logs = tmp_path / "logs"
    run_all(trees, logs, ("--max-iterations", str(iterations)), writers, notes)
    files = ledger(logs)
    starts = [r for r in files["runs.jsonl"] if r["record"] == "start"]
    ends = {r["run_id"]: r for r in files["runs.jsonl"] if r["record"] == "end"}
    assert len(starts) == runs and set(ends) == {r["run_id"] for r in starts}
    assert {r["worktree"] for r in starts} == {str(t) for t in trees}
    for name in ("iterations.jsonl", "calls.jsonl"):
        assert {r["run_id"] for r in files[name]} == set(ends), f"{name}: a line of no run"
    for run_id, end in ends.items():
        mine = [r for r in files["iterations.jsonl"] if r["run_id"] == run_id]
        calls = [r for r in files["calls.jsonl"] if r["run_id"] == run_id]
        check_run_adds_up(end, mine, calls)
        assert end["iterations"] == iterations or end["exit_reason"] == "complete"
    check_notes(trees[0], writers, notes)
    lines = sum(len(records) for records in files.values())
    record_figure(
        "concurrency", constructs=runs, note_writers=writers, notes=writers * notes, ledger_lines=lines
    )
