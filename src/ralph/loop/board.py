"""Read the ticket store into what the state machine looks at: the active spec's tasks, issues and counts."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from ralph.loop.stages import PARKED_LABEL, Board, TaskView, buildable
from ralph.tix import TaskStatus, Ticket, TicketStore

__all__ = ["Snapshot", "in_spec", "read_board", "task_view"]

_ALL_TASKS = (
    TaskStatus.PENDING,
    TaskStatus.DONE,
    TaskStatus.ACCEPTED,
    TaskStatus.REJECTED,
    TaskStatus.DELETED,
)


def in_spec(ticket: Ticket, spec: str | None) -> bool:
    """A ticket belongs to the active spec when it names it, or names no spec at all."""
    return spec is None or not ticket.spec or ticket.spec == spec


def task_view(ticket: Ticket) -> TaskView:
    status = "pending" if ticket.status is TaskStatus.REJECTED else ticket.status.label
    return TaskView(
        id=ticket.id,
        status=status,
        priority=int(ticket.priority),
        retries=ticket.retries,
        kill_count=ticket.kill_count,
        created_at=ticket.created_at,
        deps=ticket.deps,
        parent=ticket.parent or None,
        parked=PARKED_LABEL in ticket.labels,
    )


@dataclass(frozen=True)
class Snapshot:
    """The active spec's tickets at one moment, and the counts derived from them."""

    tasks: tuple[Ticket, ...]
    issues: tuple[Ticket, ...]
    ready: tuple[str, ...]
    """Ids BUILD may take, best first."""

    @property
    def board(self) -> Board:
        live = [t for t in self.tasks if t.is_live or t.status is TaskStatus.REJECTED]
        return Board(
            buildable=len(self.ready),
            pending=sum(1 for t in live if t.status is not TaskStatus.DONE),
            done=sum(1 for t in live if t.status is TaskStatus.DONE),
            issues=len(self.issues),
        )

    def done_ids(self) -> list[str]:
        return [t.id for t in self.tasks if t.status is TaskStatus.DONE]

    def by_id(self) -> dict[str, Ticket]:
        return {t.id: t for t in self.tasks}

    def states(self) -> list[str]:
        """``id:status:retries:kills`` of live tasks and open issues (the loop fingerprint's ticket part)."""
        rows = [f"{t.id}:{t.status.value}:{t.retries}:{t.kill_count}" for t in self.tasks if t.is_live]
        return rows + [f"{i.id}:open" for i in self.issues]


def read_board(store: TicketStore, spec: str | None) -> Snapshot:
    """One read of the store scoped to ``spec`` (tasks of every state, open issues)."""
    tasks = tuple(t for t in store.tasks(status=_ALL_TASKS) if in_spec(t, spec))
    issues = tuple(i for i in store.issues(open_only=True) if in_spec(i, spec))
    return Snapshot(tasks=tasks, issues=issues, ready=_ready(tasks))


def _ready(tasks: Sequence[Ticket]) -> tuple[str, ...]:
    views: Iterable[TaskView] = (task_view(t) for t in tasks)
    return tuple(v.id for v in buildable(views))
