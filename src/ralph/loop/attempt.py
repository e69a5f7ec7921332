"""BUILD and DECOMPOSE: one task's attempt from its snapshot, and the split of a task that failed.

A BUILD starts from a snapshot of the tree (tracked and untracked files); a failed attempt is reverted to it
exactly and the task's next prompt lists the paths that were put back (or says nothing was).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from typing import Any

from ralph.errors import KillReason
from ralph.gitops import Snapshot, drop_snapshot, revert_attempt, snapshot_attempt
from ralph.gitops.snapshot import load_snapshot
from ralph.loop.agentcall import StageCall, call_agent
from ralph.loop.board import read_board
from ralph.loop.bookkeeping import finish_stage, record_telemetry, ticket_dict, wait_out_infra
from ralph.loop.checks import all_tasks_check
from ralph.loop.prompts import render_prompt
from ralph.loop.reconcile import Reconciled, apply_build, apply_decompose, fail_task, park_task
from ralph.loop.run import Run
from ralph.loop.stages import Event, Outcome
from ralph.loop.state import Attempt
from ralph.stage import Stage
from ralph.tix import TaskStatus, Ticket

__all__ = ["attempt_snapshot", "build_step", "decompose_step", "end_attempt", "record_failure"]

REVERT_META = "last_revert"


def attempt_snapshot(run: Run) -> Snapshot | None:
    """The snapshot of the attempt in flight (from the state file), if any."""
    attempt = run.state.attempt
    if attempt is None or not attempt.snapshot.get("commit"):
        return None
    return load_snapshot(run.repo, str(attempt.snapshot["commit"]))


def end_attempt(run: Run, *, revert: bool, **changes: Any) -> tuple[str, ...]:
    """Keep or revert the attempt in flight; returns the paths a revert put back or removed. ``changes``
    go into the same state write that forgets the attempt (a crash sees both or neither)."""
    snap = attempt_snapshot(run)
    paths: tuple[str, ...] = ()
    if snap is not None:
        with run.critical():
            if revert:
                report = revert_attempt(run.repo, snap)
                paths = tuple(sorted({*report.restored, *report.removed}))
                run.sink.note(f"revert: {report.summary()}")
            drop_snapshot(run.repo, snap)
    run.save(attempt=None, **changes)
    return paths


def _prompt(run: Run, task: Ticket) -> str:
    rejections = [t.reason for t in run.store.tombstones(task.id) if not t.is_accept][-5:]
    reverted = str(task.meta.get(REVERT_META, "") or "")
    return render_prompt(
        Stage.BUILD,
        task=task,
        spec_name=run.spec,
        spec_text=run.spec_text,
        attempt=task.retries + task.kill_count,
        rejections=rejections or ([task.reject_reason] if task.reject_reason else []),
        kill_reason=task.kill_reason if task.kill_count else "",
        reverted=[p for p in reverted.splitlines() if p],
        rules=run.rules,
        rules_file=run.rules_file,
    )


def build_step(run: Run) -> Event:
    """Pick the best task, snapshot, run BUILD; done goes to VERIFY, anything else fails the task."""
    board = read_board(run.store, run.spec)
    if not board.ready:
        return Event.NOTHING
    task = board.by_id()[board.ready[0]]
    snap = snapshot_attempt(run.repo)
    attempt = Attempt(task_id=task.id, snapshot={"commit": snap.commit}, started_at=run.now())
    run.save(stage=Stage.BUILD, running=True, task_id=task.id, attempt=attempt)
    payload = {
        "spec": run.spec,
        "spec_text": run.spec_text,
        "task": ticket_dict(task),
        "attempt": task.retries + task.kill_count,
    }
    call = call_agent(run, Stage.BUILD, _prompt(run, task), payload, task_id=task.id)
    if call.failure is KillReason.INFRA:
        end_attempt(run, revert=True)
        finish_stage(run, call, outcome=Outcome.FAILURE, task_id=task.id)
        wait_out_infra(run, call)
        run.save(stage=Stage.BUILD, running=False)
        return Event.INFRA
    data = call.exchange.data if call.exchange.ok else None
    if data is not None and data.get("verdict") == "done":
        with run.reconciling():
            reconciled = apply_build(run.store, task, data, run.settings.issue_similarity_threshold)
            record_telemetry(run, Stage.BUILD, call, [task.id])
            finish_stage(run, call, outcome=Outcome.SUCCESS, task_id=task.id, reconciled=reconciled)
            run.defer(stage=Stage.VERIFY, running=False)
        return Event.BUILT
    return _fail_build(run, task, call)


def _failure_reason(call: StageCall) -> str:
    data = call.exchange.data
    if call.failure is not None:
        return f"stopped: {call.failure.value}" + (f" ({call.detail[:300]})" if call.detail else "")
    if data is not None:
        return f"blocked: {str(data.get('reason') or data.get('summary') or 'no reason given')[:500]}"
    return "no valid output: " + "; ".join(call.exchange.errors[:3])


def _fail_build(run: Run, task: Ticket, call: StageCall) -> Event:
    """Revert, record the failure on the task, then DECOMPOSE it, or park it at the depth limit.

    The state write that forgets the attempt also names the failure and the next stage, so a crash before
    the store has it is completed on resume (``record_failure``)."""
    park = task.decompose_depth >= run.settings.max_decompose_depth
    failing = {
        "task_id": task.id,
        "reason": _failure_reason(call),
        "kill": call.failure.value if call.failure is not None else None,
        "kill_count": task.kill_count,
        "park": park,
    }
    target = None if park else task.id
    following = Stage.BUILD if park else Stage.DECOMPOSE
    paths = end_attempt(
        run,
        revert=True,
        failing=failing,
        stage=following,
        running=False,
        decompose_target=target,
        decompose_reason=str(failing["reason"]),
    )
    with run.reconciling():
        reconciled = Reconciled()
        if call.exchange.data is not None:
            threshold = run.settings.issue_similarity_threshold
            reconciled = apply_build(run.store, task, call.exchange.data, threshold)
        run.store.update(task.id, {"meta": {REVERT_META: "\n".join(paths)}})
        reconciled = reconciled + record_failure(run, failing)
        record_telemetry(run, Stage.BUILD, call, [task.id])
        run.tally.failed += 1
        if run.log is not None:
            run.log.failed.append((task.id, task.name, str(failing["kill"] or failing["reason"])[:60]))
        finish_stage(run, call, outcome=Outcome.FAILURE, task_id=task.id, reconciled=reconciled)
        run.defer(failing=None)
    return Event.PARKED if park else Event.FAILED


def record_failure(run: Run, failing: Mapping[str, Any]) -> Reconciled:
    """Record a failed BUILD on its task once (``kill_count`` tells), park it if told; idempotent."""
    current = run.store.find(str(failing["task_id"]))
    if current is None or current.status is not TaskStatus.PENDING:
        return Reconciled()
    reason, kill = str(failing["reason"]), failing.get("kill")
    before = replace(current, kill_count=int(failing["kill_count"]))
    current = fail_task(run.store, before, reason, str(kill) if kill else None)
    if not failing.get("park"):
        return Reconciled()
    issue = (
        f"Task {current.id} '{current.name}' failed at decompose depth {current.decompose_depth} "
        f"(max {run.settings.max_decompose_depth}) and was parked: {reason}"
    )
    return park_task(run.store, current, issue, run.settings.issue_similarity_threshold)


def decompose_step(run: Run) -> Event:
    """Split the failed task into 2-5 subtasks (parent, depth + 1, the parent's spec); the parent goes."""
    target = run.state.decompose_target
    task = run.store.find(target) if target else None
    if task is None or task.status is not TaskStatus.PENDING:
        run.save(stage=Stage.BUILD, running=False, decompose_target=None, decompose_reason="")
        return Event.NOTHING
    run.save(stage=Stage.DECOMPOSE, running=True, task_id=task.id)
    prompt = render_prompt(
        Stage.DECOMPOSE,
        task=task,
        spec_name=run.spec,
        kill_reason=task.kill_reason or "blocked",
        detail=run.state.decompose_reason,
        depth=task.decompose_depth,
        max_depth=run.settings.max_decompose_depth,
        rules=run.rules,
        rules_file=run.rules_file,
    )
    payload = {
        "spec": run.spec,
        "spec_text": run.spec_text,
        "task": ticket_dict(task),
        "attempt": task.retries + task.kill_count,
    }
    call = call_agent(
        run,
        Stage.DECOMPOSE,
        prompt,
        payload,
        task_id=task.id,
        check=all_tasks_check("subtasks", False, run.repo),
    )
    if call.failure is KillReason.INFRA:
        finish_stage(run, call, outcome=Outcome.FAILURE, task_id=task.id)
        wait_out_infra(run, call)
        return Event.INFRA
    data = call.exchange.data if call.exchange.ok else None
    with run.reconciling():
        if data is None:
            finish_stage(run, call, outcome=Outcome.FAILURE, task_id=task.id)
            run.save(stage=Stage.BUILD, running=False, decompose_target=None, decompose_reason="")
            return Event.FAILED
        reconciled = apply_decompose(run.store, task, list(data["subtasks"]))
        record_telemetry(run, Stage.DECOMPOSE, call, list(reconciled.added) or [task.id])
        if run.log is not None:
            run.log.created += [(tid, run.store.get(tid).name) for tid in reconciled.added]
        finish_stage(run, call, outcome=Outcome.SUCCESS, task_id=task.id, reconciled=reconciled)
        run.defer(stage=Stage.BUILD, running=False, decompose_target=None, decompose_reason="")
    return Event.SPLIT
