"""``ralph plan SPEC``: gap analysis of the spec against the repo and the spec's history into tasks.

The PLAN call is a run of its own in the ledger (start and end records, iteration 0, its calls); tasks are
validated strictly, upserted by name (re-planning never duplicates), deps resolved to ids; an optional DEDUP
call merges duplicates when the plan is large."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ralph.errors import ExitReason, GitError, UsageError
from ralph.gitops import commit_paths, current_branch, guard_branch, head_sha
from ralph.ledger import LedgerWriter, new_run_id
from ralph.loop.agentcall import StageCall, call_agent
from ralph.loop.board import in_spec
from ralph.loop.bookkeeping import finish_stage, record_telemetry, ticket_dict
from ralph.loop.checks import merged_list, task_list_check
from ralph.loop.guards import Limits, Totals
from ralph.loop.live import ActivitySink, activity_path
from ralph.loop.prompts import render_prompt
from ralph.loop.reconcile import Reconciled, apply_dedup, apply_plan
from ralph.loop.records import end_record, start_record
from ralph.loop.run import Run
from ralph.loop.secrets import agent_secrets
from ralph.loop.session import build_backends, find_rules, open_store, resolve_spec, root_of
from ralph.loop.signals import SignalGuard, StopRequested
from ralph.loop.stages import Outcome
from ralph.loop.state import load_state
from ralph.settings import Settings
from ralph.stage import Stage
from ralph.tix import TaskStatus, TicketStore

__all__ = ["DEDUP_MIN_TASKS", "PlanSummary", "plan_spec"]

DEDUP_MIN_TASKS = 8
"""DEDUP runs only when the spec has more pending tasks than this after a plan with repair retries."""
_HISTORY = 30


@dataclass(frozen=True)
class PlanSummary:
    run_id: str
    spec: str
    added: tuple[str, ...]
    updated: tuple[str, ...]
    dropped: tuple[str, ...]
    errors: tuple[str, ...]
    remarks: tuple[str, ...]
    simulated: bool
    exit_reason: ExitReason

    @property
    def ok(self) -> bool:
        return self.exit_reason is ExitReason.COMPLETE


def plan_spec(repo: Path, settings: Settings, spec: str) -> PlanSummary:
    """Plan ``spec`` (a path or a name under ``ralph/specs``) into the ticket store (created if new)."""
    root = root_of(repo)
    spec_file = resolve_spec(root, settings, spec, None)
    new_store = not (root / ".tix").is_dir()
    store = TicketStore.init(root) if new_store else open_store(root)
    run_id = new_run_id()
    backends, clock, simulated = build_backends(settings, (Stage.PLAN, Stage.DEDUP), run_id)
    now = clock.now()
    rules, rules_file = find_rules(root)
    run = Run(
        repo=root,
        settings=settings,
        store=store,
        clock=clock,
        ledger=LedgerWriter(Path(settings.log_dir)),
        run_id=run_id,
        spec=spec_file.name,
        spec_text=spec_file.text,
        backends=backends,
        sink=ActivitySink(
            activity_path(Path(settings.log_dir), run_id),
            agent_secrets(settings),
        ),
        signals=SignalGuard(),
        state=load_state(root),
        totals=Totals(started_at=now, last_progress_at=now),
        limits=Limits.from_settings(settings),
        rules=rules,
        rules_file=rules_file,
        simulated=simulated,
    )
    return _execute(run, [".tix", ".gitignore"] if new_store else [".tix"])


def _execute(run: Run, paths: list[str]) -> PlanSummary:
    started = run.now()
    start = start_record(
        run, branch=_branch(run), sha=head_sha(run.repo), started_at=started, extra={"stage": "PLAN"}
    )
    reason, result = ExitReason.ERROR, Reconciled()
    call: StageCall | None = None
    with run.signals:
        try:
            run.ledger.append_run(start)
            call, result = _plan(run)
            reason = ExitReason.COMPLETE if call.exchange.parts else ExitReason.ERROR
            _finish(run, result, paths)
        except StopRequested:
            reason = ExitReason.INTERRUPTED
        finally:
            ended = run.now()
            end = end_record(start, run, sha_end=head_sha(run.repo), reason=reason.value, ended_at=ended,
                             started_at=started)  # fmt: skip
            run.ledger.append_run(end)
            for backend in run.backends.values():
                backend.close()
            run.sink.close()
    errors = call.exchange.errors if call is not None else ()
    return PlanSummary(
        run_id=run.run_id,
        spec=run.spec,
        added=result.added,
        updated=result.updated,
        dropped=result.deleted,
        errors=tuple(errors),
        remarks=result.remarks,
        simulated=run.simulated,
        exit_reason=reason,
    )


def _branch(run: Run) -> str:
    try:
        return current_branch(run.repo)
    except GitError:
        return ""


def _history(run: Run) -> dict[str, list[dict[str, Any]]]:
    """Accepted and rejected tasks of this spec (tombstones), and its pending tasks."""
    tasks = {t.id: t for t in run.store.tasks(status=tuple(TaskStatus)) if in_spec(t, run.spec)}
    stones = [s for s in run.store.tombstones() if s.id in tasks]
    accepted = [
        {"id": s.id, "name": s.name or tasks[s.id].name, "reason": s.reason} for s in stones if s.is_accept
    ]
    rejected = [
        {"id": s.id, "name": s.name or tasks[s.id].name, "reason": s.reason}
        for s in stones
        if not s.is_accept
    ]
    pending = [ticket_dict(t) for t in tasks.values() if t.is_live]
    return {"accepted": accepted[-_HISTORY:], "rejected": rejected[-_HISTORY:], "pending": pending}


def _plan(run: Run) -> tuple[StageCall, Reconciled]:
    history = _history(run)
    prompt = render_prompt(
        Stage.PLAN,
        spec_name=run.spec,
        spec_text=run.spec_text,
        accepted=history["accepted"],
        rejected=history["rejected"],
        pending=history["pending"],
        rules=run.rules,
        rules_file=run.rules_file,
    )
    payload = {"spec": run.spec, "spec_text": run.spec_text, "attempt": 0, **history}
    call = call_agent(run, Stage.PLAN, prompt, payload, check=task_list_check("tasks", True, run.repo))
    parts = call.exchange.parts
    with run.critical():
        drops = [str(d) for part in parts for d in part.get("drop") or ()]
        with run.reconciling():
            tasks = merged_list(parts, "tasks")
            result = apply_plan(run.store, run.spec, tasks, drops) if parts else Reconciled()
            record_telemetry(run, Stage.PLAN, call, list(result.added))
        outcome = Outcome.SUCCESS if parts else Outcome.FAILURE
        finish_stage(run, call, outcome=outcome, task_id=None, reconciled=result)
    if parts and call.exchange.retries:
        result = result + _dedup(run)
    return call, result


def _dedup(run: Run) -> Reconciled:
    """Ask the DEDUP route to merge duplicates among the spec's pending tasks (safety-checked)."""
    pending = [t for t in run.store.tasks(status=TaskStatus.PENDING) if in_spec(t, run.spec)]
    if len(pending) <= DEDUP_MIN_TASKS:
        return Reconciled()
    prompt = render_prompt(Stage.DEDUP, spec_name=run.spec, tasks=pending)
    payload = {"spec": run.spec, "pending": [ticket_dict(t) for t in pending], "attempt": 0}
    call = call_agent(run, Stage.DEDUP, prompt, payload)
    data = call.exchange.data if call.exchange.ok else None
    with run.critical():
        candidates = {t.id for t in pending}
        with run.reconciling():
            result = apply_dedup(run.store, candidates, data) if data is not None else Reconciled()
        finish_stage(
            run, call, outcome=Outcome.SUCCESS if data else Outcome.FAILURE, task_id=None, reconciled=result
        )
    return result


def _finish(run: Run, result: Reconciled, paths: list[str]) -> None:
    """Point the state at this spec and commit ``paths`` (on a branch Ralph may work on)."""
    if not (result.added or result.updated or result.deleted):
        return
    state = run.state
    keep = state.spec == run.spec
    run.save(
        spec=run.spec,
        stage=state.stage if keep else None,
        iteration=state.iteration if keep else 0,
        running=False,
    )
    if not run.settings.commit:
        return
    try:
        guard_branch(run.repo, allow_branch=False)
    except UsageError:
        run.sink.note("plan not committed: not on a branch Ralph created")
        return
    counts = f"{len(result.added)} added, {len(result.updated)} updated, {len(result.deleted)} dropped"
    message = f"{run.settings.commit_prefix} plan {run.spec} ({counts})"
    commit_paths(run.repo, paths, message)
