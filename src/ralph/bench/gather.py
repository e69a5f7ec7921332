"""Gather an experiment's cells from its ledger and results folder, then analyze them.

A run belongs to a cell by its branch (``exp/<experiment>/<cell>``), else by its worktree path. Runs of the
earlier ralph that match neither but name one of the experiment's profiles become one cell per run
(``<profile>``, or ``<profile>-<k>`` in start order), as the earlier analyze.py listed them.
"""

from __future__ import annotations

import os
from collections import defaultdict
from collections.abc import Collection, Iterator, Sequence
from pathlib import Path
from typing import Any

from ralph.bench.analysis import Analysis, ArmInfo, CellInput
from ralph.bench.analyze import analyze
from ralph.bench.collected import read_correctness
from ralph.bench.experiment import Arm, Experiment
from ralph.bench.facts import RunFacts
from ralph.bench.fold import fold_iterations
from ralph.bench.ledger_files import read_run_facts
from ralph.ledger import iter_iterations

__all__ = ["analyze_experiment", "arm_info", "cell_runs", "gather_cells", "ledger_dirs"]


def arm_info(arm: Arm) -> ArmInfo:
    changes = tuple((key, _show(value)) for key, value in arm.changes.items())
    return ArmInfo(arm.name, arm.profile, arm.base, changes, arm.description)


def _show(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def ledger_dirs(exp: Experiment) -> list[Path]:
    """The experiment's log dir when it has runs, else the ledgers ``collect`` copied per cell."""
    if (exp.log_dir / "runs.jsonl").is_file():
        return [exp.log_dir]
    if not exp.results_dir.is_dir():
        return []
    return sorted(p.parent for p in exp.results_dir.glob("*/ledger/runs.jsonl"))


def _runs(dirs: Sequence[Path], warnings: list[str] | None = None) -> list[RunFacts]:
    seen: dict[str, RunFacts] = {}
    for folder in dirs:
        for run in read_run_facts(folder, warnings):
            if run.run_id not in seen or seen[run.run_id].exit_reason is None:
                seen[run.run_id] = run
    return list(seen.values())


def _iterations(
    dirs: Sequence[Path], run_ids: Collection[str] | None, warnings: list[str]
) -> Iterator[dict[str, Any]]:
    for folder in dirs:
        yield from iter_iterations(folder, run_ids, warnings)


def _assign(
    exp: Experiment, arms: Sequence[Arm], runs: Sequence[RunFacts], with_plan: bool = False
) -> dict[str, list[RunFacts]]:
    """Cell name -> its runs (plan runs only when ``with_plan``); earlier-format runs matched by profile get
    cells of their own."""
    cells = [exp.cell(arm, k) for arm in arms for k in range(1, exp.replicates + 1)]
    by_branch = {c.branch: c.name for c in cells}
    by_tree: dict[str, str] = {}
    names = {arm.name for arm in arms}
    found: dict[str, list[RunFacts]] = defaultdict(list)
    loose: dict[str, list[RunFacts]] = defaultdict(list)
    for run in runs:
        if (run.experiment is not None and run.experiment != exp.name) or (run.is_plan and not with_plan):
            continue
        cell = by_branch.get(run.branch)
        if cell is None and run.worktree:
            by_tree = by_tree or {os.path.realpath(c.worktree): c.name for c in cells}
            cell = by_tree.get(os.path.realpath(run.worktree))
        if cell is not None:
            found[cell].append(run)
        elif run.experiment is None and run.profile in names:
            loose[run.profile].append(run)
    arm_of = {c.name: c.arm.name for c in cells}
    taken = {arm_of[name] for name in found}
    for profile, extra in loose.items():
        if profile in taken:
            continue
        for k, run in enumerate(sorted(extra, key=lambda r: r.started_at), start=1):
            found[profile if len(extra) == 1 else f"{profile}-{k}"].append(run)
    return found


def _cell_order(exp: Experiment, arms: Sequence[Arm], names: Sequence[str]) -> list[tuple[str, str, int]]:
    """(cell, arm, replicate) in arm order, then replicate order."""
    known = {exp.cell(a, k).name: (a.name, k) for a in arms for k in range(1, exp.replicates + 1)}
    out = []
    for name in names:
        arm, k = known.get(name) or _loose_identity(name, arms)
        out.append((name, arm, k))
    order = {a.name: i for i, a in enumerate(arms)}
    return sorted(out, key=lambda item: (order.get(item[1], len(order)), item[2], item[0]))


def _loose_identity(name: str, arms: Sequence[Arm]) -> tuple[str, int]:
    for arm in arms:
        if name == arm.name:
            return arm.name, 1
        if name.startswith(arm.name + "-") and name[len(arm.name) + 1 :].isdigit():
            return arm.name, int(name[len(arm.name) + 1 :])
    return name, 1


def _results(exp: Experiment, cell: str) -> Path:
    return exp.results_dir / cell


def gather_cells(
    exp: Experiment, arm: str | None = None, warnings: list[str] | None = None
) -> list[CellInput]:
    """Every cell of ``exp`` (or of one arm) that has at least one run in the ledger; unreadable ledger lines
    are skipped and reported in ``warnings``."""
    arms = [exp.arm(arm)] if arm else list(exp.arms)
    dirs = ledger_dirs(exp)
    notes = warnings if warnings is not None else []
    every = _runs(dirs, notes)
    assigned = _assign(exp, arms, every)
    if not assigned:
        where = ", ".join(map(str, dirs)) or f"{exp.log_dir} (missing)"
        notes.append(f"no runs of experiment {exp.name} in {where}")
    wanted = {r.run_id for runs in assigned.values() for r in runs}
    skip = (
        wanted if len(wanted) < len(every) else None
    )  # the reader's byte-level skip only pays when it skips
    activity = fold_iterations(_iterations(dirs, skip, notes), wanted)
    labels = [g.label for g in exp.gates]
    cells = []
    for name, arm_name, k in _cell_order(exp, arms, list(assigned)):
        runs = tuple(sorted(assigned[name], key=lambda r: r.started_at))
        cells.append(
            CellInput(
                cell=name,
                arm=arm_name,
                replicate=k,
                runs=runs,
                activity=tuple(activity[r.run_id] for r in runs if r.run_id in activity),
                correctness=read_correctness(_results(exp, name), labels),
                files=str(_results(exp, name)),
            )
        )
    return cells


def analyze_experiment(exp: Experiment, arm: str | None = None) -> Analysis:
    """Gather and analyze in one call (what ``ralph bench analyze`` runs)."""
    arms = [exp.arm(arm)] if arm else list(exp.arms)
    warnings: list[str] = []
    cells = gather_cells(exp, arm, warnings)
    labels = [g.label for g in exp.gates]
    infos = [arm_info(a) for a in arms]
    return analyze(exp.name, infos, cells, gate_labels=labels, seed=exp.seed, warnings=warnings)


def cell_runs(exp: Experiment, cell: str) -> list[RunFacts]:
    """The runs of one cell in the experiment's log dir (its plan run too), in start order."""
    assigned = _assign(exp, list(exp.arms), _runs([exp.log_dir]), with_plan=True)
    return sorted(assigned.get(cell, []), key=lambda r: r.started_at)
