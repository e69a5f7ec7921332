"""``ralph bench collect``: everything about a finished cell, written into ``results/<cell>/``.

Store state (``tix-full.json`` = ``tix query full``, ``tix-report.txt`` = ``tix report``), git log, diffstat
and shortstat since BASE_REF, build/test/gate logs and exit files, ``ralph-state.json``, and the cell's own
ledger lines (by run id) under ``ledger/``.
"""

from __future__ import annotations

import json
import shutil
from dataclasses import dataclass
from pathlib import Path

from ralph.bench.analysis import GateOutcome
from ralph.bench.collected import write_gate
from ralph.bench.experiment import Cell, Experiment
from ralph.bench.gates import run_gate
from ralph.bench.gather import cell_runs
from ralph.bench.ledger_files import copy_run_lines
from ralph.errors import StoreError, UsageError
from ralph.gitops import diffstat_since, log_since
from ralph.gitops.command import git
from ralph.tix import TicketStore
from ralph.tix.text import report_text

__all__ = ["CollectResult", "collect_cell"]


@dataclass(frozen=True)
class CollectResult:
    """What was collected for one cell."""

    cell: str
    build: GateOutcome | None
    test: GateOutcome | None
    gates: tuple[GateOutcome, ...]
    commits: int
    insertions: int
    deletions: int
    run_ids: tuple[str, ...]
    ledger_lines: dict[str, int]


def _store_state(worktree: Path, folder: Path) -> None:
    try:
        store = TicketStore.open(worktree)
    except StoreError as err:
        (folder / "tix-report.txt").write_text(f"no ticket store: {err}\n", encoding="utf-8")
        return
    (folder / "tix-full.json").write_text(json.dumps(store.full(), indent=2) + "\n", encoding="utf-8")
    (folder / "tix-report.txt").write_text(report_text(store) + "\n", encoding="utf-8")
    state = worktree / ".tix" / "ralph-state.json"
    if state.is_file():
        shutil.copyfile(state, folder / "ralph-state.json")


def _git_stats(exp: Experiment, cell: Cell, folder: Path) -> tuple[int, int, int]:
    commits = log_since(cell.worktree, exp.base_ref)
    lines = [f"{c.sha[:12]} {c.subject}" for c in commits]
    (folder / "git-log.txt").write_text("".join(f"{line}\n" for line in lines), encoding="utf-8")
    span = f"{exp.base_ref}..HEAD"
    stat = git(cell.worktree, "diff", "--no-color", "--stat", span).text
    (folder / "git-diffstat.txt").write_text(stat + "\n", encoding="utf-8")
    short = git(cell.worktree, "diff", "--no-color", "--shortstat", span).text
    (folder / "git-shortstat.txt").write_text(short + "\n", encoding="utf-8")
    numbers = diffstat_since(cell.worktree, exp.base_ref)
    return len(commits), numbers.insertions, numbers.deletions


def _checks(
    exp: Experiment, cell: Cell, folder: Path
) -> tuple[GateOutcome | None, GateOutcome | None, list[GateOutcome]]:
    fixed: list[GateOutcome | None] = []
    for kind, gate in (("build", exp.build), ("test", exp.test)):
        if gate is None:
            fixed.append(None)
            continue
        outcome, output = run_gate(gate, cell.worktree)
        fixed.append(write_gate(folder, kind, outcome, output))
    gates = []
    for gate in exp.gates:
        outcome, output = run_gate(gate, cell.worktree)
        gates.append(write_gate(folder, "gate", outcome, output))
    return fixed[0], fixed[1], gates


def collect_cell(exp: Experiment, cell: Cell) -> CollectResult:
    """Collect one cell (re-collecting overwrites the previous files)."""
    if not (cell.worktree / ".git").exists():
        raise UsageError(f"no worktree for {cell.name}; run `ralph bench setup` first")
    folder = cell.results
    folder.mkdir(parents=True, exist_ok=True)
    _store_state(cell.worktree, folder)
    commits, insertions, deletions = _git_stats(exp, cell, folder)
    build, test, gates = _checks(exp, cell, folder)
    run_ids = tuple(r.run_id for r in cell_runs(exp, cell.name))
    copied = copy_run_lines(exp.log_dir, run_ids, folder / "ledger")
    return CollectResult(
        cell.name, build, test, tuple(gates), commits, insertions, deletions, run_ids, copied
    )
