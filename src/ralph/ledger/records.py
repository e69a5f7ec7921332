"""Ledger records (``"schema": 1``): one frozen dataclass per file, with JSON conversion both ways.

Field names are the earlier ralph's (DESIGN §5) plus ``schema, experiment, replicate, host, record``.
Dicts read from disk are upgraded to the current schema by ``ralph.ledger.upgrade`` before they get here.
"""

from __future__ import annotations

import hashlib
import os
import socket
import time
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from datetime import datetime
from enum import StrEnum
from typing import Any, ClassVar, Final

__all__ = [
    "SCHEMA_VERSION",
    "ApiCalls",
    "CallRecord",
    "IterationRecord",
    "Outcome",
    "Reconcile",
    "RunPhase",
    "RunRecord",
    "StageTotals",
    "TaskTotals",
    "Tokens",
    "iso_time",
    "new_run_id",
    "this_host",
]

SCHEMA_VERSION: Final = 1


class RunPhase(StrEnum):
    """Which of a run's two records this is."""

    START = "start"
    END = "end"


class Outcome(StrEnum):
    """Outcome of one stage execution (iterations.jsonl)."""

    SUCCESS = "success"
    FAILURE = "failure"
    SKIP = "skip"


@dataclass(frozen=True)
class Tokens:
    """Token counts; ``input`` excludes cached tokens."""

    input: int = 0
    cached: int = 0
    output: int = 0

    @property
    def total(self) -> int:
        return self.input + self.cached + self.output


@dataclass(frozen=True)
class TaskTotals:
    """Task counts of the run's spec, from the store at the end (completed never exceeds total)."""

    total: int = 0
    completed: int = 0
    failed: int = 0


@dataclass(frozen=True)
class ApiCalls:
    """Model API calls (steps/turns), split by where the model ran."""

    remote: int = 0
    local: int = 0


@dataclass(frozen=True)
class StageTotals:
    """Per-stage breakdown in a run record."""

    count: int = 0
    cost: float = 0.0
    api_calls_remote: int = 0
    api_calls_local: int = 0


@dataclass(frozen=True)
class Reconcile:
    """What applying a stage's output changed in the store."""

    added: int = 0
    accepted: int = 0
    rejected: int = 0
    issues: int = 0


def iso_time(ts: float) -> str:
    """Local ISO-8601 time with offset, to the second (the earlier ledger's ``started_at`` style)."""
    return datetime.fromtimestamp(ts).astimezone().isoformat(timespec="seconds")


def new_run_id(ts: float | None = None) -> str:
    """``YYYYmmdd_HHMMSS_<6 hex>``, the earlier ralph's run id format."""
    now = time.time() if ts is None else ts
    digest = hashlib.md5(f"{now}:{os.getpid()}:{time.perf_counter_ns()}".encode(), usedforsecurity=False)
    return datetime.fromtimestamp(now).strftime("%Y%m%d_%H%M%S_") + digest.hexdigest()[:6]


def this_host() -> str:
    """Host name recorded in run records."""
    return socket.gethostname()


_NESTED: dict[str, type[Any]] = {
    "tokens": Tokens,
    "tasks": TaskTotals,
    "api_calls": ApiCalls,
    "reconcile": Reconcile,
}


_PHASES = frozenset(phase.value for phase in RunPhase)
_OUTCOMES = frozenset(outcome.value for outcome in Outcome)


class _Record:
    """JSON conversion shared by the three record types."""

    _OMIT_WHEN_EMPTY: ClassVar[frozenset[str]] = frozenset()

    def to_json(self) -> dict[str, Any]:
        """The on-disk dict (optional keys left out when empty, like the earlier ledger)."""
        out: dict[str, Any] = {}
        for spec in fields(self):  # type: ignore[arg-type]
            value = _plain(getattr(self, spec.name))
            if spec.name == "extra":
                out.update({k: v for k, v in value.items() if k not in out})
                continue
            if spec.name in self._OMIT_WHEN_EMPTY and value in (None, False, 0, {}, "", []):
                continue
            out[spec.name] = value
        return out

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Any:
        """Build from an upgraded on-disk dict; unknown keys are kept in ``extra``."""
        known = _field_names(cls)
        kwargs: dict[str, Any] = {}
        extra: dict[str, Any] = {}
        for key, value in data.items():
            if key not in known or key == "extra":
                extra[key] = value
            else:
                kwargs[key] = _nested(key, value) if key in _CONVERTED else value
        kwargs["extra"] = extra
        return cls(**kwargs)


_FIELD_NAMES: dict[type, frozenset[str]] = {}


def _field_names(kind: type) -> frozenset[str]:
    names = _FIELD_NAMES.get(kind)
    if names is None:
        names = _FIELD_NAMES[kind] = frozenset(spec.name for spec in fields(kind))
    return names


def _plain(value: Any) -> Any:
    if isinstance(value, StrEnum):
        return value.value
    if isinstance(value, Reconcile):
        return {spec.name: getattr(value, spec.name) for spec in fields(value) if getattr(value, spec.name)}
    if isinstance(value, Tokens | TaskTotals | ApiCalls | StageTotals):
        return {spec.name: getattr(value, spec.name) for spec in fields(value)}
    if isinstance(value, Mapping):
        return {str(key): _plain(item) for key, item in value.items()}
    return value


_CONVERTED = frozenset({"record", "outcome", "stages", *_NESTED})


def _nested(key: str, value: Any) -> Any:
    if key == "record" and value in _PHASES:
        return RunPhase(value)
    if key == "outcome" and value in _OUTCOMES:
        return Outcome(value)
    if key in _NESTED and isinstance(value, Mapping):
        kind = _NESTED[key]
        names = _field_names(kind)
        return kind(**{name: item for name, item in value.items() if name in names})
    if key == "stages" and isinstance(value, Mapping):
        names = _field_names(StageTotals)
        return {
            stage: StageTotals(**{k: v for k, v in totals.items() if k in names})
            for stage, totals in value.items()
            if isinstance(totals, Mapping)
        }
    return value


@dataclass(frozen=True)
class RunRecord(_Record):
    """One line of runs.jsonl: a ``start`` record when the run begins, an ``end`` record when it stops."""

    run_id: str
    record: RunPhase = RunPhase.START
    spec: str = ""
    branch: str = ""
    git_sha_start: str = ""
    git_sha_end: str = ""
    worktree: str = ""
    profile: str = ""
    config_snapshot: Mapping[str, Any] = field(default_factory=dict)
    started_at: str = ""
    ended_at: str | None = None
    duration_s: float = 0.0
    exit_reason: str | None = None
    iterations: int = 0
    tasks: TaskTotals = field(default_factory=TaskTotals)
    cost: float = 0.0
    tokens: Tokens = field(default_factory=Tokens)
    api_calls: ApiCalls = field(default_factory=ApiCalls)
    kills: Mapping[str, int] = field(default_factory=dict)
    retries: Mapping[str, int] = field(default_factory=dict)
    stages: Mapping[str, StageTotals] = field(default_factory=dict)
    experiment: str = ""
    replicate: int = 0
    host: str = ""
    """Machine that ran it; ``LedgerWriter.append_run`` fills it in when empty."""
    pid: int = 0
    """Process id of the run; filled in like ``host``."""
    schema: int = SCHEMA_VERSION
    extra: Mapping[str, Any] = field(default_factory=dict)
    """Keys this version does not know (kept when read, written back as they were)."""

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> RunRecord:
        record: RunRecord = super().from_json(data)
        return record


@dataclass(frozen=True)
class IterationRecord(_Record):
    """One line of iterations.jsonl: one stage execution."""

    _OMIT_WHEN_EMPTY: ClassVar[frozenset[str]] = frozenset(
        {"task_id", "precheck_accepted", "validation_retries", "kill_reason", "reconcile", "agent"}
        | {"simulated"}
    )

    run_id: str
    iteration: int
    stage: str
    model: str = ""
    is_local: bool = False
    task_id: str | None = None
    cost: float = 0.0
    tokens: Tokens = field(default_factory=Tokens)
    duration_s: float = 0.0
    outcome: Outcome | str = Outcome.SUCCESS
    precheck_accepted: bool = False
    validation_retries: int = 0
    kill_reason: str | None = None
    reconcile: Reconcile = field(default_factory=Reconcile)
    backend: str = ""
    agent: str | None = None
    api_calls: int = 0
    """Model calls this stage made (steps/turns, retries included)."""
    ts: float = 0.0
    """When the stage started (epoch seconds, from the run's clock)."""
    simulated: bool = False
    schema: int = SCHEMA_VERSION
    extra: Mapping[str, Any] = field(default_factory=dict)

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> IterationRecord:
        record: IterationRecord = super().from_json(data)
        return record


@dataclass(frozen=True)
class CallRecord(_Record):
    """One line of calls.jsonl: one model API call (a step or turn)."""

    _OMIT_WHEN_EMPTY: ClassVar[frozenset[str]] = frozenset({"task_id", "simulated"})

    run_id: str
    iteration: int
    stage: str
    backend: str
    model: str
    is_local: bool
    tokens: Tokens = field(default_factory=Tokens)
    cost: float = 0.0
    latency_s: float = 0.0
    ts: float = 0.0
    task_id: str | None = None
    endpoint: str = ""
    simulated: bool = False
    schema: int = SCHEMA_VERSION
    extra: Mapping[str, Any] = field(default_factory=dict)

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> CallRecord:
        record: CallRecord = super().from_json(data)
        return record
