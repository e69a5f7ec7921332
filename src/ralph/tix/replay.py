"""Replay of plan.jsonl records into tickets, tombstones and failures: last write wins per id (pure)."""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any, TypeVar, cast

import msgspec

from ralph.tix.lines import TICKET_KINDS, decode_failure, decode_ticket, decode_tombstone
from ralph.tix.records import Failure, TaskStatus, Ticket, Tombstone

__all__ = [
    "HISTORY_KINDS",
    "Parsed",
    "PlanState",
    "parse_lines",
    "record_ids",
    "replay_text",
    "without_surrogates",
]

T = TypeVar("T")
HISTORY_KINDS = frozenset({"accept", "reject", "fail"})
_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89abcdefABCDEF]")
"""A ``\\ud800``..``\\udfff`` escape: half of a pair (fine), or a lone surrogate once decoded."""
_SURROGATE = re.compile("[\ud800-\udfff]")


@dataclass(frozen=True, slots=True)
class Parsed:
    """One line of the file: its raw text (with newline) and the decoded record, or None if foreign."""

    raw: str
    rec: Mapping[str, Any] | None


@dataclass
class PlanState:
    """The result of replaying records in file order. ``touched`` and the new tombstones/failures tell an
    incremental cache update what changed."""

    tickets: dict[str, Ticket] = field(default_factory=dict)
    tombstones: list[Tombstone] = field(default_factory=list)
    failures: list[Failure] = field(default_factory=list)
    foreign: list[str] = field(default_factory=list)
    history: dict[str, list[str]] = field(default_factory=dict)
    touched: dict[str, None] = field(default_factory=dict)
    duplicates: set[str] = field(default_factory=set)

    def apply(self, line: Parsed) -> None:
        """Apply one line; records that are not ours are kept verbatim in ``foreign``."""
        rec = line.rec
        if rec is None:
            self.foreign.append(line.raw)
            return
        kind = rec["t"]
        if kind in TICKET_KINDS:
            self._apply_ticket(rec)
        elif kind in ("accept", "reject"):
            self._apply_tombstone(decode_tombstone(rec), line.raw)
        elif kind == "delete":
            self._apply_delete(str(rec["id"]), rec.get("time"))
        else:
            self._apply_failure(decode_failure(rec), line.raw)

    def apply_all(self, lines: Iterable[Parsed]) -> PlanState:
        for line in lines:
            self.apply(line)
        return self

    def _apply_ticket(self, rec: Mapping[str, Any]) -> None:
        previous = self.tickets.get(rec["id"])
        ticket = decode_ticket(rec, previous)
        if previous is not None and _conflicts(previous, ticket):
            self.duplicates.add(ticket.id)
        self._set(ticket)

    def _apply_tombstone(self, stone: Tombstone, raw: str) -> None:
        self.tombstones.append(stone)
        self.history.setdefault(stone.id, []).append(raw)
        ticket = self.tickets.get(stone.id)
        if ticket is None:
            return
        when = stone.time or ticket.updated_at
        if stone.is_accept:
            resolved = stone.time or ticket.resolved_at
            self._set(replace(ticket, status=TaskStatus.ACCEPTED, resolved_at=resolved, updated_at=when))
        else:
            self._set(
                replace(
                    ticket,
                    status=TaskStatus.PENDING,
                    done_at="",
                    retries=ticket.retries + 1,
                    reject_reason=stone.reason,
                    updated_at=when,
                )
            )

    def _apply_delete(self, ticket_id: str, when: object) -> None:
        ticket = self.tickets.get(ticket_id)
        if ticket is None:
            return
        stamp = float(when) if isinstance(when, int | float) and not isinstance(when, bool) else 0.0
        self._set(
            replace(
                ticket,
                status=TaskStatus.DELETED,
                resolved_at=stamp or ticket.resolved_at,
                updated_at=stamp or ticket.updated_at,
            )
        )

    def _apply_failure(self, failure: Failure, raw: str) -> None:
        self.failures.append(failure)
        self.history.setdefault(failure.id, []).append(raw)
        ticket = self.tickets.get(failure.id)
        if ticket is None:
            return
        self._set(
            replace(
                ticket,
                kill_count=ticket.kill_count + 1,
                kill_reason=failure.kill_reason or failure.reason,
                updated_at=failure.time or ticket.updated_at,
            )
        )

    def _set(self, ticket: Ticket) -> None:
        self.tickets[ticket.id] = ticket
        self.touched[ticket.id] = None


def _conflicts(old: Ticket, new: Ticket) -> bool:
    """Two different tickets under one id: the type changed, or both carry different creation times."""
    return old.type != new.type or bool(
        old.created_at and new.created_at and old.created_at != new.created_at
    )


_JSON = msgspec.json.Decoder()
"""Reads a plain line about twice as fast as ``json.loads``; whatever it refuses (NaN, a lone surrogate
escape, 1E400, bad JSON) goes to ``json.loads``, so a line means exactly what it always meant."""


def _decode(raw: str) -> Mapping[str, Any] | None:
    try:
        rec = _JSON.decode(raw)
    except Exception:
        try:
            rec = json.loads(raw)
        except ValueError:
            return None
    if not isinstance(rec, dict):
        return None
    if "\\u" in raw and _SURROGATE_ESCAPE.search(raw):
        rec = without_surrogates(rec)
    kind, ticket_id = rec.get("t"), rec.get("id")
    if not isinstance(ticket_id, str) or not ticket_id:
        return None
    if kind in TICKET_KINDS or kind in HISTORY_KINDS or kind == "delete":
        return rec
    return None


def without_surrogates(value: T) -> T:
    """``value`` with each lone surrogate read as U+FFFD, in keys and values at any depth. A lone surrogate
    is valid JSON as an escape but has no UTF-8 form: SQLite and a rewrite of the file would fail on it."""
    clean: object = value
    if isinstance(value, str):
        clean = _SURROGATE.sub("\ufffd", value)
    elif isinstance(value, list):
        clean = [without_surrogates(item) for item in value]
    elif isinstance(value, dict):
        clean = {without_surrogates(k): without_surrogates(v) for k, v in value.items()}
    return cast(T, clean)


def parse_lines(text: str) -> list[Parsed]:
    """Split complete lines (each keeps its newline) and decode the records tix understands. Splits on
    ``\n`` only: raw U+2028 inside a JSON string is not a line break."""
    return [Parsed(raw + "\n", _decode(raw)) for raw in text.split("\n") if raw.strip()]


def record_ids(lines: Iterable[Parsed]) -> set[str]:
    """Ids the given records refer to."""
    return {str(line.rec["id"]) for line in lines if line.rec is not None}


def replay_text(text: str, base: Mapping[str, Ticket] | None = None) -> PlanState:
    """Replay ``text`` on top of ``base`` tickets (a copy is made)."""
    return PlanState(tickets=dict(base or {})).apply_all(parse_lines(text))
