"""Ticket records: types, states, priorities, tombstones and the ID format (pure; no I/O)."""

from __future__ import annotations

import os
import re
from collections.abc import Container, Mapping
from dataclasses import dataclass, field
from enum import IntEnum, StrEnum

from ralph.errors import StoreError, UsageError

__all__ = [
    "Failure",
    "MetaValue",
    "Priority",
    "TaskCounts",
    "TaskStatus",
    "Ticket",
    "TicketType",
    "Tombstone",
    "ValidationReport",
    "is_ticket_id",
    "new_id",
]

MetaValue = str | float
_ID_PATTERN = re.compile(r"^[tin]-[0-9a-fA-F]+$")


class TicketType(StrEnum):
    """Kind of ticket; values are the JSONL ``"t"`` strings."""

    TASK = "task"
    ISSUE = "issue"
    NOTE = "note"

    @property
    def prefix(self) -> str:
        return self.value[0]

    @property
    def code(self) -> int:
        """The integer the cache and TQL rows use (C tix compatible)."""
        return _TYPE_CODES[self]

    @classmethod
    def parse(cls, text: str | int) -> TicketType:
        for member in cls:
            if text in (member.value, member.code, str(member.code)):
                return member
        raise UsageError(f"unknown ticket type: {text!r} (expected task, issue or note)")


_TYPE_CODES = {TicketType.TASK: 0, TicketType.ISSUE: 1, TicketType.NOTE: 2}


class TaskStatus(StrEnum):
    """Ticket state; values are the JSONL ``"s"`` letters. ``label`` is the readable name."""

    PENDING = "p"
    DONE = "d"
    ACCEPTED = "a"
    REJECTED = "r"
    DELETED = "x"

    @property
    def label(self) -> str:
        return _STATUS_LABELS[self]

    @property
    def code(self) -> int:
        """The integer the cache and TQL rows use: 0 pending .. 4 deleted."""
        return _STATUS_CODES[self]

    @property
    def resolved(self) -> bool:
        return self in (TaskStatus.ACCEPTED, TaskStatus.DELETED)

    @classmethod
    def parse(cls, text: str | int) -> TaskStatus:
        """Accept a letter, a label ("pending"), or an integer code."""
        for member in cls:
            if text in (member.value, member.label, member.code, str(member.code)):
                return member
        raise UsageError(f"unknown status: {text!r} (expected pending, done, accepted, rejected or deleted)")

    @classmethod
    def from_letter(cls, letter: object) -> TaskStatus:
        """Read a JSONL status letter; an unknown letter reads as pending, as in the C tix."""
        return _STATUS_BY_LETTER.get(letter if isinstance(letter, str) else "", cls.PENDING)


_STATUS_LABELS = {
    TaskStatus.PENDING: "pending",
    TaskStatus.DONE: "done",
    TaskStatus.ACCEPTED: "accepted",
    TaskStatus.REJECTED: "rejected",
    TaskStatus.DELETED: "deleted",
}
_STATUS_CODES = {status: index for index, status in enumerate(TaskStatus)}
_STATUS_BY_LETTER = {status.value: status for status in TaskStatus}


class Priority(IntEnum):
    """Task priority; stored in JSONL as its lower-case name (omitted when NONE)."""

    NONE = 0
    LOW = 1
    MEDIUM = 2
    HIGH = 3

    @property
    def label(self) -> str:
        return self.name.lower()

    @classmethod
    def parse(cls, value: object) -> Priority:
        """Accept "high"/"medium"/"low"/"none" (any case), an int 0..3, or a Priority."""
        if isinstance(value, Priority):
            return value
        if isinstance(value, int) and not isinstance(value, bool) and 0 <= value <= 3:
            return cls(value)
        if isinstance(value, str):
            key = value.strip().upper() or "NONE"
            if key in cls.__members__:
                return cls[key]
            if key.isdigit() and int(key) <= 3:
                return cls(int(key))
        raise UsageError(f"invalid priority: {value!r} (expected high, medium, low or none)")


@dataclass(frozen=True, slots=True)
class Ticket:
    """One task, issue or note as replayed from plan.jsonl. Unset text fields are ``""``."""

    id: str
    type: TicketType = TicketType.TASK
    status: TaskStatus = TaskStatus.PENDING
    name: str = ""
    spec: str = ""
    notes: str = ""
    accept: str = ""
    check: str = ""
    priority: Priority = Priority.NONE
    deps: tuple[str, ...] = ()
    labels: tuple[str, ...] = ()
    parent: str = ""
    created_from: str = ""
    supersedes: str = ""
    created_from_name: str = ""
    supersedes_name: str = ""
    supersedes_reason: str = ""
    decompose_depth: int = 0
    kill_reason: str = ""
    kill_count: int = 0
    retries: int = 0
    reject_reason: str = ""
    author: str = ""
    assigned: str = ""
    branch: str = ""
    done_at: str = ""
    created_at: float = 0.0
    updated_at: float = 0.0
    completed_at: str = ""
    resolved_at: float = 0.0
    compacted_at: float = 0.0
    meta: Mapping[str, MetaValue] = field(default_factory=dict)

    @property
    def is_live(self) -> bool:
        """Pending or done: still part of the work."""
        return self.status in (TaskStatus.PENDING, TaskStatus.DONE)


@dataclass(frozen=True, slots=True)
class Tombstone:
    """An accept or reject decision on a task, with the commit and time it was made."""

    id: str
    is_accept: bool
    name: str = ""
    done_at: str = ""
    reason: str = ""
    commit: str = ""
    time: float = 0.0

    @property
    def kind(self) -> str:
        return "accept" if self.is_accept else "reject"


@dataclass(frozen=True, slots=True)
class Failure:
    """A recorded failed attempt of a pending task (BUILD killed or gave up)."""

    id: str
    reason: str
    kill_reason: str = ""
    time: float = 0.0


@dataclass(frozen=True, slots=True)
class TaskCounts:
    """Task totals. ``total`` = pending + done + accepted; ``rejected``/``failed`` count pending tasks that
    were rejected / failed at least once, so completed + failed never exceeds total."""

    total: int = 0
    pending: int = 0
    done: int = 0
    accepted: int = 0
    rejected: int = 0
    deleted: int = 0
    failed: int = 0


@dataclass(frozen=True, slots=True)
class ValidationReport:
    """Outcome of ``TicketStore.validate``: errors fail validation, warnings do not."""

    errors: tuple[str, ...] = ()
    warnings: tuple[str, ...] = ()

    @property
    def ok(self) -> bool:
        return not self.errors


def is_ticket_id(text: object) -> bool:
    """Well-formed ``t-``/``i-``/``n-`` + hex id (any length, as the C tix accepted)."""
    return isinstance(text, str) and bool(_ID_PATTERN.match(text))


def new_id(kind: TicketType, taken: Container[str]) -> str:
    """A fresh ``<prefix>-<8 hex>`` id not in ``taken``."""
    for _ in range(64):
        candidate = f"{kind.prefix}-{os.urandom(4).hex()}"
        if candidate not in taken:
            return candidate
    raise StoreError("could not generate a unique ticket id")
