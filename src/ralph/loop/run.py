"""One construct (or plan) run's context: settings, store, clock, backends, ledger, totals and live state.

The driver and the stage steps share this object; it owns every write that is not a reconcile: ledger lines,
the state file, and the totals the guards read.
"""

from __future__ import annotations

import os
from collections import Counter
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

from ralph.agents.base import AgentBackend, Price, StageRequest, StageResult, Usage
from ralph.clock import Clock
from ralph.errors import ExitReason
from ralph.ledger import LedgerWriter
from ralph.loop.commits import IterationLog
from ralph.loop.exchange import Ask, ContextPolicy
from ralph.loop.guards import Limits, LoopDetector, Totals, check_limits, stage_timeout
from ralph.loop.live import ActivitySink
from ralph.loop.records import call_record
from ralph.loop.signals import SignalGuard
from ralph.loop.state import LoopState, save_state
from ralph.settings import Settings, StageRoute
from ralph.stage import Stage
from ralph.tix import TicketStore

__all__ = ["Run", "Tally"]


@dataclass
class Tally:
    """Accumulators of the run record (the guards read ``Run.totals``)."""

    usage: Usage = field(default_factory=Usage)
    cost: float = 0.0
    calls_remote: int = 0
    calls_local: int = 0
    kills: Counter[str] = field(default_factory=Counter)
    validation_retries: int = 0
    task_retries: int = 0
    accepted: int = 0
    failed: int = 0
    waited_s: float = 0.0
    stages: dict[str, dict[str, float]] = field(default_factory=dict)

    def add_stage(self, stage: Stage, cost: float, remote: int, local: int) -> None:
        row = self.stages.setdefault(
            stage.value, {"count": 0, "cost": 0.0, "api_calls_remote": 0, "api_calls_local": 0}
        )
        row["count"] += 1
        row["cost"] = round(row["cost"] + cost, 6)
        row["api_calls_remote"] += remote
        row["api_calls_local"] += local


@dataclass
class Run:
    """Everything a stage step needs; mutable on purpose (it is the driver's working memory)."""

    repo: Path
    settings: Settings
    store: TicketStore
    clock: Clock
    ledger: LedgerWriter
    run_id: str
    spec: str
    spec_text: str
    backends: Mapping[str, AgentBackend]
    sink: ActivitySink
    signals: SignalGuard
    state: LoopState
    totals: Totals
    limits: Limits
    rules: str = ""
    rules_file: str = ""
    simulated: bool = False
    tally: Tally = field(default_factory=Tally)
    log: IterationLog | None = None
    loops: LoopDetector = field(default_factory=LoopDetector)
    iteration: int = 0
    """Iteration of this run being worked (1-based once started)."""
    _saved: LoopState | None = None

    def now(self) -> float:
        return self.clock.now()

    def route(self, stage: Stage) -> StageRoute:
        return self.settings.route(stage)

    @property
    def context(self) -> ContextPolicy:
        s = self.settings
        return ContextPolicy(s.context_window, s.context_compact_pct, s.context_kill_pct)

    def guard(self, *, iteration_start: bool) -> ExitReason | None:
        return check_limits(self.limits, self.totals, self.now(), iteration_start=iteration_start)

    @contextmanager
    def critical(self) -> Iterator[None]:
        with self.signals.critical():
            yield

    def request(self, stage: Stage, ask: Ask, payload: Mapping[str, Any]) -> StageRequest:
        """The StageRequest of one agent call: route, limits of this moment, structured payload."""
        route = self.route(stage)
        s = self.settings
        price = Price(**route.price.model_dump()) if route.price is not None else None
        return StageRequest(
            stage=stage,
            prompt=ask.prompt,
            model=route.model,
            cwd=self.repo,
            timeout_s=stage_timeout(self.limits, self.totals, self.now()),
            agent=route.agent,
            session_id=ask.session_id,
            is_local=route.is_local,
            price=price,
            context_window=s.context_window,
            context_kill_pct=s.context_kill_pct,
            max_empty_steps=s.max_empty_steps,
            max_identical_tool_calls=s.max_identical_tool_calls,
            read_only=stage in (Stage.VERIFY, Stage.INVESTIGATE, Stage.DEDUP),
            payload={**payload, "retry": ask.retry, "validation_errors": list(ask.errors)},
        )

    def account(self, stage: Stage, task_id: str | None, result: StageResult) -> None:
        """Ledger one line per model call and add the call to the totals the guards read."""
        remote = local = 0
        for call in result.calls:
            with self.critical():
                self.ledger.append_call(call_record(self, stage, task_id, call))
            remote += 0 if call.is_local else 1
            local += 1 if call.is_local else 0
        usage = result.usage
        self.tally.usage = self.tally.usage + usage
        self.tally.cost += result.cost
        self.tally.calls_remote += remote
        self.tally.calls_local += local
        self.totals = replace(
            self.totals,
            cost=self.tally.cost,
            tokens=self.tally.usage.total,
            api_calls_remote=self.tally.calls_remote,
            api_calls_local=self.tally.calls_local,
        )

    def save(self, **changes: Any) -> None:
        """Update the state file (resume state + live fields) by atomic replace."""
        used, size = self.sink.context_used, self.sink.context_size or self.settings.context_window
        self.state = self.state.with_(
            **changes,
            run_id=self.run_id,
            pid=os.getpid(),
            totals={
                "cost": round(self.tally.cost, 6),
                "tokens": self.tally.usage.total,
                "api_calls_remote": self.tally.calls_remote,
                "api_calls_local": self.tally.calls_local,
                "iterations": self.totals.iterations,
                "consecutive_failures": self.totals.consecutive_failures,
            },
            context_pct=round(100.0 * used / size, 1) if size else 0.0,
        )
        if self.state == self._saved:
            return
        self.state = self.state.with_(updated_at=self.now())
        with self.critical():
            save_state(self.repo, self.state)
        self._saved = self.state

    def limits_dict(self) -> dict[str, Any]:
        return asdict(self.limits)
