"""``results/<cell>/experiment-meta.json``: what ran where, when, and how it ended (one attempt per
``ralph construct`` process; a resumed cell has several). Written atomically at start and at end."""

from __future__ import annotations

import json
import os
import tempfile
from dataclasses import asdict, dataclass, field, replace
from datetime import datetime
from enum import StrEnum
from pathlib import Path
from typing import Any

__all__ = [
    "META_FILE",
    "CellMeta",
    "CellStatus",
    "RunAttempt",
    "now_iso",
    "read_meta",
    "status_of",
    "write_meta",
]

META_FILE = "experiment-meta.json"
FINISHED_CODES = frozenset({0, 3, 4})
"""complete / no_work (0), a limit (3), breaker, stall or loop (4): the run ended by its own rules."""


class CellStatus(StrEnum):
    PENDING = "pending"
    RUNNING = "running"
    FINISHED = "finished"
    INTERRUPTED = "interrupted"
    FAILED = "failed"


def status_of(exit_code: int) -> CellStatus:
    """Finished for the loop's own endings; interrupted for 130 or a signal; failed otherwise."""
    if exit_code in FINISHED_CODES:
        return CellStatus.FINISHED
    if exit_code == 130 or exit_code < 0:
        return CellStatus.INTERRUPTED
    return CellStatus.FAILED


def now_iso() -> str:
    return datetime.now().astimezone().isoformat(timespec="seconds")


@dataclass(frozen=True)
class RunAttempt:
    """One ``ralph construct`` process of a cell."""

    started_at: str
    pid: int | None = None
    ended_at: str | None = None
    exit_code: int | None = None
    run_id: str | None = None


@dataclass(frozen=True)
class CellMeta:
    """The cell's record; ``status``/``exit_code``/``ended_at`` describe the latest attempt."""

    experiment: str
    cell: str
    arm: str
    profile: str | None
    replicate: int
    repo: str
    base_ref: str
    spec: str
    worktree: str
    branch: str
    limits: dict[str, Any] = field(default_factory=dict)
    overrides: dict[str, Any] = field(default_factory=dict)
    host: dict[str, Any] = field(default_factory=dict)
    argv: list[str] = field(default_factory=list)
    status: CellStatus = CellStatus.PENDING
    started_at: str | None = None
    ended_at: str | None = None
    exit_code: int | None = None
    attempts: tuple[RunAttempt, ...] = ()

    def elapsed_s(self) -> float:
        """Wall time of all finished attempts (a running attempt is not counted)."""
        total = 0.0
        for attempt in self.attempts:
            if attempt.ended_at:
                ended = datetime.fromisoformat(attempt.ended_at)
                total += (ended - datetime.fromisoformat(attempt.started_at)).total_seconds()
        return total

    def begin(self, pid: int) -> CellMeta:
        attempt = RunAttempt(started_at=now_iso(), pid=pid)
        return replace(
            self,
            status=CellStatus.RUNNING,
            started_at=self.started_at or attempt.started_at,
            ended_at=None,
            exit_code=None,
            attempts=(*self.attempts, attempt),
        )

    def end(self, exit_code: int, run_id: str | None, status: CellStatus | None = None) -> CellMeta:
        ended = now_iso()
        last = replace(self.attempts[-1], ended_at=ended, exit_code=exit_code, run_id=run_id)
        return replace(
            self,
            status=status or status_of(exit_code),
            ended_at=ended,
            exit_code=exit_code,
            attempts=(*self.attempts[:-1], last),
        )


def write_meta(folder: Path, meta: CellMeta) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    data = asdict(meta)
    data["status"] = meta.status.value
    fd, tmp = tempfile.mkstemp(dir=folder, prefix=".meta.", suffix=".tmp")
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        json.dump(data, handle, indent=2)
        handle.write("\n")
    os.replace(tmp, folder / META_FILE)


def read_meta(folder: Path) -> CellMeta | None:
    """The cell's meta, or None when missing or unreadable."""
    try:
        data = json.loads((folder / META_FILE).read_text(encoding="utf-8"))
        data["status"] = CellStatus(data.get("status", "pending"))
        data["attempts"] = tuple(RunAttempt(**a) for a in data.get("attempts", ()))
        return CellMeta(**data)
    except (OSError, ValueError, TypeError, KeyError):
        return None
