"""VERIFY and INVESTIGATE: batched stages. Only the batch goes into the prompt; a failing batch is retried
at half its size, and a failing single item is skipped with a record (a rejection or a resolved issue plus a
note); every batch failure counts towards the circuit breaker."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

from ralph.errors import KillReason
from ralph.gitops import diff_since
from ralph.loop.agentcall import StageCall, call_agent
from ralph.loop.attempt import REVERT_META, attempt_snapshot, end_attempt
from ralph.loop.board import read_board
from ralph.loop.bookkeeping import finish_stage, record_telemetry, ticket_dict, wait_out_infra
from ralph.loop.checks import merged_list, task_list_check
from ralph.loop.precheck import CheckRun, run_prechecks
from ralph.loop.prompts import render_prompt
from ralph.loop.reconcile import Reconciled, apply_investigate, apply_verify, park_task
from ralph.loop.run import Run
from ralph.loop.stages import Event, Outcome
from ralph.stage import Stage
from ralph.tix import TaskStatus, Ticket

__all__ = ["investigate_step", "park_if_rejected_too_often", "verify_step"]


def _batch(run: Run, stage: Stage, available: Sequence[str], configured: int) -> list[str]:
    """The batch in progress if its items are still open, else the next ``size`` items."""
    held = [i for i in run.state.batch if i in available] if run.state.stage is stage else []
    if held:
        return held
    size = max(1, int(run.state.batch_size.get(stage.value, configured)))
    return list(available[:size])


def _batch_failed(run: Run, stage: Stage, batch: Sequence[str]) -> bool:
    """Halve the batch; True when it was a single item that must now be skipped."""
    if len(batch) > 1:
        half = list(batch[: len(batch) // 2])
        sizes = {**run.state.batch_size, stage.value: len(half)}
        run.save(stage=stage, running=False, batch=tuple(half), batch_size=sizes)
        return False
    run.save(stage=stage, running=False, batch=())
    return True


def _batch_done(run: Run, stage: Stage) -> None:
    sizes = {k: v for k, v in run.state.batch_size.items() if k != stage.value}
    run.defer(running=False, batch=(), batch_size=sizes)


def verify_step(run: Run) -> Event:
    """Precheck the batch's runnable checks, then review the batch with the attempt's diff."""
    board = read_board(run.store, run.spec)
    batch = _batch(run, Stage.VERIFY, board.done_ids(), run.settings.verify_batch_size)
    if not batch:
        return Event.NOTHING
    run.save(stage=Stage.VERIFY, running=True, batch=tuple(batch), task_id=None)
    tickets = [run.store.get(tid) for tid in batch]
    checks = run_prechecks(run, tickets)
    auto = _auto_accept(run, checks)
    remaining = [t for t in tickets if t.id not in auto]
    if not remaining:
        _batch_done(run, Stage.VERIFY)
        return Event.BATCH_DONE
    snap = attempt_snapshot(run)
    diff = diff_since(run.repo, snap, run.settings.diff_max_bytes) if snap is not None else ""
    prompt = render_prompt(
        Stage.VERIFY,
        tasks=remaining,
        checks=[c.as_prompt() for c in checks],
        diff=diff,
        spec_name=run.spec,
        spec_text=run.spec_text,
        rules=run.rules,
        rules_file=run.rules_file,
    )
    payload = {
        "spec": run.spec,
        "spec_text": run.spec_text,
        "tasks": [ticket_dict(t) for t in remaining],
        "checks": [c.as_prompt() for c in checks],
    }
    call = call_agent(
        run, Stage.VERIFY, prompt, payload, task_id=remaining[0].id if len(remaining) == 1 else None
    )
    return _after_verify(run, call, [t.id for t in remaining], precheck=bool(auto))


def _auto_accept(run: Run, checks: Sequence[CheckRun]) -> set[str]:
    if not run.settings.auto_accept_checks:
        return set()
    accepted: set[str] = set()
    with run.critical():
        for check in checks:
            if check.passed:
                run.store.accept(check.task_id, f"check passed: {check.command}")
                accepted.add(check.task_id)
                _accepted(run, check.task_id)
    return accepted


def _accepted(run: Run, tid: str) -> None:
    """Count the acceptance. The task's attempt stays recorded until the iteration's commit keeps it, so
    a crash in between is resumed by keeping and committing the work."""
    run.tally.accepted += 1
    run.totals = replace(run.totals, last_progress_at=run.now())
    if run.log is not None:
        run.log.accepted.append((tid, run.store.get(tid).name))


def _after_verify(run: Run, call: StageCall, batch: list[str], *, precheck: bool) -> Event:
    if call.failure is KillReason.INFRA:
        finish_stage(run, call, outcome=Outcome.FAILURE, task_id=None)
        wait_out_infra(run, call)
        return Event.INFRA
    data = call.exchange.data if call.exchange.ok else None
    if data is None:
        return _verify_failed(run, call, batch)
    s = run.settings
    with run.critical():
        with run.reconciling():
            reconciled = apply_verify(run.store, run.spec, batch, data, s.issue_similarity_threshold)
            record_telemetry(run, Stage.VERIFY, call, batch)
        for tid in reconciled.accepted:
            _accepted(run, tid)
        for tid in reconciled.rejected:
            reconciled = reconciled + _rejected(run, tid)
        if run.log is not None:
            run.log.created += [(tid, run.store.get(tid).name) for tid in reconciled.added]
            run.log.issues += len(reconciled.issues)
        finish_stage(
            run,
            call,
            outcome=Outcome.SUCCESS,
            task_id=_one(batch),
            reconciled=reconciled,
            precheck_accepted=precheck,
        )
        _batch_done(run, Stage.VERIFY)
    return Event.BATCH_DONE


def _one(batch: Sequence[str]) -> str | None:
    return batch[0] if len(batch) == 1 else None


def _rejected(run: Run, tid: str) -> Reconciled:
    """Revert the task's attempt if it is the one in flight, say so in its meta, escalate repeats."""
    run.tally.task_retries += 1
    ticket = run.store.get(tid)
    if run.log is not None:
        run.log.rejected.append((tid, ticket.name, ticket.reject_reason))
    in_flight = run.state.attempt is not None and run.state.attempt.task_id == tid
    paths = end_attempt(run, revert=True) if in_flight else ()
    run.store.update(tid, {"meta": {REVERT_META: "\n".join(paths)}})
    return park_if_rejected_too_often(run, ticket)


def park_if_rejected_too_often(run: Run, ticket: Ticket) -> Reconciled:
    """Park a task rejected ``max_retries_per_task`` times, with one issue saying why (idempotent; resume
    calls it too, for a run killed between the rejection and the park)."""
    limit = run.settings.max_retries_per_task
    if not limit or ticket.retries < limit or ticket.status is not TaskStatus.PENDING:
        return Reconciled()
    issue = (
        f"REPEATED REJECTION: task {ticket.id} '{ticket.name}' was rejected {ticket.retries} times "
        f"and is parked; last reason: {ticket.reject_reason}"
    )
    return park_task(run.store, ticket, issue, run.settings.issue_similarity_threshold)


def _verify_failed(run: Run, call: StageCall, batch: list[str]) -> Event:
    with run.critical():
        finish_stage(run, call, outcome=Outcome.FAILURE, task_id=_one(batch))
        if not _batch_failed(run, Stage.VERIFY, batch):
            return Event.FAILED
        tid = batch[0]
        reason = (
            f"verify failed: {call.failure.value if call.failure else 'no valid output'} {call.detail[:200]}"
        )
        if run.store.get(tid).status.label == "done":
            run.store.reject(tid, reason.strip())
            _rejected(run, tid)
    return Event.FAILED


def investigate_step(run: Run) -> Event:
    """Turn a batch of open issues into tasks (upserted by name) and resolve the batch."""
    board = read_board(run.store, run.spec)
    issues = {i.id: i for i in board.issues}
    batch = _batch(run, Stage.INVESTIGATE, list(issues), run.settings.investigate_batch_size)
    if not batch:
        return Event.NOTHING
    run.save(stage=Stage.INVESTIGATE, running=True, batch=tuple(batch), task_id=None)
    pending = [t for t in board.tasks if t.is_live]
    prompt = render_prompt(
        Stage.INVESTIGATE,
        issues=[issues[i] for i in batch],
        pending=pending[:50],
        spec_name=run.spec,
        spec_text=run.spec_text,
        rules=run.rules,
        rules_file=run.rules_file,
    )
    payload = {
        "spec": run.spec,
        "spec_text": run.spec_text,
        "issues": [ticket_dict(issues[i]) for i in batch],
        "pending": [ticket_dict(t) for t in pending],
    }
    check = task_list_check("tasks", False, run.repo)
    call = call_agent(run, Stage.INVESTIGATE, prompt, payload, check=check)
    return _after_investigate(run, call, batch)


def _after_investigate(run: Run, call: StageCall, batch: list[str]) -> Event:
    if call.failure is KillReason.INFRA:
        finish_stage(run, call, outcome=Outcome.FAILURE, task_id=None)
        wait_out_infra(run, call)
        return Event.INFRA
    with run.reconciling():
        if call.failure is not None or not call.exchange.parts:
            finish_stage(run, call, outcome=Outcome.FAILURE, task_id=None)
            if _batch_failed(run, Stage.INVESTIGATE, batch):
                run.store.resolve_issues(batch)
                run.store.add_note(
                    f"INVESTIGATE skipped issue {batch[0]}: {call.failure or 'no valid output'}"
                )
            return Event.FAILED
        reconciled = apply_investigate(run.store, run.spec, batch, merged_list(call.exchange.parts, "tasks"))
        record_telemetry(run, Stage.INVESTIGATE, call, list(reconciled.added))
        if run.log is not None:
            run.log.created += [(tid, run.store.get(tid).name) for tid in reconciled.added]
        finish_stage(run, call, outcome=Outcome.SUCCESS, task_id=None, reconciled=reconciled)
        _batch_done(run, Stage.INVESTIGATE)
    return Event.BATCH_DONE
