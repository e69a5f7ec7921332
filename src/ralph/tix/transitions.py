"""The legal state transitions and the record each one appends (pure; StoreError when illegal)."""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import replace
from typing import Any

from ralph.errors import StoreError
from ralph.tix.lines import delete_record, failure_record, tombstone_record
from ralph.tix.records import Failure, TaskStatus, Ticket, TicketType, Tombstone
from ralph.tix.rules import require_status

__all__ = [
    "accept_record",
    "close_record",
    "delete_ticket_record",
    "done_ticket",
    "fail_record",
    "reject_record",
]

_TASK = TicketType.TASK


def _iso_local(when: float) -> str:
    """ISO-8601 local time with a ``+HH:MM`` offset (C tix ``completed_at``), without importing datetime."""
    text = time.strftime("%Y-%m-%dT%H:%M:%S%z", time.localtime(when))
    return f"{text[:-2]}:{text[-2:]}"


def done_ticket(t: Ticket, *, head: str, branch: str | None, now: float) -> Ticket:
    """pending -> done; ``done_at`` = short HEAD before the work is committed, branch re-stamped."""
    require_status(t, "mark done", TaskStatus.PENDING, kind=_TASK)
    stamp = _iso_local(now)
    return replace(
        t, status=TaskStatus.DONE, done_at=head, branch=branch or t.branch, completed_at=stamp, updated_at=now
    )


def accept_record(t: Ticket, reason: str, *, head: str, now: float) -> dict[str, Any]:
    """done -> accepted: an accept tombstone with the commit and time."""
    require_status(t, "accept", TaskStatus.DONE, kind=_TASK)
    return tombstone_record(Tombstone(t.id, True, t.name, t.done_at, reason, head, now))


def reject_record(t: Ticket, reason: str, *, head: str, now: float) -> dict[str, Any]:
    """done -> pending: a reject tombstone (replay adds a retry and keeps the reason)."""
    if not reason.strip():
        raise StoreError("reject needs a non-empty reason")
    require_status(t, "reject", TaskStatus.DONE, kind=_TASK)
    return tombstone_record(Tombstone(t.id, False, t.name, t.done_at, reason, head, now))


def fail_record(t: Ticket, reason: str, kill_reason: str, *, now: float) -> dict[str, Any]:
    """A failed attempt of a pending task: it stays pending (replay counts the kill)."""
    if not reason.strip():
        raise StoreError("fail needs a non-empty reason")
    require_status(t, "fail", TaskStatus.PENDING, kind=_TASK)
    return failure_record(Failure(t.id, reason, kill_reason, now))


def delete_ticket_record(t: Ticket, users: Sequence[Ticket], *, now: float) -> dict[str, Any]:
    """Any ticket that is not deleted -> deleted, unless a ticket that is not deleted depends on it."""
    alive = (TaskStatus.PENDING, TaskStatus.DONE, TaskStatus.ACCEPTED, TaskStatus.REJECTED)
    require_status(t, "delete", *alive)
    blocking = sorted(u.id for u in users if u.status is not TaskStatus.DELETED)
    if blocking:
        raise StoreError(f"cannot delete {t.id}: {', '.join(blocking)} depend on it")
    return delete_record(t.id, now)


def close_record(t: Ticket, kind: TicketType, action: str, *, now: float) -> dict[str, Any]:
    """An open issue is resolved, an open note archived: both become deleted."""
    require_status(t, action, TaskStatus.PENDING, kind=kind)
    return delete_record(t.id, now)
