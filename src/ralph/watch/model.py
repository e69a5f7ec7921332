"""The watch view model: what one frame shows, computed from what was read (pure: no I/O, no clock).

``build_frame`` turns a ``RunSnapshot`` (state file, ledger lines, activity tail, process liveness) and the
real time into a ``RunFrame``; ``ralph.cli.views`` renders it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, fields
from enum import StrEnum
from pathlib import Path
from typing import Any

from ralph.loop.guards import GuardUse, Limits, Totals, check_limits, guard_uses, nearest_of
from ralph.loop.state import LoopState

__all__ = [
    "Gauge",
    "Kill",
    "Position",
    "RunFrame",
    "RunSnapshot",
    "RunStatus",
    "Usage",
    "build_frame",
    "gauges_of",
    "limits_of",
    "nearest_guard",
    "recent_kills",
    "status_of",
]

MAX_KILLS = 5
Gauge = GuardUse
"""One configured limit and how much of it the run has used (``guard`` is the exit reason it trips)."""


@dataclass(frozen=True)
class RunSnapshot:
    """Everything read from disk for one frame of one repository."""

    repo: Path
    state: LoopState | None = None
    """None when ``.tix/ralph-state.json`` does not exist."""
    state_mtime: float = 0.0
    pid_alive: bool = False
    start: Mapping[str, Any] | None = None
    """The runs.jsonl start line of the state's run_id."""
    end: Mapping[str, Any] | None = None
    """Its end line, once the run has stopped."""
    stages: tuple[Mapping[str, Any], ...] = ()
    """The iterations.jsonl lines of that run, in file order."""
    activity: tuple[str, ...] = ()
    task_name: str = ""
    tasks_accepted: int = 0
    tasks_total: int = 0


class RunStatus(StrEnum):
    RUNNING = "running"
    FINISHED = "finished"
    STOPPED = "stopped"
    """The process is gone and left no end record (killed hard, or another machine's run)."""
    NO_RUN = "no run yet"


@dataclass(frozen=True)
class Kill:
    iteration: int
    stage: str
    task_id: str
    reason: str


@dataclass(frozen=True)
class Position:
    """Where the run is: stage, task, iteration and task progress of the spec."""

    stage: str = ""
    stage_running: bool = False
    model: str = ""
    """Model of the stage's last recorded execution in this run."""
    task_id: str = ""
    task_name: str = ""
    batch: tuple[str, ...] = ()
    """Ticket ids of the VERIFY/INVESTIGATE batch in progress."""
    iteration: int = 0
    """The spec's iteration being worked (running) or last completed (stopped)."""
    run_iterations: int = 0
    """Iterations completed by this run."""
    tasks_accepted: int = 0
    tasks_total: int = 0


@dataclass(frozen=True)
class Usage:
    """What the run has spent, on its own clock, and the context occupancy of the current stage."""

    elapsed_s: float = 0.0
    cost: float = 0.0
    tokens: int = 0
    calls_remote: int = 0
    calls_local: int = 0
    context_pct: float = 0.0
    context_compact_pct: float = 0.0
    context_kill_pct: float = 0.0


@dataclass(frozen=True)
class RunFrame:
    """What the live view shows for one run."""

    repo: str
    status: RunStatus
    exit_reason: str | None = None
    simulated: bool = False
    run_id: str = ""
    pid: int | None = None
    spec: str = ""
    profile: str = ""
    position: Position = field(default_factory=Position)
    usage: Usage = field(default_factory=Usage)
    gauges: tuple[Gauge, ...] = ()
    nearest: Gauge | None = None
    stage_gauge: Gauge | None = None
    """The running stage's time against the stage timeout (``guard`` is ``stage_timeout``)."""
    tripped: str | None = None
    """A limit already reached: the loop stops at its next stage boundary."""
    kills: tuple[Kill, ...] = ()
    activity: tuple[str, ...] = ()
    updated_ago_s: float = 0.0


def status_of(snap: RunSnapshot) -> RunStatus:
    """Running while the recorded pid lives and the run has no end record (nor an exit in the state file)."""
    if snap.state is None or not snap.state.run_id:
        return RunStatus.NO_RUN
    if snap.end is not None or (snap.state.exit_reason and not snap.pid_alive):
        return RunStatus.FINISHED
    return RunStatus.RUNNING if snap.pid_alive else RunStatus.STOPPED


def limits_of(raw: Mapping[str, Any]) -> Limits:
    """The state file's ``limits`` as the loop's ``Limits`` (unknown keys and bad values ignored)."""
    values: dict[str, Any] = {}
    for spec in fields(Limits):
        value = raw.get(spec.name)
        if isinstance(value, int | float) and not isinstance(value, bool):
            values[spec.name] = type(getattr(Limits(), spec.name))(value)
    return Limits(**values)


def _number(raw: Mapping[str, Any], key: str) -> float:
    value = raw.get(key, 0)
    return float(value) if isinstance(value, int | float) else 0.0


def _totals(state: LoopState, run_clock_now: float) -> Totals:
    raw = state.totals
    return Totals(
        started_at=state.started_at or run_clock_now,
        last_progress_at=state.last_progress_at or run_clock_now,
        loop_repeats=state.loop_repeats,
        iterations=int(_number(raw, "iterations")),
        cost=_number(raw, "cost"),
        tokens=int(_number(raw, "tokens")),
        api_calls_remote=int(_number(raw, "api_calls_remote")),
        api_calls_local=int(_number(raw, "api_calls_local")),
        consecutive_failures=int(_number(raw, "consecutive_failures")),
    )


def gauges_of(limits: Limits, totals: Totals, elapsed_s: float) -> tuple[Gauge, ...]:
    """Every limit that is on (non-zero), in the order ``check_limits`` tests them (the loop's own list)."""
    return guard_uses(limits, totals, totals.started_at + elapsed_s)


def nearest_guard(gauges: Sequence[Gauge]) -> Gauge | None:
    """The limit closest to its threshold (highest share used); the first of equals."""
    return nearest_of(gauges)


def recent_kills(
    stages: Sequence[Mapping[str, Any]], state_kills: Sequence[Mapping[str, Any]]
) -> tuple[Kill, ...]:
    """The last killed stages of the run, newest last: from the ledger, else from the state file."""
    source = [line for line in stages if line.get("kill_reason")] or list(state_kills)
    kills = [
        Kill(
            iteration=int(line.get("iteration") or 0),
            stage=str(line.get("stage") or ""),
            task_id=str(line.get("task_id") or ""),
            reason=str(line.get("kill_reason") or line.get("reason") or ""),
        )
        for line in source
    ]
    return tuple(kills[-MAX_KILLS:])


def _run_elapsed(snap: RunSnapshot, running: bool, now: float) -> float:
    """Seconds on the run's own clock: a simulated run's clock runs ahead of real time, so extrapolate
    from its last save by the real time since then."""
    state = snap.state
    end = snap.end or {}
    if not running and isinstance(end.get("duration_s"), int | float):
        return float(end["duration_s"])
    if state is None or state.started_at is None:
        return 0.0
    saved = (state.updated_at or state.started_at) - state.started_at
    return max(0.0, saved + (max(0.0, now - snap.state_mtime) if running else 0.0))


def _stage_model(stages: Sequence[Mapping[str, Any]], stage: str) -> str:
    for line in reversed(stages):
        if line.get("stage") == stage and line.get("model"):
            return str(line["model"])
    return ""


def _position(snap: RunSnapshot, state: LoopState, running: bool, totals: Totals) -> Position:
    stage = state.stage.value if state.stage is not None else ""
    return Position(
        stage=stage,
        stage_running=state.running and running,
        model=_stage_model(snap.stages, stage),
        task_id=state.task_id or "",
        task_name=snap.task_name,
        batch=state.batch,
        iteration=state.iteration + (1 if running else 0),
        run_iterations=totals.iterations,
        tasks_accepted=snap.tasks_accepted,
        tasks_total=snap.tasks_total,
    )


def _usage(state: LoopState, totals: Totals, elapsed: float, config: Mapping[str, Any]) -> Usage:
    return Usage(
        elapsed_s=elapsed,
        cost=totals.cost,
        tokens=totals.tokens,
        calls_remote=totals.api_calls_remote,
        calls_local=totals.api_calls_local,
        context_pct=state.context_pct,
        context_compact_pct=_number(config, "context_compact_pct"),
        context_kill_pct=_number(config, "context_kill_pct"),
    )


def _stage_gauge(state: LoopState, limits: Limits, run_now: float) -> Gauge | None:
    if not state.running or state.stage_started_at is None or limits.stage_timeout_s <= 0:
        return None
    return Gauge("stage_timeout", max(0.0, run_now - state.stage_started_at), limits.stage_timeout_s)


def build_frame(snap: RunSnapshot, now: float) -> RunFrame:
    """The frame for ``snap`` at real time ``now``."""
    status = status_of(snap)
    state = snap.state
    if state is None or status is RunStatus.NO_RUN:
        return RunFrame(repo=str(snap.repo), status=status, activity=snap.activity)
    running = status is RunStatus.RUNNING
    elapsed = _run_elapsed(snap, running, now)
    run_now = (state.started_at or 0.0) + elapsed
    totals = _totals(state, run_now)
    limits = limits_of(state.limits)
    gauges = gauges_of(limits, totals, elapsed)
    tripped = check_limits(limits, totals, run_now, iteration_start=True) if running else None
    start = snap.start or {}
    return RunFrame(
        repo=str(snap.repo),
        status=status,
        exit_reason=(snap.end or {}).get("exit_reason") or state.exit_reason,
        simulated=bool(state.simulated or start.get("simulated")),
        run_id=state.run_id or "",
        pid=state.pid,
        spec=state.spec or "",
        profile=str(start.get("profile") or ""),
        position=_position(snap, state, running, totals),
        usage=_usage(state, totals, elapsed, start.get("config_snapshot") or {}),
        gauges=gauges,
        nearest=nearest_guard(gauges),
        stage_gauge=_stage_gauge(state, limits, run_now) if running else None,
        tripped=tripped.value if tripped is not None else None,
        kills=recent_kills(snap.stages, state.recent_kills),
        activity=snap.activity,
        updated_ago_s=max(0.0, now - snap.state_mtime),
    )
