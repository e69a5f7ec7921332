"""The one policy module: run totals and limits in, an exit reason (or a stage decision) out. Pure.

The driver calls ``check_limits`` before every stage (``guard_uses`` is the one list of guards, which
``ralph watch`` shows as gauges), ``stage_timeout`` to bound each agent call by the wall
time left, ``context_action`` after a stage, ``infra_decision`` when an endpoint failed, and keeps a
``LoopDetector`` of stage fingerprints.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass, replace
from enum import StrEnum
from typing import Any

from ralph.errors import ExitReason
from ralph.stage import Stage

__all__ = [
    "ContextAction",
    "GuardUse",
    "InfraDecision",
    "Limits",
    "LoopDetector",
    "Totals",
    "check_limits",
    "context_action",
    "fingerprint",
    "guard_uses",
    "infra_decision",
    "nearest_guard",
    "nearest_of",
    "stage_timeout",
]


@dataclass(frozen=True)
class Limits:
    """Every limit of a run; 0 means off."""

    max_iterations: int = 0
    max_wall_time_s: float = 0.0
    max_cost: float = 0.0
    max_tokens: int = 0
    max_api_calls: int = 0
    max_failures: int = 0
    progress_stall_abort_s: float = 0.0
    loop_detection_threshold: int = 0
    stage_timeout_s: float = 900.0
    max_rate_limit_wait_s: float = 900.0

    @classmethod
    def from_settings(cls, settings: Any) -> Limits:
        """Read the limit keys of a resolved ``Settings``."""
        return cls(
            max_iterations=int(settings.max_iterations),
            max_wall_time_s=float(settings.max_wall_time_s),
            max_cost=float(settings.max_cost),
            max_tokens=int(settings.max_tokens),
            max_api_calls=int(settings.max_api_calls),
            max_failures=int(settings.max_failures),
            progress_stall_abort_s=float(settings.progress_stall_abort_s),
            loop_detection_threshold=int(settings.loop_detection_threshold),
            stage_timeout_s=float(settings.stage_timeout_ms) / 1000.0,
            max_rate_limit_wait_s=float(settings.max_rate_limit_wait_s),
        )


@dataclass(frozen=True)
class Totals:
    """What the run has used so far; the driver replaces it after every stage."""

    started_at: float
    last_progress_at: float
    iterations: int = 0
    """Completed iterations of this run."""
    cost: float = 0.0
    tokens: int = 0
    api_calls_remote: int = 0
    api_calls_local: int = 0
    consecutive_failures: int = 0
    infra_streak: int = 0
    loop_repeats: int = 0
    """How many times in a row the same stage fingerprint has been seen."""

    def after_stage(self, *, failed: bool, infra: bool = False) -> Totals:
        """Count a finished stage for the breaker: success resets; an infra failure counts when repeated."""
        if infra:
            streak = self.infra_streak + 1
            bump = 1 if streak >= 2 else 0
            return replace(self, infra_streak=streak, consecutive_failures=self.consecutive_failures + bump)
        if failed:
            return replace(self, infra_streak=0, consecutive_failures=self.consecutive_failures + 1)
        return replace(self, infra_streak=0, consecutive_failures=0)


@dataclass(frozen=True)
class GuardUse:
    """How much of one limit a run has used (``ralph watch`` shows these as gauges)."""

    guard: str
    """The guard's name: the exit reason it trips (``wall_time``, ``cost_limit``, ...)."""
    used: float
    limit: float

    @property
    def fraction(self) -> float:
        return self.used / self.limit if self.limit > 0 else 0.0

    @property
    def pct(self) -> float:
        return 100.0 * self.fraction


def guard_uses(limits: Limits, totals: Totals, now: float) -> tuple[GuardUse, ...]:
    """Every limit that is on (non-zero), in the order ``check_limits`` tests them: the one list of guards."""
    pairs: tuple[tuple[ExitReason, float, float], ...] = (
        (ExitReason.MAX_ITERATIONS, totals.iterations, limits.max_iterations),
        (ExitReason.WALL_TIME, now - totals.started_at, limits.max_wall_time_s),
        (ExitReason.COST_LIMIT, totals.cost, limits.max_cost),
        (ExitReason.TOKEN_LIMIT, totals.tokens, limits.max_tokens),
        (ExitReason.API_CALL_LIMIT, totals.api_calls_remote, limits.max_api_calls),
        (ExitReason.CIRCUIT_BREAKER, totals.consecutive_failures, limits.max_failures),
        (ExitReason.PROGRESS_STALL, now - totals.last_progress_at, limits.progress_stall_abort_s),
        (ExitReason.LOOP_DETECTED, totals.loop_repeats, limits.loop_detection_threshold),
    )
    return tuple(
        GuardUse(reason.value, float(used), float(limit)) for reason, used, limit in pairs if limit > 0
    )


def nearest_of(uses: Iterable[GuardUse]) -> GuardUse | None:
    """The use closest to its limit (highest fraction); the first of equals."""
    best: GuardUse | None = None
    for use in uses:
        if best is None or use.fraction > best.fraction:
            best = use
    return best


def nearest_guard(limits: Limits, totals: Totals, now: float) -> GuardUse | None:
    """The guard nearest to tripping (name, used, limit, fraction), or None when no limit is on."""
    return nearest_of(guard_uses(limits, totals, now))


def check_limits(limits: Limits, totals: Totals, now: float, *, iteration_start: bool) -> ExitReason | None:
    """The first limit reached, in a fixed order, or None; ``max_iterations`` stops only between
    iterations."""
    for use in guard_uses(limits, totals, now):
        if use.used >= use.limit and (iteration_start or use.guard != ExitReason.MAX_ITERATIONS):
            return ExitReason(use.guard)
    return None


def stage_timeout(limits: Limits, totals: Totals, now: float) -> float:
    """An agent call may run for the stage timeout, but never past the end of the wall-time budget."""
    timeout = limits.stage_timeout_s if limits.stage_timeout_s > 0 else float("inf")
    if limits.max_wall_time_s > 0:
        timeout = min(timeout, limits.max_wall_time_s - (now - totals.started_at))
    return max(1.0, timeout) if timeout != float("inf") else 86_400.0


class ContextAction(StrEnum):
    NONE = "none"
    COMPACT = "compact"  # hand the session off: fresh session with a summary
    KILL = "kill"  # the stage is over its budget: fail it (BUILD goes to DECOMPOSE)


def context_action(used: int, window: int, compact_pct: float, kill_pct: float) -> ContextAction:
    """What the context occupancy of a session calls for."""
    if window <= 0 or used <= 0:
        return ContextAction.NONE
    pct = 100.0 * used / window
    if kill_pct > 0 and pct >= kill_pct:
        return ContextAction.KILL
    if compact_pct > 0 and pct >= compact_pct:
        return ContextAction.COMPACT
    return ContextAction.NONE


@dataclass(frozen=True)
class InfraDecision:
    """After an infra failure: how long to wait (through the Clock) before the stage runs again."""

    wait_s: float
    retry: bool


def infra_decision(reset_s: float | None, waited_s: float, max_wait_s: float, streak: int) -> InfraDecision:
    """Wait for a known rate-limit reset within the budget; retry once without a known reset."""
    budget = max(0.0, max_wait_s - waited_s)
    if reset_s is not None and reset_s > 0:
        wait = min(reset_s, budget)
        return InfraDecision(wait_s=wait, retry=wait >= reset_s)
    return InfraDecision(wait_s=0.0, retry=streak < 2)


def fingerprint(stage: Stage, subject: Iterable[str], tickets: Iterable[str], diff: str) -> str:
    """A digest of what a stage saw: the stage, its task or batch, the ticket states and the tree's diff."""
    digest = hashlib.sha256()
    for part in (stage.value, "|".join(subject), "|".join(sorted(tickets)), diff):
        digest.update(part.encode("utf-8", errors="replace"))
        digest.update(b"\0")
    return digest.hexdigest()[:16]


class LoopDetector:
    """Counts identical consecutive stage fingerprints; the streak feeds ``Totals.loop_repeats``."""

    def __init__(self) -> None:
        self._last = ""
        self._streak = 0

    def observe(self, print_: str) -> int:
        """Record one stage's fingerprint; return how many times in a row it has now been seen."""
        self._streak = self._streak + 1 if print_ == self._last else 1
        self._last = print_
        return self._streak
