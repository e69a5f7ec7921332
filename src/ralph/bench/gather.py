"""Gather an experiment's cells from its ledger and results folder, then analyze them.

A run belongs to a cell by its branch (``exp/<experiment>/<cell>``), else by its worktree path. Runs of the
earlier ralph that match neither but name one of the experiment's profiles become one cell per run
(``<profile>``, or ``<profile>-<k>`` in start order), as the earlier analyze.py listed them.
"""

from __future__ import annotations

import os
from collections import defaultdict
from collections.abc import Sequence
from pathlib import Path

from ralph.bench.analysis import Analysis, ArmInfo, CellInput
from ralph.bench.analyze import analyze
from ralph.bench.collected import read_correctness
from ralph.bench.experiment import Arm, Cell, Experiment
from ralph.bench.facts import RunFacts
from ralph.bench.fold import fold_cache_dir, fold_ledgers
from ralph.bench.ledger_files import read_run_facts

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


def _cells(exp: Experiment, arms: Sequence[Arm]) -> list[Cell]:
    return [exp.cell(arm, k) for arm in arms for k in range(1, exp.replicates + 1)]


def _assign(
    exp: Experiment, arms: Sequence[Arm], runs: Sequence[RunFacts], with_plan: bool = False
) -> dict[str, list[RunFacts]]:
    """Cell name -> its runs (plan runs only when ``with_plan``); earlier-format runs matched by profile get
    cells of their own."""
    return _assign_cells(exp, _cells(exp, arms), arms, runs, with_plan)


def _assign_cells(
    exp: Experiment, cells: Sequence[Cell], arms: Sequence[Arm], runs: Sequence[RunFacts], with_plan: bool
) -> dict[str, list[RunFacts]]:
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


def _cell_order(
    cells: Sequence[Cell], arms: Sequence[Arm], names: Sequence[str]
) -> list[tuple[str, str, int]]:
    """(cell, arm, replicate) in arm order, then replicate order."""
    known = {c.name: (c.arm.name, c.replicate) for c in cells}
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


def _plain(name: str) -> bool:
    """A name that ``os.listdir`` of its parent would list as it is."""
    return name not in ("", ".", "..") and os.sep not in name and (os.altsep is None or os.altsep not in name)


def _listing(folder: Path) -> set[str]:
    try:
        return set(os.listdir(folder))
    except OSError:
        return set()


def gather_cells(
    exp: Experiment, arm: str | None = None, warnings: list[str] | None = None
) -> list[CellInput]:
    """Every cell of ``exp`` (or of one arm) that has at least one run in the ledger; unreadable ledger lines
    are skipped and reported in ``warnings``."""
    arms = [exp.arm(arm)] if arm else list(exp.arms)
    dirs = ledger_dirs(exp)
    notes = warnings if warnings is not None else []
    every = _runs(dirs, notes)
    known = _cells(exp, arms)
    assigned = _assign_cells(exp, known, arms, every, False)
    if not assigned:
        where = ", ".join(map(str, dirs)) or f"{exp.log_dir} (missing)"
        notes.append(f"no runs of experiment {exp.name} in {where}")
    wanted = {r.run_id for runs in assigned.values() for r in runs}
    # the byte-level skip of other runs' lines only pays when there are other runs
    activity = fold_ledgers(dirs, wanted, notes, prefilter=len(wanted) < len(every), cache=fold_cache_dir())
    labels = [g.label for g in exp.gates]
    collected = _listing(exp.results_dir)  # a cell without a results folder has nothing collected
    cells = []
    for name, arm_name, k in _cell_order(known, arms, list(assigned)):
        runs = tuple(sorted(assigned[name], key=lambda r: r.started_at))
        folder = exp.results_dir / name
        found = name in collected or not _plain(name)
        cells.append(
            CellInput(
                cell=name,
                arm=arm_name,
                replicate=k,
                runs=runs,
                activity=tuple(activity[r.run_id] for r in runs if r.run_id in activity),
                correctness=read_correctness(folder, labels) if found else None,
                files=str(folder),
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
