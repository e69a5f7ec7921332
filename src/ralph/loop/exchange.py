"""One stage's conversation with its agent: the first prompt, then in-session repair retries. Pure.

``repair_flow`` is a generator (httpx's auth-flow shape): it yields the next ``Ask`` and receives the agent's
``StageResult``; the driver does the I/O. Output is read only from the last complete ``[RALPH_OUTPUT]`` block;
nothing is inferred from prose. Usable parts of a partly valid answer are kept, and the retry asks only for
what failed, so a retry never re-applies anything.
"""

from __future__ import annotations

from collections.abc import Callable, Generator, Mapping
from dataclasses import dataclass
from typing import Any

from ralph.agents.base import StageResult
from ralph.errors import KillReason
from ralph.loop.guards import ContextAction, context_action
from ralph.loop.prompts import REPAIR, render_prompt
from ralph.stage import Stage

__all__ = ["Ask", "Check", "ContextPolicy", "Exchange", "repair_flow", "whole"]

Check = Callable[[Mapping[str, Any]], tuple[Mapping[str, Any] | None, list[str]]]
"""Stage-specific rules on a schema-valid object: (the usable part or None, errors to send back)."""

_SUMMARY_CHARS = 4000


def whole(data: Mapping[str, Any]) -> tuple[Mapping[str, Any] | None, list[str]]:
    """The default check: a schema-valid object is usable as it is."""
    return data, []


@dataclass(frozen=True)
class ContextPolicy:
    window: int = 200_000
    compact_pct: float = 85.0
    kill_pct: float = 95.0


@dataclass(frozen=True)
class Ask:
    """What to send next: a prompt, in which session (None = fresh), and the retry number."""

    prompt: str
    session_id: str | None
    retry: int
    errors: tuple[str, ...] = ()
    handoff: bool = False


@dataclass(frozen=True)
class Exchange:
    """How the conversation ended: usable parts (one per round that had any), leftover errors, failure."""

    parts: tuple[Mapping[str, Any], ...]
    errors: tuple[str, ...]
    retries: int
    handoffs: int
    failure: KillReason | None = None
    detail: str = ""

    @property
    def ok(self) -> bool:
        return self.failure is None and bool(self.parts) and not self.errors

    @property
    def data(self) -> Mapping[str, Any] | None:
        """The last usable part (stages whose answer is one object rather than a list of items)."""
        return self.parts[-1] if self.parts else None


def repair_flow(
    stage: Stage, prompt: str, *, max_retries: int, check: Check = whole, context: ContextPolicy | None = None
) -> Generator[Ask, StageResult, Exchange]:
    """Ask, read the last block, retry with the validator's errors up to ``max_retries`` times."""
    policy = context or ContextPolicy()
    ask = Ask(prompt=prompt, session_id=None, retry=0)
    parts: list[Mapping[str, Any]] = []
    handoffs = 0
    while True:
        result = yield ask
        if result.failure is not None:
            return Exchange(tuple(parts), (), ask.retry, handoffs, result.failure, result.detail)
        usable, errors = _read(stage, result.text, check)
        if usable is not None:
            parts.append(usable)
        if not errors or ask.retry >= max_retries:
            return Exchange(tuple(parts), tuple(errors), ask.retry, handoffs)
        ask = _next_ask(stage, prompt, ask, result, errors, partial=bool(parts), policy=policy)
        handoffs += int(ask.handoff)


def _read(stage: Stage, text: str, check: Check) -> tuple[Mapping[str, Any] | None, list[str]]:
    from ralph.output import parse_output  # jsonschema loads with the first answer, not with `ralph status`

    parsed = parse_output(stage, text)
    if not parsed.ok or parsed.data is None:
        return None, list(parsed.errors) or ["no complete [RALPH_OUTPUT] block"]
    return check(parsed.data)


def _next_ask(
    stage: Stage,
    original: str,
    ask: Ask,
    result: StageResult,
    errors: list[str],
    *,
    partial: bool,
    policy: ContextPolicy,
) -> Ask:
    """Continue the session, or hand off to a fresh one when it is past ``compact_pct`` or unknown."""
    session = result.session_id or ask.session_id
    crowded = context_action(result.context_used, policy.window, policy.compact_pct, policy.kill_pct)
    handoff = session is None or crowded is not ContextAction.NONE
    prompt = render_prompt(
        stage,
        REPAIR,
        errors=errors,
        handoff=handoff,
        original=original,
        summary=result.text[-_SUMMARY_CHARS:].strip() or "(it wrote nothing)",
        partial=partial,
    )
    return Ask(
        prompt=prompt,
        session_id=None if handoff else session,
        retry=ask.retry + 1,
        errors=tuple(errors),
        handoff=handoff,
    )
