"""A repository with a ticket store and a run's live files, written by the loop's and the ledger's own
writers (save_state, LedgerWriter), the way a running ``ralph construct`` leaves them."""

from __future__ import annotations

import os
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from ralph.ledger import IterationRecord, LedgerWriter, RunRecord
from ralph.ledger.records import RunPhase, TaskTotals
from ralph.loop.state import LoopState, save_state
from ralph.stage import Stage
from ralph.tix import TicketStore


@dataclass
class LiveRun:
    """Writes what the loop writes for one run of ``repo``."""

    repo: Path
    log_dir: Path
    run_id: str
    task_id: str
    pid: int = field(default_factory=os.getpid)
    ledger: LedgerWriter = field(init=False)

    def __post_init__(self) -> None:
        self.ledger = LedgerWriter(self.log_dir)

    @property
    def activity(self) -> Path:
        return self.log_dir / "activity" / f"{self.run_id}.log"

    def save(self, **changes: Any) -> LoopState:
        now = time.time()
        values: dict[str, Any] = {
            "spec": "demo.md",
            "stage": Stage.BUILD,
            "running": True,
            "task_id": self.task_id,
            "iteration": 2,
            "run_id": self.run_id,
            "pid": self.pid,
            "started_at": now - 65,
            "updated_at": now,
            "limits": {"max_iterations": 10, "max_cost": 1.0, "max_wall_time_s": 3600.0},
            "totals": {"cost": 0.1234, "tokens": 45_000, "api_calls_remote": 9, "api_calls_local": 4},
            "context_pct": 37.5,
            "activity_log": str(self.activity),
            "simulated": True,
        }
        values.update(changes)
        state = LoopState(**values)
        save_state(self.repo, state)
        return state

    def start(self, **fields: Any) -> None:
        self.ledger.append_run(
            RunRecord(
                run_id=self.run_id, spec="demo.md", profile="hybrid", extra={"simulated": True}, **fields
            )
        )

    def stage(self, stage: str, **fields: Any) -> None:
        self.ledger.append_iteration(
            IterationRecord(run_id=self.run_id, iteration=fields.pop("iteration", 1), stage=stage, **fields)
        )

    def end(self, reason: str, **fields: Any) -> None:
        self.ledger.append_run(
            RunRecord(
                run_id=self.run_id,
                record=RunPhase.END,
                spec="demo.md",
                exit_reason=reason,
                tasks=TaskTotals(total=2, completed=1),
                **fields,
            )
        )

    def say(self, *lines: str) -> None:
        self.activity.parent.mkdir(parents=True, exist_ok=True)
        with self.activity.open("a", encoding="utf-8") as fh:
            fh.writelines(f"12:00:00 {line}\n" for line in lines)


def make_store_repo(repo: Path) -> str:
    """Make ``repo`` a git repository with a ticket store holding two tasks of ``demo.md`` (one accepted);
    return the id of the pending one."""
    repo.mkdir(parents=True, exist_ok=True)
    subprocess.run(["git", "init", "-q", "-b", "main", str(repo)], check=True)
    (repo / "README.md").write_text("test repo\n")
    subprocess.run(["git", "-C", str(repo), "add", "README.md"], check=True)
    subprocess.run(["git", "-C", str(repo), "commit", "-q", "-m", "init"], check=True)
    with TicketStore.init(repo) as store:
        first = store.add_task({"name": "Split the heap module", "spec": "demo.md"})
        second = store.add_task({"name": "Add a string table", "spec": "demo.md"})
        store.done(first.id)
        store.accept(first.id)
    return second.id


@pytest.fixture
def live_run(tmp_path: Path) -> LiveRun:
    """A repository with a ticket store whose run writes its ledger to ``tmp_path/logs``."""
    repo = tmp_path / "repo"
    task_id = make_store_repo(repo)
    return LiveRun(repo=repo, log_dir=tmp_path / "logs", run_id="20270115_080000_aaaaaa", task_id=task_id)


@pytest.fixture
def store_repo(live_run: LiveRun) -> Path:
    return live_run.repo
