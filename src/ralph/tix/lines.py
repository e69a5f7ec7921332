"""plan.jsonl line codec: ticket, tombstone, delete and fail records in the C tix key order (pure).

Reading is lenient (C-era lines, wrong types, top-level telemetry keys go into meta); writing is canonical:
compact JSON, raw UTF-8, empty fields omitted, C-era keys first, new keys after, ``meta`` last.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Mapping
from operator import attrgetter
from typing import Any

from ralph.errors import UsageError
from ralph.tix.records import Failure, MetaValue, Priority, TaskStatus, Ticket, TicketType, Tombstone

__all__ = [
    "TICKET_KINDS",
    "TIME_DIGITS",
    "decode_canonical",
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


_ORDER = (
    *_TEXT_KEYS, "priority", "deps", "labels", *_LATE_TEXT_KEYS, *_C_TIME_KEYS, _NEW_TEXT_KEYS[0], *_INT_KEYS,
    _NEW_TEXT_KEYS[1], *_NEW_TIME_KEYS,
)  # fmt: skip
"""Key order after ``t,id,name,s``: the C tix order, then the new keys."""
_VALUES = attrgetter(*_ORDER)
_TIMES = frozenset(_C_TIME_KEYS + _NEW_TIME_KEYS)


_TYPES = {kind.value: kind for kind in TicketType}
_STATUSES = {status.value: status for status in TaskStatus}
_PRIORITIES = {level.label: level for level in Priority}


_CANON_KEYS = frozenset(_ORDER) | {"t", "id", "name", "s", "meta"}
_TEXT_SET = frozenset((*_TEXT_KEYS, *_LATE_TEXT_KEYS, *_NEW_TEXT_KEYS, "name", "id"))
_INT_SET = frozenset(_INT_KEYS)


_ENCODER = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"), allow_nan=False)
"""What ``json.dumps(record, ensure_ascii=False, separators=(",", ":"), allow_nan=False)`` uses, made once."""


def dump_line(record: Mapping[str, Any]) -> str:
    """One JSONL line (with its newline): compact separators, UTF-8 kept raw."""
    return _ENCODER.encode(record) + "\n"


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


def _plain(value: object) -> bool:
    return type(value) in (str, int) or (
        type(value) is float and math.isfinite(value) and not value.is_integer()
    )


def _fast_decode(rec: Mapping[str, Any], previous: Ticket | None) -> Ticket | None:
    """Decode a well-typed record without per-field coercion; None sends it to the lenient path."""
    if not rec.keys() <= _CANON_KEYS or rec.get("s", "p") not in _STATUSES:
        return None
    meta = rec.get("meta") or {}
    deps, labels = rec.get("deps") or [], rec.get("labels") or []
    if type(meta) is not dict or not all(_plain(v) for v in meta.values()):
        return None
    if (
        type(deps) is not list
        or type(labels) is not list
        or not all(type(x) is str for x in (*deps, *labels))
    ):
        return None
    present = rec.keys()
    if any(type(rec[k]) is not str for k in _TEXT_SET.intersection(present)):
        return None
    if rec.get("priority", "none") not in _PRIORITIES:
        return None
    if any(type(rec[k]) is not int for k in _INT_SET.intersection(present)) or not all(
        _finite(rec[k]) for k in _TIMES.intersection(present)
    ):
        return None
    merged = {**previous.meta, **meta} if previous is not None else meta
    fields = {**rec, "deps": list(dict.fromkeys(deps)), "labels": list(dict.fromkeys(labels)), "meta": merged}
    return decode_canonical(fields)


def _finite(value: object) -> bool:
    return type(value) in (int, float) and math.isfinite(value)  # type: ignore[arg-type]


def decode_canonical(rec: Mapping[str, Any]) -> Ticket:
    """Fast path for records this module wrote (the cache's ``data`` column): types are already right."""
    g = rec.get
    return Ticket(
        rec["id"], _TYPES[rec["t"]], _STATUSES[rec["s"]], rec["name"], g("spec", ""), g("notes", ""),
        g("accept", ""), g("check", ""), _PRIORITIES.get(g("priority", "none"), Priority.NONE),
        tuple(g("deps", ())), tuple(g("labels", ())), g("parent", ""), g("created_from", ""),
        g("supersedes", ""), g("created_from_name", ""), g("supersedes_name", ""), g("supersedes_reason", ""),
        g("decompose_depth", 0), g("kill_reason", ""), g("kill_count", 0), g("retries", 0),
        g("reject_reason", ""), g("author", ""), g("assigned", ""), g("branch", ""), g("done_at", ""),
        float(g("created_at", 0.0)), float(g("updated_at", 0.0)), g("completed_at", ""),
        float(g("resolved_at", 0.0)), float(g("compacted_at", 0.0)), g("meta") or {},
    )  # fmt: skip


def decode_ticket(rec: Mapping[str, Any], previous: Ticket | None = None) -> Ticket:
    """A ticket line replaces the row (full replace); meta merges over ``previous.meta``, and unknown
    top-level keys (C-era telemetry such as ``"cost"``) are read as meta."""
    fast = _fast_decode(rec, previous)
    if fast is not None:
        return fast
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
    rec: dict[str, Any] = {
        "t": ticket.type.value,
        "id": ticket.id,
        "name": ticket.name,
        "s": ticket.status.value,
    }
    for key, value in zip(_ORDER, _VALUES(ticket), strict=True):
        if value:
            rec[key] = value
    if "priority" in rec:
        rec["priority"] = ticket.priority.label
    for key in ("deps", "labels"):
        if key in rec:
            rec[key] = list(rec[key])
    for key in _TIMES.intersection(rec):
        rec[key] = _time(rec[key])
    meta = ticket.meta
    keys = sorted(meta) if meta_keys is None else sorted(k for k in meta_keys if k in meta)
    if keys:
        rec["meta"] = {key: meta[key] for key in keys}
    return rec


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
