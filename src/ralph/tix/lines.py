"""plan.jsonl line codec: ticket, tombstone, delete and fail records in the C tix key order (pure).

Reading is lenient (C-era lines, wrong types, top-level telemetry keys go into meta); writing is canonical:
compact JSON, raw UTF-8, empty fields omitted, C-era keys first, new keys after, ``meta`` last.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Mapping
from typing import Any

from ralph.errors import UsageError
from ralph.tix.records import Failure, MetaValue, Priority, TaskStatus, Ticket, TicketType, Tombstone

__all__ = [
    "TICKET_KINDS",
    "TIME_DIGITS",
    "decode_failure",
    "decode_ticket",
    "decode_tombstone",
    "delete_record",
    "dump_line",
    "encode_ticket",
    "failure_record",
    "normalize_meta",
    "normalize_meta_value",
    "tombstone_record",
]

TICKET_KINDS = frozenset(kind.value for kind in TicketType)
TIME_DIGITS = 3

_TEXT_KEYS = (
    "spec",
    "notes",
    "accept",
    "done_at",
    "branch",
    "parent",
    "created_from",
    "supersedes",
    "kill_reason",
    "created_from_name",
    "supersedes_name",
    "supersedes_reason",
)
_LATE_TEXT_KEYS = ("author", "assigned", "completed_at")
_C_TIME_KEYS = ("resolved_at", "compacted_at")
_NEW_TEXT_KEYS = ("check", "reject_reason")
_INT_KEYS = ("decompose_depth", "kill_count", "retries")
_NEW_TIME_KEYS = ("created_at", "updated_at")
_KNOWN_KEYS = frozenset(
    {"t", "id", "name", "s", "priority", "deps", "labels", "meta", "desc", "commit_hash"}.union(
        _TEXT_KEYS, _LATE_TEXT_KEYS, _C_TIME_KEYS, _NEW_TEXT_KEYS, _INT_KEYS, _NEW_TIME_KEYS
    )
)


def dump_line(record: Mapping[str, Any]) -> str:
    """One JSONL line (with its newline): compact separators, UTF-8 kept raw."""
    return json.dumps(record, ensure_ascii=False, separators=(",", ":"), allow_nan=False) + "\n"


def normalize_meta_value(value: object) -> MetaValue | None:
    """Meta holds strings and finite numbers; integral floats become ints, bools/lists/objects become
    their JSON text, null is dropped."""
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        if not math.isfinite(value):
            return None
        return int(value) if value.is_integer() and abs(value) < 2**53 else value
    if isinstance(value, str):
        return value
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"), sort_keys=True)


def normalize_meta(raw: Mapping[str, object]) -> dict[str, MetaValue]:
    """Normalise every value of ``raw`` (dropping nulls and non-finite numbers)."""
    out: dict[str, MetaValue] = {}
    for key, value in raw.items():
        norm = normalize_meta_value(value)
        if norm is not None:
            out[str(key)] = norm
    return out


def _text(value: object) -> str:
    if value is None:
        return ""
    return value if isinstance(value, str) else str(value)


def _number(value: object) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return 0.0
    return float(value) if math.isfinite(value) else 0.0


def _strings(value: object) -> tuple[str, ...]:
    items = value if isinstance(value, list) else [value] if isinstance(value, str) and value else []
    seen: dict[str, None] = {}
    for item in items:
        if item is not None and str(item):
            seen.setdefault(str(item), None)
    return tuple(seen)


def _priority(value: object) -> Priority:
    try:
        return Priority.parse(value if value is not None else "none")
    except UsageError:
        return Priority.NONE


def decode_ticket(rec: Mapping[str, Any], previous: Ticket | None = None) -> Ticket:
    """A ticket line replaces the row (full replace); meta merges over ``previous.meta``, and unknown
    top-level keys (C-era telemetry such as ``"cost"``) are read as meta."""
    meta: dict[str, MetaValue] = dict(previous.meta) if previous is not None else {}
    nested = rec.get("meta")
    if isinstance(nested, dict):
        meta.update(normalize_meta(nested))
    meta.update(normalize_meta({k: v for k, v in rec.items() if k not in _KNOWN_KEYS}))
    name = _text(rec.get("name")) or _text(rec.get("desc"))
    return Ticket(
        id=_text(rec.get("id")),
        type=TicketType(rec["t"]),
        status=TaskStatus.from_letter(rec.get("s")),
        name=name,
        priority=_priority(rec.get("priority")),
        deps=_strings(rec.get("deps")),
        labels=_strings(rec.get("labels")),
        decompose_depth=int(_number(rec.get("decompose_depth"))),
        kill_count=int(_number(rec.get("kill_count"))),
        retries=int(_number(rec.get("retries"))),
        created_at=_number(rec.get("created_at")),
        updated_at=_number(rec.get("updated_at")),
        resolved_at=_number(rec.get("resolved_at")),
        compacted_at=_number(rec.get("compacted_at")),
        meta=meta,
        **{key: _text(rec.get(key)) for key in _TEXT_KEYS + _LATE_TEXT_KEYS + _NEW_TEXT_KEYS},
    )


def _time(value: float) -> float | int:
    rounded = round(value, TIME_DIGITS)
    return int(rounded) if rounded.is_integer() else rounded


def encode_ticket(ticket: Ticket, meta_keys: Iterable[str] | None = None) -> dict[str, Any]:
    """The ticket as a JSONL record in C key order, empty fields omitted. ``meta_keys`` limits the meta
    written to those keys (a delta); None writes all of it, sorted."""
    rec: dict[str, Any] = {"t": ticket.type.value, "id": ticket.id, "name": ticket.name}
    rec["s"] = ticket.status.value
    _put_texts(rec, ticket, _TEXT_KEYS)
    if ticket.priority:
        rec["priority"] = ticket.priority.label
    if ticket.deps:
        rec["deps"] = list(ticket.deps)
    if ticket.labels:
        rec["labels"] = list(ticket.labels)
    _put_texts(rec, ticket, _LATE_TEXT_KEYS)
    _put_times(rec, ticket, _C_TIME_KEYS)
    _put_texts(rec, ticket, _NEW_TEXT_KEYS[:1])
    for key in _INT_KEYS:
        if getattr(ticket, key):
            rec[key] = getattr(ticket, key)
    _put_texts(rec, ticket, _NEW_TEXT_KEYS[1:])
    _put_times(rec, ticket, _NEW_TIME_KEYS)
    keys = sorted(ticket.meta) if meta_keys is None else sorted(k for k in meta_keys if k in ticket.meta)
    if keys:
        rec["meta"] = {key: ticket.meta[key] for key in keys}
    return rec


def _put_texts(rec: dict[str, Any], ticket: Ticket, keys: Iterable[str]) -> None:
    for key in keys:
        value = getattr(ticket, key)
        if value:
            rec[key] = value


def _put_times(rec: dict[str, Any], ticket: Ticket, keys: Iterable[str]) -> None:
    for key in keys:
        value = getattr(ticket, key)
        if value:
            rec[key] = _time(value)


def tombstone_record(stone: Tombstone) -> dict[str, Any]:
    """``{"t":"accept"|"reject","id","done_at","reason","name","commit","time"}``, empty keys omitted."""
    rec: dict[str, Any] = {"t": stone.kind, "id": stone.id}
    for key in ("done_at", "reason", "name", "commit"):
        if getattr(stone, key):
            rec[key] = getattr(stone, key)
    if stone.time:
        rec["time"] = _time(stone.time)
    return rec


def decode_tombstone(rec: Mapping[str, Any]) -> Tombstone:
    return Tombstone(
        id=_text(rec.get("id")),
        is_accept=rec.get("t") == "accept",
        name=_text(rec.get("name")),
        done_at=_text(rec.get("done_at")),
        reason=_text(rec.get("reason")),
        commit=_text(rec.get("commit")),
        time=_number(rec.get("time", rec.get("timestamp"))),
    )


def delete_record(ticket_id: str, when: float) -> dict[str, Any]:
    rec: dict[str, Any] = {"t": "delete", "id": ticket_id}
    if when:
        rec["time"] = _time(when)
    return rec


def failure_record(failure: Failure) -> dict[str, Any]:
    """``{"t":"fail","id","reason","kill_reason","time"}``: one failed attempt of a pending task."""
    rec: dict[str, Any] = {"t": "fail", "id": failure.id, "reason": failure.reason}
    if failure.kill_reason:
        rec["kill_reason"] = failure.kill_reason
    if failure.time:
        rec["time"] = _time(failure.time)
    return rec


def decode_failure(rec: Mapping[str, Any]) -> Failure:
    return Failure(
        id=_text(rec.get("id")),
        reason=_text(rec.get("reason")),
        kill_reason=_text(rec.get("kill_reason")),
        time=_number(rec.get("time")),
    )
