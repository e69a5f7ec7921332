"""The construct state machine as data: which stage follows which, and which task BUILD takes next.

Everything here is pure: the driver (``construct.py``) describes the tickets as a ``Board`` and reports what a
stage came to as an ``Event``; the table answers with the next stage.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from enum import StrEnum

from ralph.errors import ExitReason
from ralph.stage import Stage

__all__ = [
    "CONSTRUCT_STAGES",
    "PARKED_LABEL",
    "Board",
    "Event",
    "Outcome",
    "TaskView",
    "buildable",
    "ends_iteration",
    "final_reason",
    "next_stage",
    "pick_task",
    "route",
]

CONSTRUCT_STAGES = (Stage.INVESTIGATE, Stage.BUILD, Stage.VERIFY, Stage.DECOMPOSE)
PARKED_LABEL = "parked"
"""A task carrying this label is never picked again (repeated rejection, or failed at max depth)."""


class Outcome(StrEnum):
    """What one stage execution came to, as ``iterations.jsonl`` records it."""

    SUCCESS = "success"
    FAILURE = "failure"
    SKIP = "skip"


class Event(StrEnum):
    """What the driver reports after running a stage."""

    BUILT = "built"  # BUILD: the task is done
    FAILED = "failed"  # BUILD killed/blocked (decompose) or DECOMPOSE/batch failure
    PARKED = "parked"  # BUILD failed at max depth: an issue was raised, the task parked
    INFRA = "infra"  # the endpoint was down or rate limited: run the same stage again
    NOTHING = "nothing"  # the stage found nothing to work on
    BATCH_DONE = "batch_done"  # VERIFY/INVESTIGATE: one batch reconciled (or skipped)
    SPLIT = "split"  # DECOMPOSE: subtasks replaced the task


@dataclass(frozen=True)
class Board:
    """Counts of the active spec's tickets, all the transition table needs to know."""

    buildable: int = 0
    pending: int = 0
    done: int = 0
    issues: int = 0


_FIXED: Mapping[tuple[Stage, Event], Stage] = {
    (Stage.BUILD, Event.BUILT): Stage.VERIFY,
    (Stage.BUILD, Event.FAILED): Stage.DECOMPOSE,
    (Stage.BUILD, Event.INFRA): Stage.BUILD,
    (Stage.VERIFY, Event.INFRA): Stage.VERIFY,
    (Stage.INVESTIGATE, Event.INFRA): Stage.INVESTIGATE,
    (Stage.DECOMPOSE, Event.INFRA): Stage.DECOMPOSE,
    (Stage.DECOMPOSE, Event.SPLIT): Stage.BUILD,
    (Stage.DECOMPOSE, Event.FAILED): Stage.BUILD,
    (Stage.DECOMPOSE, Event.NOTHING): Stage.BUILD,
}
"""Transitions that do not depend on the tickets; every other (stage, event) pair is routed by ``route``."""


def route(board: Board) -> Stage:
    """Where work is: review done tasks first, then turn issues into tasks, then build; else COMPLETE."""
    if board.done:
        return Stage.VERIFY
    if board.issues:
        return Stage.INVESTIGATE
    if board.buildable:
        return Stage.BUILD
    return Stage.COMPLETE


def next_stage(stage: Stage, event: Event, board: Board) -> Stage:
    """The stage that follows ``stage`` after ``event`` with the tickets as ``board`` says."""
    fixed = _FIXED.get((stage, event))
    if fixed is Stage.BUILD and not board.buildable:
        return route(board)
    return fixed if fixed is not None else route(board)


def ends_iteration(previous: Stage, following: Stage) -> bool:
    """An iteration ends when the machine is back at BUILD (or done); then one commit is made."""
    if following is Stage.COMPLETE:
        return True
    return following is Stage.BUILD and previous is not Stage.BUILD


def final_reason(board: Board) -> ExitReason:
    """At COMPLETE: everything accepted is ``complete``; parked or blocked tasks left over are ``no_work``."""
    return ExitReason.COMPLETE if board.pending == 0 and board.issues == 0 else ExitReason.NO_WORK


@dataclass(frozen=True)
class TaskView:
    """The fields task choice looks at (built from a ``tix.Ticket``)."""

    id: str
    status: str  # "pending", "done", "accepted", "rejected", "deleted"
    priority: int = 0
    retries: int = 0
    kill_count: int = 0
    created_at: float = 0.0
    deps: tuple[str, ...] = ()
    parent: str | None = None
    parked: bool = False


def _dep_met(
    dep: str, tasks: Mapping[str, TaskView], children: Mapping[str, list[str]], seen: set[str]
) -> bool:
    """A dep is met when accepted or done; a dep superseded by subtasks is met when they all are."""
    view = tasks.get(dep)
    if view is None or dep in seen:
        return True
    if view.status in ("accepted", "done"):
        return True
    if view.status == "deleted":
        seen.add(dep)
        return all(_dep_met(child, tasks, children, seen) for child in children.get(dep, []))
    return False


def buildable(tasks: Iterable[TaskView]) -> list[TaskView]:
    """Pending, not parked tasks whose deps are all met, best first (priority, fewer retries, age); ties
    keep the given (store) order, which is creation order: never the random ids, so a run repeats."""
    by_id = {t.id: t for t in tasks}
    children: dict[str, list[str]] = {}
    for view in by_id.values():
        if view.parent:
            children.setdefault(view.parent, []).append(view.id)
    ready = [
        t
        for t in by_id.values()
        if t.status == "pending" and not t.parked and all(_dep_met(d, by_id, children, set()) for d in t.deps)
    ]
    return sorted(ready, key=lambda t: (-t.priority, t.retries + t.kill_count, t.created_at))


def pick_task(tasks: Iterable[TaskView]) -> TaskView | None:
    """The task BUILD works next, or None."""
    ready = buildable(tasks)
    return ready[0] if ready else None
