"""The backend contract: one Protocol, frozen request/result records, normalised events.

A backend only translates: it builds argv or a request, turns wire events into ``AgentEvent``s and returns a
``StageResult``. Timeouts, context kills, empty-step and identical-tool-call detection live in
``agents.watch``; pricing rules live here (``price_call``); ledger writes happen in the loop.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import Any, Protocol

from ralph.clock import Clock, SystemClock
from ralph.errors import FailureKind
from ralph.stage import Stage

__all__ = [
    "AgentBackend",
    "AgentEvent",
    "BackendOptions",
    "EventKind",
    "EventSink",
    "ModelCall",
    "NullSink",
    "OutputMask",
    "Price",
    "StageRequest",
    "StageResult",
    "Usage",
    "price_call",
]


@dataclass(frozen=True)
class Price:
    """USD per million tokens."""

    input: float = 0.0
    cached: float = 0.0
    output: float = 0.0


@dataclass(frozen=True)
class Usage:
    """Token counts of one call or a sum of calls. ``input`` excludes cached tokens."""

    input: int = 0
    cached: int = 0
    output: int = 0

    def __add__(self, other: Usage) -> Usage:
        return Usage(self.input + other.input, self.cached + other.cached, self.output + other.output)

    @property
    def total(self) -> int:
        return self.input + self.cached + self.output


def price_call(usage: Usage, *, reported_cost: float | None, is_local: bool, price: Price | None) -> float:
    """Cost of one call: local is free; a configured price wins; else what the agent reported; else 0."""
    if is_local:
        return 0.0
    if price is not None:
        return (
            usage.input * price.input + usage.cached * price.cached + usage.output * price.output
        ) / 1_000_000
    return float(reported_cost or 0.0)


@dataclass(frozen=True)
class ModelCall:
    """One model API call (one step or turn), as ``calls.jsonl`` records it."""

    backend: str
    model: str
    is_local: bool
    usage: Usage
    cost: float
    latency_s: float = 0.0
    endpoint: str = ""
    simulated: bool = False


class EventKind(StrEnum):
    SESSION = "session"  # session id became known (text = id)
    TEXT = "text"  # assistant text (a delta or a whole part)
    THOUGHT = "thought"
    TOOL_CALL = "tool_call"  # tool = name, tool_input = canonical JSON of the input
    TOOL_RESULT = "tool_result"
    STEP = "step"  # one model call finished; ``call`` is set
    USAGE = "usage"  # context occupancy report (context_used / context_size)
    RATE_LIMIT = "rate_limit"  # text = detail; reset_s = seconds until the window resets, if known
    ERROR = "error"  # text = detail
    UNKNOWN = "unknown"  # an event type we do not know (raw_type); logged and counted, never fatal


@dataclass(frozen=True)
class AgentEvent:
    kind: EventKind
    text: str = ""
    tool: str = ""
    tool_input: str = ""
    call: ModelCall | None = None
    context_used: int | None = None
    context_size: int | None = None
    reset_s: float | None = None
    raw_type: str = ""


class EventSink(Protocol):
    """Receives events as they arrive (activity display, watchdog, logs)."""

    def emit(self, event: AgentEvent) -> None: ...


class NullSink:
    def emit(self, event: AgentEvent) -> None:
        return None


@dataclass(frozen=True)
class StageRequest:
    """Everything one agent call needs. Limits are enforced *during* the call by ``agents.watch``."""

    stage: Stage
    prompt: str
    model: str
    cwd: Path
    timeout_s: float
    agent: str | None = None
    """opencode ``--agent`` / ACP mode; None means the agent's default."""
    session_id: str | None = None
    """Continue this session (validation retry); None starts a fresh one."""
    is_local: bool = False
    """Decided by settings routing from the configured endpoints/providers."""
    price: Price | None = None
    """Configured price for ``model``; None means trust the agent's reported cost."""
    context_window: int = 200_000
    context_kill_pct: float = 95.0
    max_empty_steps: int = 5
    max_identical_tool_calls: int = 5
    read_only: bool = False
    """Permission policy: deny edits and shell writes (verify, investigate, dedup)."""
    payload: Mapping[str, Any] = field(default_factory=dict)
    """Structured form of what the prompt asks (task, batch ids). Real agents see only the prompt;
    the simulator reads this instead of parsing prose."""


@dataclass(frozen=True)
class StageResult:
    """What came back. ``failure`` is None when the agent finished on its own (the answer may still be
    invalid: that is the output protocol's call, not the backend's)."""

    text: str
    session_id: str | None
    calls: tuple[ModelCall, ...]
    duration_s: float
    failure: FailureKind | None = None
    detail: str = ""
    context_used: int = 0
    context_size: int | None = None
    rate_limit_reset_s: float | None = None
    unknown_events: int = 0
    simulated: bool = False
    output_log: Path | None = None
    """Where the full raw output went when it exceeded the in-memory cap."""

    @property
    def usage(self) -> Usage:
        total = Usage()
        for call in self.calls:
            total = total + call.usage
        return total

    @property
    def cost(self) -> float:
        return sum(call.cost for call in self.calls)

    @property
    def ok(self) -> bool:
        return self.failure is None


class OutputMask(Protocol):
    """Masks the credentials an agent holds in text Ralph writes from its output (the loop passes its
    ``loop.secrets.SecretMask``); ``longest`` is the longest credential's length (how much text to hold
    back across pieces)."""

    longest: int

    def __call__(self, text: str) -> str: ...


@dataclass(frozen=True)
class BackendOptions:
    """How a backend is built, from resolved settings. Backends never read settings files or os.environ."""

    clock: Clock = field(default_factory=SystemClock)
    program: tuple[str, ...] = ()
    """argv prefix of the agent (``opencode_bin``, ``claude_bin``, ``acp_command``); empty = default."""
    env: Mapping[str, str] = field(default_factory=dict)
    """Extra environment for the agent on top of the scrubbed process environment."""
    permission_mode: str = ""
    output_cap_bytes: int = 8_000_000
    spill_dir: Path | None = None
    mask: OutputMask | None = None
    """Masks the credentials of ``env`` in the raw output spilled to ``spill_dir``; None writes it as is."""
    extra: Mapping[str, Any] = field(default_factory=dict)
    """Backend-specific knobs (sim: scenario, seed, model table; openai: base_url)."""


class AgentBackend(Protocol):
    """One agent program or endpoint. ``run`` blocks until the stage ends or is killed."""

    name: str

    def run(self, request: StageRequest, events: EventSink) -> StageResult: ...

    def close(self) -> None: ...
