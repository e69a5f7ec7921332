"""Read views over the store: counts, the ``query full`` shape and ticket JSON (no text rendering)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any

from ralph.tix.records import Priority, TaskCounts, TaskStatus, Ticket, TicketType, Tombstone

if TYPE_CHECKING:
    from ralph.tix.reads import StoreReader

__all__ = ["count_tasks", "full_view", "listing", "ticket_json", "tombstone_json"]


_TYPE_NAMES = {kind: kind.value for kind in TicketType}
_STATUS_NAMES = {status: status.label for status in TaskStatus}
_PRIORITY_NAMES = {level: level.label for level in Priority}


def ticket_json(t: Ticket) -> dict[str, Any]:
    """Every field of a ticket; type, status and priority as names, deps/labels as lists."""
    return {
        "id": t.id, "type": _TYPE_NAMES[t.type], "status": _STATUS_NAMES[t.status],
        "priority": _PRIORITY_NAMES[t.priority], "name": t.name, "spec": t.spec, "notes": t.notes,
        "accept": t.accept, "check": t.check, "deps": list(t.deps), "labels": list(t.labels),
        "parent": t.parent, "created_from": t.created_from, "supersedes": t.supersedes,
        "created_from_name": t.created_from_name, "supersedes_name": t.supersedes_name,
        "supersedes_reason": t.supersedes_reason, "decompose_depth": t.decompose_depth,
        "kill_reason": t.kill_reason, "kill_count": t.kill_count, "retries": t.retries,
        "reject_reason": t.reject_reason, "author": t.author, "assigned": t.assigned, "branch": t.branch,
        "done_at": t.done_at, "created_at": t.created_at, "updated_at": t.updated_at,
        "completed_at": t.completed_at, "resolved_at": t.resolved_at, "compacted_at": t.compacted_at,
        "meta": dict(t.meta),
    }  # fmt: skip


def tombstone_json(s: Tombstone) -> dict[str, Any]:
    return {
        "id": s.id,
        "name": s.name,
        "done_at": s.done_at,
        "reason": s.reason,
        "commit": s.commit,
        "timestamp": s.time,
    }


def count_tasks(tasks: Iterable[Ticket]) -> TaskCounts:
    counts = dict.fromkeys(("pending", "done", "accepted", "rejected", "deleted", "failed"), 0)
    for t in tasks:
        if t.type is not TicketType.TASK:
            continue
        counts[t.status.label] += 1
        if t.status is TaskStatus.PENDING:
            counts["rejected"] += t.retries > 0
            counts["failed"] += t.kill_count > 0
    total = counts["pending"] + counts["done"] + counts["accepted"]
    return TaskCounts(total=total, **counts)


def full_view(store: StoreReader) -> dict[str, Any]:
    """``{"tasks":{"pending","done","accepted","deleted"},"issues","notes","tombstones":{"accepted",
    "rejected"},"meta":{"commit","branch"}}``; issues and notes are the open ones."""
    tasks: dict[str, list[dict[str, Any]]] = {"pending": [], "done": [], "accepted": [], "deleted": []}
    issues: list[dict[str, Any]] = []
    notes: list[dict[str, Any]] = []
    task, issue, pending, names = TicketType.TASK, TicketType.ISSUE, TaskStatus.PENDING, _STATUS_NAMES
    for t in store.all_tickets():
        if t.type is task:
            tasks.setdefault(names[t.status], []).append(ticket_json(t))
        elif t.status is pending:
            (issues if t.type is issue else notes).append(ticket_json(t))
    stones = store.tombstones()
    return {
        "tasks": tasks,
        "issues": issues,
        "notes": notes,
        "tombstones": {
            "accepted": [tombstone_json(s) for s in stones if s.is_accept],
            "rejected": [tombstone_json(s) for s in stones if not s.is_accept],
        },
        "meta": {"commit": store.git.head_commit()[:7], "branch": store.git.branch() or ""},
    }


def listing(store: StoreReader, what: str, done: bool, filters: Mapping[str, str | None]) -> Any:
    """``tix query tasks|issues|notes|full``: pending (or done) tasks, open issues or notes as ticket JSON,
    filtered by label, spec, author and priority; or the full state."""
    if what == "full":
        return full_view(store)
    spec = filters.get("spec")
    if what == "tasks":
        tickets = store.tasks(TaskStatus.DONE if done else TaskStatus.PENDING, spec=spec)
    else:
        tickets = store.issues(spec=spec) if what == "issues" else store.notes()
    level = Priority.parse(filters["priority"]) if filters.get("priority") else None
    label, author = filters.get("label"), filters.get("author")
    return [
        ticket_json(t)
        for t in tickets
        if (label is None or label in t.labels)
        and (author is None or t.author == author)
        and (level is None or t.priority is level)
    ]
