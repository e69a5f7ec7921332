"""One simulated stage: seeded choices, virtual time, simulated model calls, events and the answer text."""

from __future__ import annotations

import hashlib
import json
import math
import random
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from ralph.agents.base import (
    AgentEvent,
    EventKind,
    EventSink,
    ModelCall,
    StageRequest,
    StageResult,
    Usage,
    price_call,
)
from ralph.agents.sim_models import FailureMode, SimModel
from ralph.clock import Clock
from ralph.errors import FailureKind
from ralph.scenarios import Scenario
from ralph.stage import Stage

__all__ = ["Answer", "SimJob", "output_text", "sim_rng"]

_START, _END = "[RALPH_OUTPUT]", "[/RALPH_OUTPUT]"
_NON_BUILD_FAILURE_SHARE = 0.5
"""Stages other than BUILD fail at this share of the BUILD failure rate at the same difficulty."""


def sim_rng(seed: int, model: str, stage: str, key: str, attempt: int, retry: int) -> random.Random:
    """A generator that depends only on its arguments (never on Python's hash seed)."""
    text = f"{seed}|{model}|{stage}|{key}|{attempt}|{retry}"
    return random.Random(int.from_bytes(hashlib.sha256(text.encode()).digest()[:8], "big"))


def output_text(prose: str, data: Mapping[str, Any]) -> str:
    """Prose followed by the output block."""
    return f"{prose}\n\n{_START}\n{json.dumps(data, indent=2)}\n{_END}\n"


def malformed_text(prose: str, data: Mapping[str, Any], rng: random.Random) -> str:
    """An answer the output protocol rejects: no block, a cut-off JSON object, or the wrong shape."""
    variant = rng.randrange(3)
    if variant == 0:
        return f"{prose}\n\nAll done - the work is complete.\n"
    if variant == 1:
        body = json.dumps(data, indent=2)
        return f"{prose}\n\n{_START}\n{body[: max(1, len(body) // 2)]}\n{_END}\n"
    return f"{prose}\n\n{_START}\n{json.dumps({'answer': data})}\n{_END}\n"


@dataclass(frozen=True)
class Answer:
    """What a stage decided: the output object (None: no block at all), prose, and how it ended."""

    data: Mapping[str, Any] | None
    prose: str
    failure: FailureKind | None = None
    detail: str = ""
    malformed: bool = False


@dataclass
class SimJob:
    """The state of one simulated stage call; every random choice comes from ``rng``."""

    request: StageRequest
    events: EventSink
    model: SimModel
    seed: int
    clock: Clock
    scenario: Scenario | None
    key: str = ""
    """Scenario key (or name) of what this stage works on; seeds the malformed-output variant."""
    calls: list[ModelCall] = field(default_factory=list)
    context_used: int = 0
    started: float = 0.0

    def __post_init__(self) -> None:
        self.started = self.clock.now()

    @property
    def payload(self) -> Mapping[str, Any]:
        return self.request.payload

    @property
    def retry(self) -> int:
        return int(self.payload.get("retry") or 0)

    def attempt_of(self, ticket: Mapping[str, Any] | None = None) -> int:
        """``payload.attempt``, else the ticket's retries + kill_count."""
        if self.payload.get("attempt") is not None:
            return int(self.payload["attempt"])
        ticket = ticket or {}
        if ticket.get("attempt") is not None:
            return int(ticket["attempt"])
        return int(ticket.get("retries") or 0) + int(ticket.get("kill_count") or 0)

    def rng(self, key: str, *, retry: int = 0, ticket: Mapping[str, Any] | None = None) -> random.Random:
        stage = self.request.stage.value
        return sim_rng(self.seed, self.model.name, stage, key, self.attempt_of(ticket), retry)

    def outcome(
        self, rng: random.Random, difficulty: int, modes: Sequence[FailureMode]
    ) -> FailureMode | None:
        """None for success, else a failure mode allowed here, drawn by the model's weights."""
        fail_p = 1.0 - self.model.success_p(difficulty)
        if self.request.stage is not Stage.BUILD:
            fail_p *= _NON_BUILD_FAILURE_SHARE
        allowed = [(mode, w) for mode, w in self.model.failure_modes if mode in modes and w > 0]
        if rng.random() >= fail_p or not allowed:
            return None
        return rng.choices([m for m, _ in allowed], weights=[w for _, w in allowed])[0]

    def malformed(self, outcome: FailureMode | None, ticket: Mapping[str, Any] | None = None) -> bool:
        """First answer: malformed when that was the drawn failure; a repair retry fixes it at ``repair``."""
        if self.retry == 0:
            return outcome is FailureMode.MALFORMED
        return self.rng(self.key, retry=self.retry, ticket=ticket).random() >= self.model.repair

    def say(self, text: str) -> None:
        self.events.emit(AgentEvent(EventKind.TEXT, text=f"[simulated {self.model.short}] {text}"))

    def tool(self, name: str, **tool_input: Any) -> None:
        canonical = json.dumps(tool_input, sort_keys=True, separators=(",", ":"))
        self.events.emit(AgentEvent(EventKind.TOOL_CALL, tool=name, tool_input=canonical))

    def tool_result(self, name: str, text: str) -> None:
        self.events.emit(AgentEvent(EventKind.TOOL_RESULT, tool=name, text=text))

    @property
    def elapsed(self) -> float:
        return self.clock.now() - self.started

    def model_calls(self, count: int, rng: random.Random) -> bool:
        """Make ``count`` simulated calls; False (and no more calls) once the stage timeout is reached."""
        for _ in range(count):
            latency = self.model.latency_s * rng.uniform(0.7, 1.3)
            if self.elapsed + latency > self.request.timeout_s:
                return False
            self._one_call(latency, rng)
        return True

    def _one_call(self, latency: float, rng: random.Random) -> None:
        m = self.model
        base = max(m.tokens_cached, len(self.request.prompt) // 4)
        cached = base + len(self.calls) * (m.tokens_in + m.tokens_out)
        usage = Usage(
            int(m.tokens_in * rng.uniform(0.6, 1.4)), cached, int(m.tokens_out * rng.uniform(0.5, 1.5))
        )
        self.clock.advance(latency)
        call = ModelCall(
            backend="sim",
            model=self.request.model or m.name,
            is_local=self.is_local,
            usage=usage,
            cost=price_call(
                usage, reported_cost=None, is_local=self.is_local, price=self.request.price or m.price
            ),
            latency_s=latency,
            endpoint="sim://local" if self.is_local else "sim://remote",
            simulated=True,
        )
        self.calls.append(call)
        self.context_used = usage.total
        self.events.emit(AgentEvent(EventKind.STEP, call=call))
        self._usage_event()

    @property
    def is_local(self) -> bool:
        return self.request.is_local or self.model.local

    def overflow_context(self, rng: random.Random) -> str:
        """Report an occupancy at or past the kill threshold; returns the failure detail."""
        window = self.request.context_window
        floor = math.ceil(window * self.request.context_kill_pct / 100)
        self.context_used = min(window, floor + rng.randrange(0, max(1, window // 50)))
        self._usage_event()
        return f"simulated context overflow: {self.context_used} of {window} tokens"

    def _usage_event(self) -> None:
        size = self.request.context_window
        self.events.emit(AgentEvent(EventKind.USAGE, context_used=self.context_used, context_size=size))

    def wait_out_timeout(self) -> str:
        """Spend the rest of the stage timeout in virtual time; returns the failure detail."""
        self.clock.advance(max(0.0, self.request.timeout_s - self.elapsed))
        return f"simulated timeout after {self.request.timeout_s:.0f}s (virtual)"

    def result(self, answer: Answer, session_id: str) -> StageResult:
        if answer.failure is not None or answer.data is None:
            text = answer.prose
        elif answer.malformed:
            variant = self.rng(f"malformed:{self.key}", retry=self.retry)
            text = malformed_text(answer.prose, answer.data, variant)
        else:
            text = output_text(answer.prose, answer.data)
        return StageResult(
            text=text,
            session_id=session_id,
            calls=tuple(self.calls),
            duration_s=self.elapsed,
            failure=answer.failure,
            detail=answer.detail,
            context_used=self.context_used,
            context_size=self.request.context_window,
            simulated=True,
        )
