"""What a mutation may do: field validation for add/update and the legal state transitions (pure).

Each function takes the current ticket and returns the new one (or raises StoreError with one clear line);
the store turns the result into JSONL records.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import replace
from typing import Any

from ralph.errors import StoreError, UsageError
from ralph.tix.lines import normalize_meta
from ralph.tix.records import MetaValue, Priority, TaskStatus, Ticket, TicketType, is_ticket_id

__all__ = [
    "Lookup",
    "apply_update",
    "build_ticket",
    "check_branch",
    "check_refs",
    "merge_telemetry",
    "require_status",
]

Lookup = Callable[[str], Ticket | None]

_TEXT_FIELDS = frozenset(
    {
        "name",
        "spec",
        "notes",
        "accept",
        "check",
        "parent",
        "created_from",
        "supersedes",
        "created_from_name",
        "supersedes_name",
        "supersedes_reason",
        "kill_reason",
        "reject_reason",
        "author",
        "assigned",
        "completed_at",
    }
)
_INT_FIELDS = frozenset({"decompose_depth", "kill_count", "retries"})
_REF_FIELDS = ("parent", "created_from", "supersedes")
_FIXED_FIELDS = frozenset(
    {
        "id",
        "t",
        "s",
        "type",
        "status",
        "branch",
        "done_at",
        "created_at",
        "updated_at",
        "resolved_at",
        "compacted_at",
    }
)


def _text(key: str, value: Any) -> str:
    if value is None:
        return ""
    if not isinstance(value, str):
        raise StoreError(f"field '{key}' must be a string")
    return value


def _int(key: str, value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value) or value < 0:
        raise StoreError(f"field '{key}' must be a non-negative integer")
    return int(value)


def _strings(key: str, value: Any) -> tuple[str, ...]:
    if value is None:
        return ()
    if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
        raise StoreError(f"field '{key}' must be a list of non-empty strings")
    return tuple(dict.fromkeys(value))


def _priority(value: Any) -> Priority:
    try:
        return Priority.parse(value)
    except UsageError as err:
        raise StoreError(str(err)) from err


def _meta(value: Any) -> dict[str, MetaValue]:
    if not isinstance(value, dict):
        raise StoreError("field 'meta' must be an object")
    return normalize_meta(value)


def _changes(fields: Mapping[str, Any]) -> tuple[dict[str, Any], dict[str, MetaValue]]:
    """Split input fields into ticket attributes and meta (unknown keys are telemetry: they go to meta)."""
    attrs: dict[str, Any] = {}
    meta: dict[str, MetaValue] = {}
    for key, value in fields.items():
        if key in _FIXED_FIELDS:
            raise StoreError(f"field '{key}' cannot be set directly")
        if key in _TEXT_FIELDS:
            attrs[key] = _text(key, value)
        elif key in _INT_FIELDS:
            attrs[key] = _int(key, value)
        elif key in ("deps", "labels", "labels_add"):
            attrs[key] = _strings(key, value)
        elif key == "priority":
            attrs[key] = _priority(value)
        elif key == "meta":
            meta.update(_meta(value))
        else:
            meta.update(normalize_meta({key: value}))
    return attrs, meta


def build_ticket(
    kind: TicketType, fields: Mapping[str, Any], *, ticket_id: str, now: float, author: str, branch: str
) -> Ticket:
    """A new ticket from add input. Issues may give ``desc`` for the name; deps/refs are checked later."""
    fields = dict(fields)
    if kind is TicketType.ISSUE and "desc" in fields:
        fields.setdefault("name", fields.pop("desc"))
    attrs, meta = _changes(fields)
    labels_add = attrs.pop("labels_add", ())
    attrs["labels"] = tuple(dict.fromkeys(attrs.get("labels", ()) + labels_add))
    if not attrs.get("name", "").strip():
        raise StoreError(f"{kind.value} needs a non-empty {'desc' if kind is TicketType.ISSUE else 'name'}")
    attrs.setdefault("author", author)
    return Ticket(id=ticket_id, type=kind, branch=branch, created_at=now, updated_at=now, meta=meta, **attrs)


def apply_update(ticket: Ticket, fields: Mapping[str, Any], now: float) -> tuple[Ticket, set[str]]:
    """Merge ``fields`` into ``ticket``: meta merges key-wise, ``labels`` replaces, ``labels_add`` adds.
    Returns the new ticket and the meta keys that changed."""
    attrs, meta = _changes(fields)
    labels_add = attrs.pop("labels_add", ())
    if labels_add:
        attrs["labels"] = tuple(dict.fromkeys(attrs.get("labels", ticket.labels) + labels_add))
    if "name" in attrs and not attrs["name"].strip():
        raise StoreError("name cannot be empty")
    merged = {**ticket.meta, **meta}
    return replace(ticket, updated_at=now, meta=merged, **attrs), set(meta)


def merge_telemetry(
    ticket: Ticket, numbers: Mapping[str, float], text: Mapping[str, str], now: float
) -> tuple[Ticket, set[str]]:
    """Add ``numbers`` onto the existing meta values (a missing or text value counts as 0); set ``text``."""
    meta = dict(ticket.meta)
    for key, amount in numbers.items():
        if isinstance(amount, bool) or not isinstance(amount, int | float) or not math.isfinite(amount):
            raise StoreError(f"telemetry '{key}' must be a finite number")
        current = meta.get(key, 0)
        base = current if isinstance(current, int | float) else 0
        meta[key] = base + amount
    for key, value in text.items():
        meta[key] = _text(key, value)
    meta = {**meta, **normalize_meta({k: meta[k] for k in numbers})}
    return replace(ticket, updated_at=now, meta=meta), set(numbers) | set(text)


def check_refs(ticket: Ticket, lookup: Lookup) -> None:
    """Deps: well-formed, present, tasks, not repeated, not itself. Parent/created_from/supersedes:
    well-formed and present."""
    for dep in ticket.deps:
        if dep == ticket.id:
            raise StoreError(f"{ticket.id} cannot depend on itself")
        if not is_ticket_id(dep):
            raise StoreError(f"invalid dep id: {dep!r}")
        target = lookup(dep)
        if target is None:
            raise StoreError(f"unknown dep: {dep}")
        if target.type is not TicketType.TASK:
            raise StoreError(f"dep {dep} is a {target.type.value}, not a task")
    for key in _REF_FIELDS:
        ref = getattr(ticket, key)
        if ref and (not is_ticket_id(ref) or lookup(ref) is None):
            raise StoreError(f"unknown {key}: {ref}")


def require_status(ticket: Ticket, action: str, *allowed: TaskStatus, kind: TicketType | None = None) -> None:
    """Refuse ``action`` unless the ticket has one of ``allowed`` (and ``kind``, when given)."""
    if kind is not None and ticket.type is not kind:
        raise StoreError(f"cannot {action} {ticket.id}: it is a {ticket.type.value}, not a {kind.value}")
    if ticket.status not in allowed:
        wanted = " or ".join(s.label for s in allowed)
        raise StoreError(f"cannot {action} {ticket.id}: status is {ticket.status.label}, not {wanted}")


def check_branch(ticket: Ticket, branch: str | None, action: str) -> None:
    """A task stamped with a branch may only change on that branch."""
    if ticket.branch and branch != ticket.branch:
        where = f"branch {branch}" if branch else "a detached HEAD"
        raise StoreError(
            f"cannot {action} {ticket.id}: it belongs to branch {ticket.branch}, you are on {where}"
        )
