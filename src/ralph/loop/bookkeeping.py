"""What every stage step does after its agent call: the iteration record, the breaker count, kill tallies,
per-task telemetry, and waiting out a rate limit."""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from dataclasses import asdict
from typing import Any

from ralph.errors import KillReason
from ralph.loop.agentcall import StageCall
from ralph.loop.console import StageLine, Verdicts, outcome_text, stage_line, subject
from ralph.loop.guards import infra_decision
from ralph.loop.reconcile import Reconciled
from ralph.loop.records import stage_record
from ralph.loop.run import Run
from ralph.loop.stages import PARKED_LABEL, Outcome
from ralph.stage import Stage
from ralph.tix import Ticket

__all__ = ["finish_stage", "record_telemetry", "ticket_dict", "wait_out_infra"]


def ticket_dict(ticket: Ticket) -> dict[str, Any]:
    """A ticket as plain JSON types for a StageRequest payload (``attempt`` = retries + kill_count)."""
    data = asdict(ticket)
    data.update(
        type=ticket.type.value,
        status=ticket.status.label,
        priority=ticket.priority.label,
        deps=list(ticket.deps),
        labels=list(ticket.labels),
        meta=dict(ticket.meta),
        attempt=ticket.retries + ticket.kill_count,
    )
    return data


def finish_stage(
    run: Run,
    call: StageCall,
    *,
    outcome: Outcome,
    task_id: str | None,
    reconciled: Reconciled | None = None,
    **optional: Any,
) -> None:
    """Ledger the stage, count it for the breaker (infra only when repeated), tally kills, log it."""
    infra = call.failure is KillReason.INFRA
    kill = call.failure.value if call.failure is not None else None
    precheck = bool(optional.get("precheck_accepted"))
    _ledger_stage(run, call, outcome, task_id, reconciled, optional)
    run.tally.add_stage(call.stage, call.cost, *call.calls)
    if kill:
        run.tally.kills[kill] += 1
        run.record_kill(call.stage, task_id, kill)
    run.totals = run.totals.after_stage(failed=outcome is Outcome.FAILURE or infra, infra=infra)
    if run.log is not None:
        run.log.stages.append(call.stage)
    run.echo(_console_line(run, call, outcome, task_id, reconciled, precheck))


def _ledger_stage(
    run: Run,
    call: StageCall,
    outcome: Outcome,
    task_id: str | None,
    reconciled: Reconciled | None,
    optional: dict[str, Any],
) -> None:
    """The stage's iterations.jsonl line; ``optional``: precheck_accepted, extra."""
    extra = {"handoffs": call.exchange.handoffs} if call.exchange.handoffs else {}
    record = stage_record(
        run,
        call.stage,
        outcome=outcome.value,
        task_id=task_id,
        usage=call.usage,
        cost=call.cost,
        duration_s=call.duration_s,
        started_at=call.started_at,
        calls=sum(call.calls),
        reconcile=reconciled.counts() if reconciled else None,
        validation_retries=call.exchange.retries,
        kill_reason=call.failure.value if call.failure is not None else None,
        extra={**extra, **optional.pop("extra", {})},
        **optional,
    )
    with run.critical():
        run.ledger.append_iteration(record)


def _console_line(
    run: Run, call: StageCall, outcome: Outcome, task_id: str | None, done: Reconciled | None, precheck: bool
) -> str:
    """The stage's one line on the console: task, outcome, model, cost, duration."""
    done = done or Reconciled()
    task = run.store.find(task_id) if task_id else None
    rejected = [(tid, _reject_reason(run, tid)) for tid in done.rejected]
    verdicts = Verdicts(
        added=len(done.added),
        accepted=len(done.accepted),
        rejected=tuple(rejected),
        issues=len(done.issues),
        parked=task is not None and PARKED_LABEL in task.labels,
        precheck=precheck,
    )
    kill = call.failure.value if call.failure is not None else None
    ok = outcome is Outcome.SUCCESS
    route = run.route(call.stage) if call.stage in Stage.routed() else None
    remote, local = call.calls
    is_local = bool(local and not remote) or (not remote and route is not None and route.is_local)
    tags = [tag for tag, on in (("local", is_local), ("simulated", run.simulated)) if on]
    line = StageLine(
        stage=call.stage.value,
        subject=subject(task_id, task.name if task else "", len(run.state.batch)),
        outcome=outcome_text(call.stage.value, ok, kill, call.exchange.data, verdicts),
        model=route.model if route is not None else "",
        label=f"[{', '.join(tags)}]" if tags else "",
        cost=call.cost,
        duration_s=call.duration_s,
        validation_retries=call.exchange.retries,
    )
    return stage_line(line)


def _reject_reason(run: Run, tid: str) -> str:
    ticket = run.store.find(tid)
    return ticket.reject_reason if ticket is not None else ""


def record_telemetry(run: Run, stage: Stage, call: StageCall, ids: Sequence[str]) -> None:
    """Add the stage's cost and tokens to the tasks' meta, split evenly (accumulated, never overwritten)."""
    if not ids:
        return
    usage, share = call.usage, 1.0 / len(ids)
    numbers: Mapping[str, float] = {
        "cost": round(call.cost * share, 6),
        "tokens_in": usage.input * share,
        "tokens_cached": usage.cached * share,
        "tokens_out": usage.output * share,
        "iterations": share,
        f"stage_{stage.key}": 1,
    }
    text = {"model": run.route(stage).model, "run_id": run.run_id}
    with run.critical():
        for tid in ids:
            if run.store.find(tid) is not None:
                run.store.add_telemetry(tid, numbers, text)


def wait_out_infra(run: Run, call: StageCall) -> None:
    """After an endpoint failure: wait for a known rate-limit reset (through the Clock, within budget)."""
    decision = infra_decision(
        call.rate_limit_reset_s, run.tally.waited_s, run.limits.max_rate_limit_wait_s, run.totals.infra_streak
    )
    run.sink.note(f"{call.stage.value} infra failure ({call.detail[:120]}); waiting {decision.wait_s:.0f}s")
    if decision.wait_s <= 0:
        return
    if run.clock.virtual:
        run.clock.advance(decision.wait_s)
    else:
        time.sleep(decision.wait_s)
    run.tally.waited_s += decision.wait_s
