"""Simulated BUILD: really edits the working tree with the task's known solution, or fails realistically."""

from __future__ import annotations

import random
from collections.abc import Mapping, Sequence
from typing import Any

from ralph.agents.sim_models import FailureMode
from ralph.agents.sim_run import Answer, SimJob
from ralph.agents.sim_tasks import resolve_task, run_check, target_files, ticket_key
from ralph.errors import FailureKind
from ralph.scenarios import (
    OpKind,
    ScenarioError,
    ScenarioTask,
    SolutionOp,
    apply_op,
    apply_ops,
    apply_partial,
)

__all__ = ["answer_build"]

_BROKEN = "\nint rt_sim_broken( /* simulated bad edit: unfinished declaration */\n"
_BLOCKERS = (
    "the notes name a file whose code does not match what the task describes",
    "the build fails in a file this task does not mention, so the change cannot be verified",
    "it is unclear which callers must change and which must keep the old interface",
)


def answer_build(job: SimJob) -> Answer:
    """Work the ticket in ``payload.task``: success applies its ops; failures leave what agents leave."""
    ticket: Mapping[str, Any] = job.payload.get("task") or {}
    key = ticket_key(ticket, job.scenario)
    task = resolve_task(job.scenario, key)
    job.key = key or str(ticket.get("name") or "")
    follow_up = f"~{ticket.get('name')}" if ticket.get("created_from") else ""
    rng = job.rng(job.key + follow_up, ticket=ticket)
    outcome = job.outcome(rng, task.difficulty if task else 3, tuple(FailureMode))
    if job.retry > 0:
        return _repair(job, ticket, task, outcome)
    job.say(f"working on {ticket.get('name', '?')!r} ({f'sim:{key}' if key else 'not a scenario task'})")
    if task is None:
        return _unknown(job, rng)
    steps = max(2, job.model.steps + rng.randint(-2, 2))
    if outcome is FailureMode.TIMEOUT:
        return _timeout(job, task, steps, rng)
    if outcome is FailureMode.CONTEXT:
        return _context(job, task, steps, rng)
    if outcome is FailureMode.BLOCKED:
        return _blocked(job, task, steps, rng)
    return _work(job, task, ticket, steps, rng, outcome)


def _work(
    job: SimJob,
    task: ScenarioTask,
    ticket: Mapping[str, Any],
    steps: int,
    rng: random.Random,
    outcome: FailureMode | None,
) -> Answer:
    if not job.model_calls(steps // 2, rng):
        return _timed_out(job)
    if ticket.get("created_from") and task.check and run_check(job, task.check).ok:
        job.say("the check already passes; nothing to change")
        summary = f"[simulated] {task.key} was already satisfied: `{task.check}` passes; no files changed."
        return _done(job, summary, steps - steps // 2, rng, ticket, outcome)
    if outcome is FailureMode.WRONG:
        changed = _break(job, task, rng)
        summary = f"[simulated] Completed {task.name}; edited {', '.join(changed) or 'nothing'}."
    else:
        try:
            changed = apply_ops(task.ops, job.request.cwd)
        except ScenarioError as err:
            job.model_calls(steps - steps // 2, rng)
            reason = f"[simulated] the known solution of {task.key} does not apply to this tree: {err}"
            data = {"verdict": "blocked", "summary": reason, "reason": reason}
            return Answer(data, _prose(job, "blocked"), malformed=job.malformed(outcome, ticket))
        summary = (
            f"[simulated] Applied the known solution of {task.key}: edited {', '.join(changed) or 'nothing'}."
        )
    _report_edits(job, changed)
    return _done(job, summary, steps - steps // 2, rng, ticket, outcome)


def _done(
    job: SimJob,
    summary: str,
    steps: int,
    rng: random.Random,
    ticket: Mapping[str, Any],
    outcome: FailureMode | None,
) -> Answer:
    if not job.model_calls(steps, rng):
        return _timed_out(job)
    data = {"verdict": "done", "summary": summary, "issues": []}
    return Answer(data, _prose(job, "done"), malformed=job.malformed(outcome, ticket))


def _break(job: SimJob, task: ScenarioTask, rng: random.Random) -> tuple[str, ...]:
    """Leave a broken change: half the work (e.g. renames in half the files) or a syntax error."""
    if rng.random() < 0.5:
        try:
            changed = apply_partial(task.ops, job.request.cwd)
        except ScenarioError:
            changed = ()
        if changed:
            return changed
    sources = [f for f in target_files(job, task) if f.endswith(".c")] or ["src/main.c"]
    return apply_op(SolutionOp(OpKind.APPEND, path=sources[0], text=_BROKEN), job.request.cwd)


def _timeout(job: SimJob, task: ScenarioTask, steps: int, rng: random.Random) -> Answer:
    job.model_calls(steps // 2, rng)
    _report_edits(job, _partial(job, task))
    job.model_calls(10 * steps, rng)
    detail = job.wait_out_timeout()
    return Answer(None, _prose(job, "still editing when the stage timed out"), FailureKind.TIMEOUT, detail)


def _timed_out(job: SimJob) -> Answer:
    detail = job.wait_out_timeout()
    return Answer(None, _prose(job, "still working when the stage timed out"), FailureKind.TIMEOUT, detail)


def _context(job: SimJob, task: ScenarioTask, steps: int, rng: random.Random) -> Answer:
    job.model_calls(max(1, steps // 2), rng)
    _report_edits(job, _partial(job, task))
    detail = job.overflow_context(rng)
    return Answer(None, _prose(job, "context window exhausted mid-edit"), FailureKind.CONTEXT, detail)


def _blocked(job: SimJob, task: ScenarioTask, steps: int, rng: random.Random) -> Answer:
    if not job.model_calls(max(1, steps // 2), rng):
        return _timed_out(job)
    reason = f"[simulated] blocked on {task.key}: {rng.choice(_BLOCKERS)}"
    issue = {
        "desc": f"[simulated] Task '{task.name}' (sim:{task.key}) is blocked: {reason.split(': ', 1)[1]}"
    }
    data = {"verdict": "blocked", "summary": reason, "reason": reason, "issues": [issue]}
    return Answer(data, _prose(job, "blocked"))


def _unknown(job: SimJob, rng: random.Random) -> Answer:
    job.model_calls(2, rng)
    where = f"scenario {job.scenario.name}" if job.scenario else "any bundled scenario"
    reason = (
        f"[simulated] no known solution: this task is not part of {where}; the simulator only performs those"
    )
    return Answer({"verdict": "blocked", "summary": reason, "reason": reason}, _prose(job, "blocked"))


def _repair(
    job: SimJob,
    ticket: Mapping[str, Any],
    task: ScenarioTask | None,
    outcome: FailureMode | None,
) -> Answer:
    """A validation retry in the same session: no new edits, the first answer restated."""
    job.model_calls(1, job.rng(job.key, retry=job.retry, ticket=ticket))
    if task is None or outcome is FailureMode.BLOCKED:
        reason = f"[simulated] blocked on {job.key}"
        data: dict[str, Any] = {"verdict": "blocked", "summary": reason, "reason": reason}
    else:
        data = {
            "verdict": "done",
            "summary": f"[simulated] Finished {task.key} (restated after a repair request).",
        }
    return Answer(data, _prose(job, "restating the result"), malformed=job.malformed(outcome, ticket))


def _partial(job: SimJob, task: ScenarioTask) -> tuple[str, ...]:
    try:
        return apply_partial(task.ops, job.request.cwd)
    except ScenarioError:
        return ()


def _report_edits(job: SimJob, changed: Sequence[str]) -> None:
    for path in changed:
        job.tool("edit", path=path)
        job.say(f"editing {path}")


def _prose(job: SimJob, status: str) -> str:
    return f"[simulated {job.model.short}] BUILD {job.key or 'task'}: {status}."
