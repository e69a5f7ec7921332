"""Drive one stage's exchange with its backend: send each Ask, account every call, wait out rate limits."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any

from ralph.agents.base import StageResult, Usage
from ralph.errors import KillReason
from ralph.loop.exchange import Check, Exchange, repair_flow, whole
from ralph.loop.run import Run
from ralph.stage import Stage

__all__ = ["StageCall", "call_agent"]


@dataclass(frozen=True)
class StageCall:
    """One stage execution with its repair retries: the exchange's outcome and every result."""

    stage: Stage
    exchange: Exchange
    results: tuple[StageResult, ...]
    started_at: float
    ended_at: float

    @property
    def failure(self) -> KillReason | None:
        return self.exchange.failure

    @property
    def usage(self) -> Usage:
        total = Usage()
        for result in self.results:
            total = total + result.usage
        return total

    @property
    def cost(self) -> float:
        return sum(r.cost for r in self.results)

    @property
    def calls(self) -> tuple[int, int]:
        """(remote, local) model calls."""
        calls = [c for r in self.results for c in r.calls]
        return sum(1 for c in calls if not c.is_local), sum(1 for c in calls if c.is_local)

    @property
    def rate_limit_reset_s(self) -> float | None:
        return self.results[-1].rate_limit_reset_s if self.results else None

    @property
    def detail(self) -> str:
        """The failure's detail as the agent reported it, made storable (it goes into tickets)."""
        from ralph.output import storable_text  # not at import: it loads jsonschema (`ralph status`)

        return storable_text(self.exchange.detail or (self.results[-1].detail if self.results else ""))

    @property
    def duration_s(self) -> float:
        return max(0.0, self.ended_at - self.started_at)


def call_agent(
    run: Run,
    stage: Stage,
    prompt: str,
    payload: Mapping[str, Any],
    *,
    task_id: str | None = None,
    check: Check = whole,
) -> StageCall:
    """Run the stage on its routed backend, with in-session repair retries; every call is ledgered."""
    backend = run.backends[run.route(stage).backend]
    flow = repair_flow(
        stage, prompt, max_retries=run.settings.max_validation_retries, check=check, context=run.context
    )
    started = run.now()
    results: list[StageResult] = []
    ask = next(flow)
    run.sink.note(f"{stage.value} {task_id or ''} start".strip())
    while True:
        result = _masked(run, backend.run(run.request(stage, ask, payload), run.events))
        results.append(result)
        run.account(stage, task_id, result)
        try:
            ask = flow.send(result)
        except StopIteration as stop:
            exchange: Exchange = stop.value
            break
        run.sink.note(f"{stage.value} repair retry {ask.retry}{' (handoff)' if ask.handoff else ''}")
    run.tally.validation_retries += exchange.retries
    outcome = exchange.failure or ("ok" if exchange.ok else "invalid")
    run.sink.note(f"{stage.value} {task_id or ''} end: {outcome}")
    return StageCall(stage, exchange, tuple(results), started, run.now())


def _masked(run: Run, result: StageResult) -> StageResult:
    """The answer with the agents' credentials masked: its text feeds tickets, commits and repair prompts."""
    mask = run.sink.mask
    return replace(result, text=mask(result.text), detail=mask(result.detail))
