"""A run as the bench reads it: ``RunFacts`` from a run record of either schema, by field name (DESIGN §5).

Missing numbers are zero, so a start-only run (crashed or still running) still counts. Iteration lines are
folded straight from their dicts (``fold``), since there can be millions of them.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

__all__ = ["RunFacts", "StageTotals", "run_facts"]


@dataclass(frozen=True, slots=True)
class StageTotals:
    """The run record's own per-stage totals (``stages{NAME: {...}}``)."""

    count: int = 0
    cost: float = 0.0
    api_calls_remote: int = 0
    api_calls_local: int = 0


@dataclass(frozen=True, slots=True)
class RunFacts:
    """One construct run's final (or only) run record."""

    run_id: str
    profile: str = ""
    branch: str = ""
    worktree: str = ""
    spec: str = ""
    experiment: str | None = None
    replicate: int | None = None
    started_at: str = ""
    ended_at: str | None = None
    duration_s: float = 0.0
    exit_reason: str | None = None
    iterations: int = 0
    tasks_total: int = 0
    tasks_completed: int = 0
    tasks_failed: int = 0
    cost: float = 0.0
    tokens_input: int = 0
    tokens_cached: int = 0
    tokens_output: int = 0
    api_remote: int = 0
    api_local: int = 0
    kills: Mapping[str, int] = field(default_factory=dict)
    retries_validation: int = 0
    retries_task: int = 0
    stages: Mapping[str, StageTotals] = field(default_factory=dict)
    simulated: bool = False
    schema: int = 0
    """0 for a line the earlier ralph wrote (it has no host; the writer always records one), else 1."""
    is_plan: bool = False
    """A ``ralph plan`` run (its only stage is PLAN): shared by every cell, not part of any cell's numbers."""


_NUMBERS = (int, float)


def _int(value: Any) -> int:
    kind = type(value)
    if kind is int:
        return value  # type: ignore[no-any-return]
    return int(value) if isinstance(value, _NUMBERS) and kind is not bool else 0


def _float(value: Any) -> float:
    kind = type(value)
    if kind is float:
        return value  # type: ignore[no-any-return]
    return float(value) if isinstance(value, _NUMBERS) and kind is not bool else 0.0


def _sub(record: Mapping[str, Any], key: str) -> Mapping[str, Any]:
    value = record.get(key)
    return value if isinstance(value, Mapping) else {}


def _text(value: Any) -> str:
    return value if isinstance(value, str) else ""


def _stages(raw: Mapping[str, Any]) -> dict[str, StageTotals]:
    out: dict[str, StageTotals] = {}
    for name, body in raw.items():
        if isinstance(body, Mapping):
            out[str(name).upper()] = StageTotals(
                count=_int(body.get("count")),
                cost=_float(body.get("cost")),
                api_calls_remote=_int(body.get("api_calls_remote")),
                api_calls_local=_int(body.get("api_calls_local")),
            )
    return out


def run_facts(record: Mapping[str, Any]) -> RunFacts:
    """A run record (either schema) as RunFacts; a start record has no exit reason."""
    tasks, tokens, api = _sub(record, "tasks"), _sub(record, "tokens"), _sub(record, "api_calls")
    retries = _sub(record, "retries")
    replicate = record.get("replicate")
    experiment = record.get("experiment")
    exit_reason = record.get("exit_reason") if record.get("record") != "start" else None
    return RunFacts(
        run_id=str(record.get("run_id", "")),
        profile=_text(record.get("profile")),
        branch=_text(record.get("branch")),
        worktree=_text(record.get("worktree")),
        spec=_text(record.get("spec")),
        experiment=experiment if isinstance(experiment, str) and experiment else None,
        replicate=replicate if isinstance(replicate, int) and not isinstance(replicate, bool) else None,
        started_at=_text(record.get("started_at")),
        ended_at=_text(record.get("ended_at")) or None,
        duration_s=_float(record.get("duration_s")),
        exit_reason=exit_reason if isinstance(exit_reason, str) and exit_reason else None,
        iterations=_int(record.get("iterations")),
        tasks_total=_int(tasks.get("total")),
        tasks_completed=_int(tasks.get("completed")),
        tasks_failed=_int(tasks.get("failed")),
        cost=_float(record.get("cost")),
        tokens_input=_int(tokens.get("input")),
        tokens_cached=_int(tokens.get("cached")),
        tokens_output=_int(tokens.get("output")),
        api_remote=_int(api.get("remote")),
        api_local=_int(api.get("local")),
        kills={str(k): _int(v) for k, v in _sub(record, "kills").items()},
        retries_validation=_int(retries.get("validation")),
        retries_task=_int(retries.get("task")),
        stages=_stages(_sub(record, "stages")),
        simulated=bool(record.get("simulated", False)),
        schema=1 if record.get("host") else 0,
        is_plan=record.get("stage") == "PLAN" or set(_sub(record, "stages")) == {"PLAN"},
    )
