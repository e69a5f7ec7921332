"""The bench view: one row per cell of an experiment, from the cell's worktree (state file, ledger) while it
runs, or from the run records ``collect`` copied into its results folder."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ralph.errors import ExitReason
from ralph.ledger.reader import final_run_lines
from ralph.watch.model import RunFrame, RunSnapshot, RunStatus, build_frame
from ralph.watch.sources import RunReader

__all__ = ["BenchReader", "CellRow", "CellSource", "cell_row", "record_row"]


@dataclass(frozen=True)
class CellSource:
    """Where a cell's files are: its worktree (None if unknown) and its results folder."""

    name: str
    worktree: Path | None
    results: Path | None = None


@dataclass(frozen=True)
class CellRow:
    name: str
    status: RunStatus
    stage: str = ""
    iteration: int = 0
    tasks_accepted: int = 0
    tasks_total: int = 0
    cost: float = 0.0
    elapsed_s: float = 0.0
    exit_reason: str | None = None
    simulated: bool = False

    @property
    def exit_code(self) -> int | None:
        """The process exit code of the recorded exit reason (DESIGN §4); None if unknown."""
        try:
            return ExitReason(self.exit_reason).exit_code if self.exit_reason else None
        except ValueError:
            return None


def cell_row(name: str, frame: RunFrame) -> CellRow:
    """A cell's row from the live frame of its worktree."""
    pos = frame.position
    return CellRow(
        name=name,
        status=frame.status,
        stage=pos.stage if frame.status is RunStatus.RUNNING else "",
        iteration=pos.iteration,
        tasks_accepted=pos.tasks_accepted,
        tasks_total=pos.tasks_total,
        cost=frame.usage.cost,
        elapsed_s=frame.usage.elapsed_s,
        exit_reason=frame.exit_reason,
        simulated=frame.simulated,
    )


def _int(value: Any) -> int:
    return int(value) if isinstance(value, int | float) and not isinstance(value, bool) else 0


def record_row(name: str, record: Mapping[str, Any]) -> CellRow:
    """A cell's row from its last run record (an end record, or a start record of a run that never ended)."""
    tasks = record.get("tasks") or {}
    reason = record.get("exit_reason")
    cost = record.get("cost")
    duration = record.get("duration_s")
    return CellRow(
        name=name,
        status=RunStatus.FINISHED if reason else RunStatus.STOPPED,
        iteration=_int(record.get("iterations")),
        tasks_accepted=_int(tasks.get("completed")) if isinstance(tasks, Mapping) else 0,
        tasks_total=_int(tasks.get("total")) if isinstance(tasks, Mapping) else 0,
        cost=float(cost) if isinstance(cost, int | float) else 0.0,
        elapsed_s=float(duration) if isinstance(duration, int | float) else 0.0,
        exit_reason=str(reason) if reason else None,
        simulated=bool(record.get("simulated")),
    )


def _ran_in(snap: RunSnapshot, worktree: Path) -> bool:
    """Whether the state's run ran in this worktree (the shared plan commit brings the planning cell's
    state file into every other cell)."""
    where = (snap.start or {}).get("worktree") or (snap.end or {}).get("worktree")
    return not where or Path(str(where)).resolve() == worktree.resolve()


class BenchReader:
    """Rows of every cell, frame after frame (one ``RunReader`` per cell worktree)."""

    def __init__(self, cells: Sequence[CellSource], default_log_dir: Path) -> None:
        self.cells = tuple(cells)
        self._readers = {
            cell.name: RunReader(cell.worktree, log_dir=None, default_log_dir=default_log_dir, keep=0)
            for cell in self.cells
            if cell.worktree is not None
        }

    def rows(self, now: float) -> list[CellRow]:
        return [self._row(cell, now) for cell in self.cells]

    def _row(self, cell: CellSource, now: float) -> CellRow:
        reader = self._readers.get(cell.name)
        if reader is not None and reader.repo.is_dir():
            snap = reader.read()
            frame = build_frame(snap, now)
            if frame.status is not RunStatus.NO_RUN and _ran_in(snap, reader.repo):
                return cell_row(cell.name, frame)
        if cell.results is not None and (cell.results / "runs.jsonl").is_file():
            lines = final_run_lines(cell.results)
            if lines:
                return record_row(cell.name, lines[-1])
        return CellRow(name=cell.name, status=RunStatus.NO_RUN)

    def close(self) -> None:
        for reader in self._readers.values():
            reader.close()
