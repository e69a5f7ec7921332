"""Ledger records of a run, built from the loop's own data (the writer and the record types are the
ledger's). Task totals come from the store, so ``completed`` can never exceed ``total``."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from ralph.agents.base import ModelCall, Usage
from ralph.ledger import CallRecord, IterationRecord, RunRecord
from ralph.ledger.records import ApiCalls, Reconcile, RunPhase, StageTotals, TaskTotals, Tokens, iso_time
from ralph.stage import Stage
from ralph.tix import TaskStatus, TicketStore

if TYPE_CHECKING:
    from ralph.loop.run import Run

__all__ = ["call_record", "end_record", "stage_record", "start_record", "task_totals", "tokens_of"]


def tokens_of(usage: Usage) -> Tokens:
    return Tokens(input=usage.input, cached=usage.cached, output=usage.output)


def call_record(run: Run, stage: Stage, task_id: str | None, call: ModelCall) -> CallRecord:
    return CallRecord(
        run_id=run.run_id,
        iteration=run.iteration,
        stage=stage.value,
        backend=call.backend,
        model=call.model,
        is_local=call.is_local,
        tokens=tokens_of(call.usage),
        cost=round(call.cost, 6),
        latency_s=round(call.latency_s, 3),
        ts=run.now(),
        task_id=task_id,
        endpoint=call.endpoint,
        simulated=call.simulated or run.simulated,
    )


def stage_record(
    run: Run,
    stage: Stage,
    *,
    outcome: str,
    task_id: str | None,
    usage: Usage,
    cost: float,
    duration_s: float,
    started_at: float,
    calls: int,
    reconcile: Mapping[str, int] | None = None,
    **optional: Any,
) -> IterationRecord:
    """One iterations.jsonl line; ``optional``: precheck_accepted, validation_retries, kill_reason, extra."""
    route = run.route(stage) if stage in Stage.routed() else None
    return IterationRecord(
        run_id=run.run_id,
        iteration=run.iteration,
        stage=stage.value,
        model=route.model if route else "",
        is_local=route.is_local if route else False,
        task_id=task_id,
        cost=round(cost, 6),
        tokens=tokens_of(usage),
        duration_s=round(duration_s, 3),
        outcome=outcome,
        reconcile=Reconcile(**(reconcile or {})),
        backend=route.backend if route else "",
        agent=route.agent if route else None,
        api_calls=calls,
        ts=started_at,
        simulated=run.simulated,
        **optional,
    )


def task_totals(store: TicketStore, spec: str | None) -> TaskTotals:
    """Tasks of the spec by state (deleted ones excluded): completed = accepted, failed = parked or killed."""
    tasks = [
        t
        for t in store.tasks(
            status=(TaskStatus.PENDING, TaskStatus.DONE, TaskStatus.ACCEPTED, TaskStatus.REJECTED)
        )
        if spec is None or t.spec in ("", spec)
    ]
    completed = sum(1 for t in tasks if t.status is TaskStatus.ACCEPTED)
    failed = sum(
        1 for t in tasks if t.status is not TaskStatus.ACCEPTED and (t.kill_count or "parked" in t.labels)
    )
    return TaskTotals(total=len(tasks), completed=completed, failed=failed)


def start_record(
    run: Run, *, branch: str, sha: str, started_at: float, extra: Mapping[str, Any]
) -> RunRecord:
    s = run.settings
    return RunRecord(
        run_id=run.run_id,
        record=RunPhase.START,
        spec=run.spec,
        branch=branch,
        git_sha_start=sha,
        worktree=str(run.repo),
        profile=s.profile,
        config_snapshot=s.snapshot(),
        started_at=iso_time(started_at),
        experiment=s.experiment,
        replicate=s.replicate,
        extra={"simulated": run.simulated, **extra},
    )


def end_record(
    start: RunRecord, run: Run, *, sha_end: str, reason: str, ended_at: float, started_at: float
) -> RunRecord:
    t = run.tally
    return RunRecord(
        **{
            **{
                f: getattr(start, f)
                for f in ("run_id", "spec", "branch", "git_sha_start", "worktree", "profile")
            },
            "config_snapshot": start.config_snapshot,
            "started_at": start.started_at,
            "experiment": start.experiment,
            "replicate": start.replicate,
        },
        record=RunPhase.END,
        git_sha_end=sha_end,
        ended_at=iso_time(ended_at),
        duration_s=round(ended_at - started_at, 3),
        exit_reason=reason,
        iterations=run.totals.iterations,
        tasks=task_totals(run.store, run.spec),
        cost=round(t.cost, 6),
        tokens=tokens_of(t.usage),
        api_calls=ApiCalls(remote=t.calls_remote, local=t.calls_local),
        kills={k: int(t.kills.get(k, 0)) for k in ("timeout", "context", "loop", *t.kills)},
        retries={"validation": t.validation_retries, "task": t.task_retries},
        stages={name: _stage_totals(row) for name, row in t.stages.items()},
        extra={**start.extra, "waited_s": round(t.waited_s, 3), "accepted": t.accepted, "failed": t.failed},
    )


def _stage_totals(row: Mapping[str, float]) -> StageTotals:
    return StageTotals(
        count=int(row["count"]),
        cost=round(row["cost"], 6),
        api_calls_remote=int(row["api_calls_remote"]),
        api_calls_local=int(row["api_calls_local"]),
    )
