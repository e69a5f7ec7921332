"""What ``ralph bench run`` shows per cell while it runs, and which queued cells may start now.

Progress comes from the cell's ``.tix/ralph-state.json`` (iteration, stage, run id) and from the experiment's
``iterations.jsonl``, read incrementally (tasks accepted and cost per run id).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from ralph.bench.meta import CellStatus

__all__ = ["CellProgress", "LedgerTail", "startable"]


@dataclass(frozen=True)
class CellProgress:
    """One row of the live display (and of the final summary)."""

    cell: str
    arm: str
    status: CellStatus
    iteration: int = 0
    stage: str | None = None
    tasks_done: int = 0
    tasks_total: int | None = None
    cost: float = 0.0
    elapsed_s: float = 0.0
    exit_code: int | None = None
    note: str = ""


def startable(
    queue: Sequence[frozenset[str]], held: Mapping[str, int], capacity: Callable[[str], int]
) -> list[int]:
    """Indices of queued cells that can start now, greedily in queue order (a blocked cell does not block
    later ones that need other slots)."""
    taken = dict(held)
    picks = []
    for index, slots in enumerate(queue):
        if all(taken.get(slot, 0) < capacity(slot) for slot in slots):
            picks.append(index)
            for slot in slots:
                taken[slot] = taken.get(slot, 0) + 1
    return picks


class LedgerTail:
    """Incremental reader of ``iterations.jsonl``: only complete new lines are parsed on each ``poll``."""

    def __init__(self, log_dir: Path) -> None:
        self.path = log_dir / "iterations.jsonl"
        self.offset = 0
        self.accepted: dict[str, int] = {}
        self.cost: dict[str, float] = {}

    def poll(self) -> None:
        try:
            with self.path.open("rb") as handle:
                handle.seek(self.offset)
                chunk = handle.read()
        except FileNotFoundError:
            return
        end = chunk.rfind(b"\n") + 1
        self.offset += end
        for raw in chunk[:end].splitlines():
            self._add(raw)

    def _add(self, raw: bytes) -> None:
        try:
            line = json.loads(raw)
        except ValueError:
            return
        if not isinstance(line, dict) or not isinstance(line.get("run_id"), str):
            return
        run_id = line["run_id"]
        reconcile = line.get("reconcile")
        accepted = reconcile.get("accepted", 0) if isinstance(reconcile, dict) else 0
        self.accepted[run_id] = self.accepted.get(run_id, 0) + (accepted if isinstance(accepted, int) else 0)
        cost = line.get("cost", 0.0)
        self.cost[run_id] = self.cost.get(run_id, 0.0) + (cost if isinstance(cost, int | float) else 0.0)

    def totals(self, run_ids: Sequence[str]) -> tuple[int, float]:
        """(tasks accepted, cost) summed over ``run_ids``."""
        unique = set(run_ids)
        return sum(self.accepted.get(r, 0) for r in unique), sum(self.cost.get(r, 0.0) for r in unique)
