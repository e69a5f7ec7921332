"""``ralph status``: Ralph's own state (spec, stage, iteration), the last run's summary and ticket counts."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ralph.ledger import read_runs
from ralph.loop.session import open_store, root_of
from ralph.loop.state import load_state
from ralph.settings import Settings
from ralph.tix import TaskStatus

__all__ = ["repo_status"]


def repo_status(repo: Path, settings: Settings) -> dict[str, Any]:
    """A JSON-ready view of where the loop stands in ``repo``."""
    root = root_of(repo)
    store = open_store(root)
    state = load_state(root)
    spec = state.spec
    tasks = [t for t in store.tasks(status=tuple(TaskStatus)) if spec is None or t.spec in ("", spec)]
    counts = {status.label: sum(1 for t in tasks if t.status is status) for status in TaskStatus}
    issues = [i for i in store.issues(open_only=True) if spec is None or i.spec in ("", spec)]
    return {
        "repo": str(root),
        "spec": spec,
        "stage": state.stage.value if state.stage else None,
        "running": state.running,
        "task_id": state.task_id,
        "iteration": state.iteration,
        "run_id": state.run_id,
        "tasks": counts,
        "issues": len(issues),
        "last_run": _last_run(Path(settings.log_dir), root),
    }


def _last_run(log_dir: Path, root: Path) -> dict[str, Any] | None:
    if not (log_dir / "runs.jsonl").exists():
        return None
    runs = [r for r in read_runs(log_dir) if r.worktree == str(root)]
    if not runs:
        return None
    last = runs[-1]
    keys = ("run_id", "spec", "exit_reason", "iterations", "cost", "duration_s", "started_at", "ended_at")
    view = {k: getattr(last, k) for k in keys}
    view["tasks"] = {
        "total": last.tasks.total,
        "completed": last.tasks.completed,
        "failed": last.tasks.failed,
    }
    return view
