"""Read the ticket store into what the state machine looks at: the active spec's tasks, issues and counts."""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from weakref import WeakKeyDictionary

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
    live_states: tuple[str, ...] = ()
    """``id:status:retries:kills`` of the live tasks (``states``)."""

    @cached_property
    def board(self) -> Board:
        live = [t for t in self.tasks if t.is_live or t.status is TaskStatus.REJECTED]
        done = sum(1 for t in live if t.status is TaskStatus.DONE)
        return Board(buildable=len(self.ready), pending=len(live) - done, done=done, issues=len(self.issues))

    def done_ids(self) -> list[str]:
        return [t.id for t in self.tasks if t.status is TaskStatus.DONE]

    def by_id(self) -> dict[str, Ticket]:
        return {t.id: t for t in self.tasks}

    def states(self) -> list[str]:
        """``id:status:retries:kills`` of live tasks and open issues (the loop fingerprint's ticket part)."""
        return [*self.live_states, *(f"{i.id}:open" for i in self.issues)]


@dataclass
class _Memo:
    """What ``read_board`` keeps per store: the last snapshot and the task views of unchanged tickets."""

    key: tuple[int, str | None] = (-1, None)
    snapshot: Snapshot | None = None
    views: dict[str, tuple[Ticket, TaskView, str]] = field(default_factory=dict)

    def view(self, ticket: Ticket) -> tuple[TaskView, str]:
        """The ticket's view and its fingerprint row, made again only when the ticket changed."""
        held = self.views.get(ticket.id)
        if held is None or held[0] is not ticket:
            row = f"{ticket.id}:{ticket.status.value}:{ticket.retries}:{ticket.kill_count}"
            held = self.views[ticket.id] = (ticket, task_view(ticket), row)
        return held[1], held[2]


_MEMOS: WeakKeyDictionary[TicketStore, _Memo] = WeakKeyDictionary()


def read_board(store: TicketStore, spec: str | None) -> Snapshot:
    """One read of the store scoped to ``spec`` (tasks of every state, open issues); the same snapshot
    while the store has not changed, and only changed tickets are looked at again."""
    memo = _MEMOS.get(store)
    if memo is None:
        memo = _MEMOS[store] = _Memo()
    key = (store.generation, spec)
    if memo.snapshot is not None and memo.key == key:
        return memo.snapshot
    tasks = tuple(t for t in store.tasks(status=_ALL_TASKS) if in_spec(t, spec))
    issues = tuple(i for i in store.issues(open_only=True) if in_spec(i, spec))
    views = [memo.view(t) for t in tasks]
    ready = tuple(v.id for v in buildable(view for view, _ in views))
    live = tuple(row for (_, row), t in zip(views, tasks, strict=True) if t.is_live)
    memo.key, memo.snapshot = key, Snapshot(tasks=tasks, issues=issues, ready=ready, live_states=live)
    return memo.snapshot
