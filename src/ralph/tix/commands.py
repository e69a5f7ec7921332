"""The JSON result of each ``tix`` command, computed over a store (the CLI only parses and prints).

Shapes follow the C tix where it had one (``{"id","name"}``, ``{"id","status":...}``, ``{"resolved":N}``).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from ralph.errors import StoreError
from ralph.tix.records import TaskStatus

if TYPE_CHECKING:
    from ralph.tix.store import TicketStore

__all__ = [
    "issue_add",
    "issue_done",
    "json_arg",
    "query_full",
    "query_tql",
    "task_accept",
    "task_add",
    "task_delete",
    "task_done",
    "task_fail",
    "task_reject",
    "task_update",
]


def json_arg(text: str) -> Any:
    """Parse a JSON command-line argument; StoreError (exit 1) when malformed."""
    try:
        return json.loads(text)
    except ValueError as err:
        raise StoreError(f"malformed JSON: {err}") from err


def _object_arg(text: str) -> dict[str, Any]:
    value = json_arg(text)
    if not isinstance(value, dict):
        raise StoreError("expected a JSON object")
    return value


def _first(store: TicketStore, status: TaskStatus) -> str:
    found = store.tasks(status)
    if not found:
        raise StoreError(f"no {status.label} task")
    return found[0].id


def task_add(store: TicketStore, payload: str) -> Any:
    """An object adds one task (``{"id","name"}``); an array adds a batch (a list of those)."""
    value = json_arg(payload)
    if isinstance(value, list):
        return [{"id": t.id, "name": t.name} for t in store.add_tasks(value)]
    if isinstance(value, dict):
        task = store.add_task(value)
        return {"id": task.id, "name": task.name}
    raise StoreError("expected a JSON object or array")


def task_done(store: TicketStore, ticket_id: str | None = None) -> dict[str, Any]:
    task = store.done(ticket_id or _first(store, TaskStatus.PENDING))
    return {"id": task.id, "status": "done", "done_at": task.done_at}


def task_accept(store: TicketStore, ticket_id: str | None = None, reason: str = "") -> dict[str, Any]:
    task = store.accept(ticket_id or _first(store, TaskStatus.DONE), reason)
    return {"id": task.id, "status": "accepted"}


def task_reject(store: TicketStore, ticket_id: str, reason: str) -> dict[str, Any]:
    task = store.reject(ticket_id, reason)
    return {"id": task.id, "status": "rejected", "retries": task.retries}


def task_fail(
    store: TicketStore, ticket_id: str, reason: str, kill_reason: str | None = None
) -> dict[str, Any]:
    task = store.fail(ticket_id, reason, kill_reason)
    return {"id": task.id, "status": "failed", "kill_count": task.kill_count, "kill_reason": task.kill_reason}


def task_delete(store: TicketStore, ticket_id: str) -> dict[str, Any]:
    return {"id": store.delete(ticket_id).id, "status": "deleted"}


def task_update(store: TicketStore, ticket_id: str, payload: str) -> dict[str, Any]:
    return {"id": store.update(ticket_id, _object_arg(payload)).id, "status": "updated"}


def issue_add(store: TicketStore, payload: str) -> dict[str, Any]:
    fields = _object_arg(payload)
    desc = fields.pop("desc", fields.pop("name", ""))
    if not isinstance(desc, str):
        raise StoreError("field 'desc' must be a string")
    issue = store.add_issue(desc, **fields)
    return {"id": issue.id, "desc": issue.name}


def issue_done(store: TicketStore, ticket_id: str | None = None) -> dict[str, Any]:
    if ticket_id is None:
        issues = store.issues()
        if not issues:
            raise StoreError("no open issue")
        ticket_id = issues[0].id
    return {"id": store.resolve_issue(ticket_id).id, "status": "resolved"}


def query_full(store: TicketStore) -> dict[str, Any]:
    return store.full()


def query_tql(store: TicketStore, words: Sequence[str]) -> list[dict[str, Any]]:
    """``q TQL...`` (words joined by spaces), or ``q sql SELECT ...`` for read-only raw SQL."""
    if words and words[0] == "sql":
        return store.sql(" ".join(words[1:]))
    return store.query(" ".join(words))
