"""The one commit of an iteration: a message that says what happened (pure)."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field

from ralph.stage import Stage

__all__ = ["IterationLog", "commit_message"]

_CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f]")
"""Control characters an agent may put in a task name or reason; git refuses a message with NUL."""


@dataclass
class IterationLog:
    """What happened in one iteration, collected as stages run."""

    number: int
    spec: str
    stages: list[Stage] = field(default_factory=list)
    accepted: list[tuple[str, str]] = field(default_factory=list)
    """(id, name)"""
    rejected: list[tuple[str, str, str]] = field(default_factory=list)
    """(id, name, reason)"""
    created: list[tuple[str, str]] = field(default_factory=list)
    failed: list[tuple[str, str, str]] = field(default_factory=list)
    """(id, name, kill reason)"""
    issues: int = 0


def _subject(log: IterationLog) -> str:
    acc, rej = log.accepted, log.rejected
    if len(acc) == 1 and not rej:
        return f"accept {acc[0][0]} {acc[0][1]}"
    if acc and rej:
        return f"accept {len(acc)}, reject {len(rej)} tasks"
    if acc:
        return f"accept {len(acc)} tasks"
    if len(rej) == 1:
        return f"reject {rej[0][0]} {rej[0][1]}"
    if rej:
        return f"reject {len(rej)} tasks"
    if log.failed and Stage.DECOMPOSE in log.stages:
        return f"decompose {log.failed[0][0]} {log.failed[0][1]}"
    if log.created:
        return f"create {len(log.created)} tasks"
    return f"iteration {log.number}"


def _lines(title: str, rows: Sequence[tuple[str, ...]]) -> list[str]:
    if not rows:
        return []
    return [f"{title}:", *(f"- {' '.join(r[:2])}" + (f": {r[2][:200]}" if len(r) > 2 else "") for r in rows)]


def commit_message(prefix: str, log: IterationLog) -> str:
    """Subject (prefix + what changed), then accepted/rejected/failed lists, then spec, stages, iteration;
    control characters and lone surrogates that agents put in names and reasons are dropped."""
    body = [
        *_lines("Accepted", log.accepted),
        *_lines("Rejected", log.rejected),
        *_lines("Failed", log.failed),
        *([f"Tasks created: {len(log.created)}"] if log.created else []),
        *([f"Issues raised: {log.issues}"] if log.issues else []),
    ]
    trailer = [
        f"Spec: {log.spec}",
        f"Stages: {' -> '.join(s.value for s in log.stages) or '-'}",
        f"Iteration: {log.number}",
    ]
    subject = f"{prefix} {_subject(log)}".strip()
    message = "\n".join([subject, "", *body, *([""] if body else []), *trailer]) + "\n"
    from ralph.output import storable_text  # not at import: ralph.output loads jsonschema (`ralph status`)

    return _CONTROL.sub("", storable_text(message))
