"""Reading one repository's live files for ``ralph watch``: the state file, the run's ledger lines, the
activity log and the ticket store. Nothing here writes; a file that is missing or half-written reads as
"nothing yet".
"""

from __future__ import annotations

import os
import sqlite3
from collections import deque
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from ralph.errors import StoreError
from ralph.ledger.records import this_host
from ralph.loop.records import task_totals
from ralph.loop.state import LoopState, load_state, state_path
from ralph.tix import TicketStore
from ralph.watch.model import RunSnapshot
from ralph.watch.tail import JsonlTail, LineTail

__all__ = ["RunReader", "log_dir_of", "pid_alive"]

ACTIVITY_BACKLOG_BYTES = 64_000


def pid_alive(pid: int | None) -> bool:
    """Whether process ``pid`` exists on this machine and is not a zombie."""
    if pid is None or pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:
        stat = Path(f"/proc/{pid}/stat").read_text(encoding="ascii", errors="replace")
    except OSError:
        return True
    return stat.rpartition(")")[2].split()[:1] != ["Z"]


def log_dir_of(state: LoopState | None, given: Path | None, default: Path) -> Path:
    """The ledger directory: the one given, else the one the run writes to (its activity log's), else the
    settings' default."""
    if given is not None:
        return given
    if state is not None and state.activity_log:
        return Path(state.activity_log).parent.parent
    return default


class _RunFiles:
    """The ledger lines and activity tail of one run_id, read incrementally."""

    def __init__(self, run_id: str, log_dir: Path, activity: Path, keep: int) -> None:
        self.run_id = run_id
        self.log_dir = log_dir
        self._runs = JsonlTail(log_dir / "runs.jsonl", run_id)
        self._stages = JsonlTail(log_dir / "iterations.jsonl", run_id)
        self._activity = LineTail(activity, backlog=ACTIVITY_BACKLOG_BYTES)
        self.start: Mapping[str, Any] | None = None
        self.end: Mapping[str, Any] | None = None
        self.stages: list[Mapping[str, Any]] = []
        self.activity: deque[str] = deque(maxlen=keep)

    def refresh(self) -> None:
        for line in self._runs.read_new():
            if line.get("run_id") == self.run_id:
                if line.get("record") == "end":
                    self.end = line
                else:
                    self.start = line
        self.stages.extend(s for s in self._stages.read_new() if s.get("run_id") == self.run_id)
        self.activity.extend(line for line in self._activity.read_new() if line.strip())


class RunReader:
    """Reads a repository's live files frame after frame; follows a new run_id when the loop restarts."""

    def __init__(self, repo: Path, *, log_dir: Path | None, default_log_dir: Path, keep: int = 200) -> None:
        self.repo = repo
        self._given = log_dir
        self._default = default_log_dir
        self._keep = keep
        self._files: _RunFiles | None = None
        self._store: TicketStore | None = None

    def read(self) -> RunSnapshot:
        path = state_path(self.repo)
        try:
            mtime = path.stat().st_mtime
        except OSError:
            return RunSnapshot(repo=self.repo)
        state = load_state(self.repo)
        if not state.run_id:
            return RunSnapshot(repo=self.repo, state=state, state_mtime=mtime)
        files = self._follow(state)
        files.refresh()
        name, accepted, total = self._tickets(state)
        return RunSnapshot(
            repo=self.repo,
            state=state,
            state_mtime=mtime,
            pid_alive=self._alive(state, files.start),
            start=files.start,
            end=files.end,
            stages=tuple(files.stages),
            activity=tuple(files.activity),
            task_name=name,
            tasks_accepted=accepted,
            tasks_total=total,
        )

    def _follow(self, state: LoopState) -> _RunFiles:
        run_id = state.run_id or ""
        if self._files is None or self._files.run_id != run_id:
            log_dir = log_dir_of(state, self._given, self._default)
            activity = (
                Path(state.activity_log) if state.activity_log else log_dir / "activity" / f"{run_id}.log"
            )
            self._files = _RunFiles(run_id, log_dir, activity, self._keep)
        return self._files

    @staticmethod
    def _alive(state: LoopState, start: Mapping[str, Any] | None) -> bool:
        host = str((start or {}).get("host") or state.host or "")
        return host in ("", this_host()) and pid_alive(state.pid)

    def _tickets(self, state: LoopState) -> tuple[str, int, int]:
        """The current task's name and the spec's accepted/total tasks; blanks while the store is busy."""
        try:
            if self._store is None:
                self._store = TicketStore.open(self.repo)
            ticket = self._store.find(state.task_id) if state.task_id else None
            totals = task_totals(self._store, state.spec)
        except (StoreError, OSError, sqlite3.Error):
            return "", 0, 0
        return (ticket.name if ticket else ""), totals.completed, totals.total

    def close(self) -> None:
        if self._store is not None:
            self._store.close()
            self._store = None
