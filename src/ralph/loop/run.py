"""One construct (or plan) run's context: settings, store, clock, backends, ledger, totals and live state.

The driver and the stage steps share this object; it owns every write that is not a reconcile: ledger lines,
the state file, and the totals the guards read.
"""

from __future__ import annotations

import os
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

from ralph.agents.base import (
    AgentBackend,
    AgentEvent,
    EventKind,
    EventSink,
    Price,
    StageRequest,
    StageResult,
    Usage,
)
from ralph.clock import Clock
from ralph.errors import ExitReason
from ralph.ledger import LedgerWriter
from ralph.ledger.records import this_host
from ralph.loop.commits import IterationLog
from ralph.loop.exchange import Ask, ContextPolicy
from ralph.loop.guards import Limits, LoopDetector, Totals, check_limits, stage_timeout
from ralph.loop.live import ActivitySink, LiveSink, LiveUsage
from ralph.loop.records import call_record
from ralph.loop.signals import SignalGuard
from ralph.loop.state import LoopState, save_state
from ralph.settings import Settings, StageRoute
from ralph.stage import Stage
from ralph.tix import TicketStore

__all__ = ["LIVE_SAVE_INTERVAL_S", "MAX_RECENT_KILLS", "Run", "Tally"]

LIVE_SAVE_INTERVAL_S = 1.0
"""During a stage, the state file is saved on the agent's STEP/USAGE events at most this often (real time)."""
MAX_RECENT_KILLS = 5


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
    echo: Callable[[str], None] = field(default=lambda line: None)
    """Where the console lines go (``ralph construct`` prints them)."""
    _saved: LoopState | None = None
    _live: LiveUsage = field(default_factory=LiveUsage)
    _written_at: float = 0.0
    _write_lock: threading.Lock = field(default_factory=threading.Lock)
    _host: str = field(default_factory=this_host)

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

    @contextmanager
    def reconciling(self) -> Iterator[None]:
        """A stage's store writes as one step: signals held, plan.jsonl fsynced once at the end. The store's
        writer lock is held throughout, so no git or agent work belongs inside."""
        with self.signals.critical(), self.store.writing():
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

    @property
    def events(self) -> EventSink:
        """The sink an agent call reports to: the activity log, and live totals in the state file."""
        return LiveSink(self.sink, self.progress)

    def progress(self, event: AgentEvent) -> None:
        """A STEP or USAGE event during an agent call (maybe from a backend's reader thread): count the call
        provisionally and save the live fields at most once a second. The resume state is written as it
        stands, never changed here; the exact books are kept by ``account`` when the call returns."""
        with self._write_lock:
            if event.kind is EventKind.STEP and event.call is not None:
                self._live = self._live.add(event.call)
            if time.monotonic() - self._written_at < LIVE_SAVE_INTERVAL_S:
                return
            live = self.state.with_(**self._live_fields({}), updated_at=self.now())
            save_state(self.repo, live)
            self._written_at = time.monotonic()

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
        with self._write_lock:
            self._live = LiveUsage()
        self.totals = replace(
            self.totals,
            cost=self.tally.cost,
            tokens=self.tally.usage.total,
            api_calls_remote=self.tally.calls_remote,
            api_calls_local=self.tally.calls_local,
        )

    def record_kill(self, stage: Stage, task_id: str | None, reason: str) -> None:
        """Remember a killed stage for ``ralph watch`` (the last five; written with the next save)."""
        kill: dict[str, Any] = {"stage": stage.value, "task_id": task_id or "", "reason": reason}
        kill |= {"iteration": self.iteration, "at": round(self.now(), 3)}
        self.defer(recent_kills=(*self.state.recent_kills, kill)[-MAX_RECENT_KILLS:])

    def defer(self, **changes: Any) -> None:
        """Change the state in memory only: it is written with the next ``save``, live update or the end of
        the run. For a stage's end, whose next write is the next stage's start (one write per boundary;
        each costs a rename, several ms on ext4)."""
        self.state = self.state.with_(**changes, **self._live_fields(changes))

    def save(self, **changes: Any) -> None:
        """Update the state file (resume state + live fields) by atomic replace, unless nothing changed."""
        self.defer(**changes)
        if self.state == self._saved:
            return
        self.state = self.state.with_(updated_at=self.now())
        with self.critical(), self._write_lock:
            save_state(self.repo, self.state)
            self._written_at = time.monotonic()
        self._saved = self.state

    def _live_fields(self, changes: Mapping[str, Any]) -> dict[str, Any]:
        used, size = self.sink.context_used, self.sink.context_size or self.settings.context_window
        live = self._live
        fields: dict[str, Any] = {
            "run_id": self.run_id,
            "pid": os.getpid(),
            "host": self._host,
            "totals": {
                "cost": round(self.tally.cost + live.cost, 6),
                "tokens": self.tally.usage.total + live.tokens,
                "api_calls_remote": self.tally.calls_remote + live.remote,
                "api_calls_local": self.tally.calls_local + live.local,
                "iterations": self.totals.iterations,
                "consecutive_failures": self.totals.consecutive_failures,
            },
            "context_pct": round(100.0 * used / size, 1) if size else 0.0,
            "last_progress_at": self.totals.last_progress_at,
            "loop_repeats": self.totals.loop_repeats,
        }
        starting = changes.get("stage", self.state.stage) is not self.state.stage or not self.state.running
        if changes.get("running") and starting:
            fields["stage_started_at"] = self.now()
        return fields

    def limits_dict(self) -> dict[str, Any]:
        return asdict(self.limits)
