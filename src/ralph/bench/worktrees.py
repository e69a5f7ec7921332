"""``ralph bench setup`` and ``ralph bench plan``: one worktree per cell from BASE_REF, then one plan commit
shared by every cell of the same spec (fast-forwarded where possible, so the commit is the very same)."""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from ralph.bench.experiment import Cell, Experiment
from ralph.bench.launch import cell_env, plan_argv
from ralph.bench.loading import resolve_spec, validate_experiment
from ralph.errors import RalphError, UsageError
from ralph.gitops import bring_commit, commit_paths, create_worktree, resolve
from ralph.gitops.command import git
from ralph.proc import run_command
from ralph.tix import TicketStore

__all__ = ["PLAN_FILE", "PlanResult", "SetupResult", "plan_experiment", "setup_experiment"]

PLAN_FILE = "plan.json"
PLAN_TIMEOUT_S = 3600.0


@dataclass(frozen=True)
class SetupResult:
    cell: str
    worktree: Path
    branch: str
    created: bool


@dataclass(frozen=True)
class PlanResult:
    """The plan commit of one spec and how each cell got it (planned, fast-forward, cherry-pick, already)."""

    spec: str
    commit: str
    planned_in: str
    cells: dict[str, str]


def setup_experiment(exp: Experiment, cells: Sequence[Cell] | None = None) -> list[SetupResult]:
    """Create (or reuse) every cell's worktree and Ralph-marked branch; the user's checkout is untouched."""
    validate_experiment(exp)
    out = []
    for cell in cells or exp.cells():
        existed = (cell.worktree / ".git").exists()
        cell.worktree.parent.mkdir(parents=True, exist_ok=True)
        create_worktree(exp.target_repo, cell.worktree, cell.branch, exp.base_ref)
        cell.results.mkdir(parents=True, exist_ok=True)
        out.append(SetupResult(cell.name, cell.worktree, cell.branch, not existed))
    return out


def _groups(exp: Experiment, first_arm: str | None) -> dict[str, list[Cell]]:
    """Cells by spec; the cell that plans comes first (the first cell of ``first_arm`` when given)."""
    if first_arm is not None:
        exp.arm(first_arm)
    groups: dict[str, list[Cell]] = {}
    for cell in exp.cells():
        groups.setdefault(exp.spec_of(cell.arm), []).append(cell)
    for cells in groups.values():
        cells.sort(key=lambda c: (c.arm.name != first_arm, 0))
    return groups


def _load_plans(exp: Experiment) -> dict[str, dict[str, str]]:
    try:
        data = json.loads((exp.results_dir / PLAN_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def _run_plan(exp: Experiment, cell: Cell, spec_path: str) -> None:
    done = run_command(
        plan_argv(exp, cell.arm, spec_path),
        cwd=cell.worktree,
        timeout_s=PLAN_TIMEOUT_S,
        env=cell_env(cell.arm),
    )
    cell.results.mkdir(parents=True, exist_ok=True)
    (cell.results / "plan.log").write_text(done.stdout + done.stderr, encoding="utf-8")
    if not done.ok:
        tail = (done.stderr or done.stdout).strip().splitlines()
        raise RalphError(f"ralph plan failed in {cell.name}: {tail[-1] if tail else done.returncode}")


def _plan_commit(
    exp: Experiment, cell: Cell, spec: str, known: dict[str, str] | None, echo: Callable[[str], None]
) -> str:
    """The plan commit: the recorded one if the planning cell still has it, else plan now and commit."""
    head = resolve(cell.worktree, "HEAD")
    if known and head and _contains(cell.worktree, known["commit"]):
        return known["commit"]
    base = resolve(exp.target_repo, exp.base_ref)
    if head != base:
        raise UsageError(f"{cell.name} has commits beyond {exp.base_ref}; plan only fresh cells")
    echo(f"planning {spec} in {cell.name}")
    _run_plan(exp, cell, resolve_spec(exp, spec))
    if resolve(cell.worktree, "HEAD") == base:
        message = f"ralph: bench plan {spec} for {exp.name}"
        if commit_paths(cell.worktree, [".tix", "ralph"], message) is None:
            raise RalphError(f"ralph plan left nothing to commit in {cell.name}")
    sha = resolve(cell.worktree, "HEAD")
    assert sha is not None
    return sha


def _contains(worktree: Path, sha: str) -> bool:
    return git(worktree, "merge-base", "--is-ancestor", sha, "HEAD", ok=(0, 1, 128)).returncode == 0


def _bring(cell: Cell, sha: str) -> str:
    """Give ``cell`` the plan commit: fast-forward when it is still at the base, else cherry-pick."""
    if _contains(cell.worktree, sha):
        return "already"
    if git(cell.worktree, "merge", "--ff-only", "-q", sha, ok=(0, 1, 128)).returncode == 0:
        return "fast-forward"
    return "cherry-pick" if bring_commit(cell.worktree, sha) else "already"


def _adopt(cell: Cell, planned_on: str) -> int:
    """Tasks are branch-scoped: re-home the copied plan's tasks to the cell's branch, in their own commit."""
    ids = TicketStore.open(cell.worktree).adopt(planned_on)
    if ids:
        commit_paths(cell.worktree, [".tix"], f"ralph: bench cell {cell.name} adopts the shared plan's tasks")
    return len(ids)


def plan_experiment(
    exp: Experiment, first_arm: str | None = None, echo: Callable[[str], None] = lambda _: None
) -> list[PlanResult]:
    """Plan each spec once and bring its commit into every cell of that spec; idempotent."""
    missing = [c.name for c in exp.cells() if not (c.worktree / ".git").exists()]
    if missing:
        raise UsageError(f"no worktree for {', '.join(missing)}; run `ralph bench setup` first")
    plans = _load_plans(exp)
    results = []
    for spec, cells in _groups(exp, first_arm).items():
        sha = _plan_commit(exp, cells[0], spec, plans.get(spec), echo)
        plans[spec] = {"commit": sha, "cell": cells[0].name}
        _save_plans(exp, plans)
        how = {cells[0].name: "planned"}
        for cell in cells[1:]:
            how[cell.name] = _bring(cell, sha)
            adopted = _adopt(cell, cells[0].branch)
            how[cell.name] += f", {adopted} tasks adopted" if adopted else ""
        results.append(PlanResult(spec, sha, cells[0].name, how))
    return results


def _save_plans(exp: Experiment, plans: dict[str, dict[str, str]]) -> None:
    exp.results_dir.mkdir(parents=True, exist_ok=True)
    (exp.results_dir / PLAN_FILE).write_text(json.dumps(plans, indent=2) + "\n", encoding="utf-8")
