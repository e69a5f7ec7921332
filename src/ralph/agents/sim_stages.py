"""Simulated PLAN, VERIFY, DECOMPOSE, INVESTIGATE and DEDUP answers over the scenario's known tasks."""

from __future__ import annotations

import random
from collections.abc import Mapping, Sequence
from typing import Any

from ralph.agents.sim_models import FailureMode
from ralph.agents.sim_run import Answer, SimJob
from ralph.agents.sim_tasks import find_keys, resolve_task, run_check, task_fields, ticket_key
from ralph.errors import FailureKind
from ralph.scenarios import ScenarioTask

__all__ = ["answer_decompose", "answer_dedup", "answer_investigate", "answer_plan", "answer_verify"]

_SOFT_MODES = (FailureMode.TIMEOUT, FailureMode.CONTEXT, FailureMode.MALFORMED)
_ISSUE_P = 0.3
"""Chance that a failing verification also files an issue naming the task."""


def _failed(job: SimJob, outcome: FailureMode | None, rng: random.Random) -> Answer | None:
    """The stage's answer when the drawn outcome is a timeout or a context overflow."""
    if outcome is FailureMode.TIMEOUT:
        job.model_calls(1000, rng)
        detail = job.wait_out_timeout()
        return Answer(None, _prose(job, "timed out"), FailureKind.TIMEOUT, detail)
    if outcome is FailureMode.CONTEXT:
        job.model_calls(1, rng)
        return Answer(
            None, _prose(job, "context window exhausted"), FailureKind.CONTEXT, job.overflow_context(rng)
        )
    return None


def _start(
    job: SimJob, key: str, difficulty: int, ticket: Mapping[str, Any] | None = None
) -> tuple[random.Random, FailureMode | None]:
    job.key = key
    rng = job.rng(key, ticket=ticket)
    outcome = None if job.retry > 0 else job.outcome(rng, difficulty, _SOFT_MODES)
    return rng, outcome


def _names(job: SimJob, tickets: Sequence[Mapping[str, Any]]) -> str:
    """A batch as its scenario keys (else names): never its ids, which differ from run to run."""
    return ",".join(ticket_key(t, job.scenario) or str(t.get("name") or "") for t in tickets)


def _batch_attempt(tickets: Sequence[Mapping[str, Any]]) -> dict[str, int]:
    """A batch's attempt (the sum of its tickets'), so a review that failed is not redrawn the same."""
    return {"attempt": sum(int(t.get("attempt") or 0) for t in tickets)}


def answer_plan(job: SimJob) -> Answer:
    """The scenario's top-level tasks for the spec, with deps as batch indexes and ``sim:`` labels."""
    spec = str(job.payload.get("spec") or "")
    if job.scenario is None:
        detail = f"[simulated] no bundled scenario has the spec {spec!r}; the simulator can only plan those"
        return Answer(None, detail, FailureKind.AGENT_ERROR, detail)
    rng, outcome = _start(job, f"plan:{job.scenario.name}", 2)
    if (failed := _failed(job, outcome, rng)) is not None:
        return failed
    job.say(f"reading {spec or job.scenario.spec} and the project tree")
    job.model_calls(3 if job.retry == 0 else 1, rng)
    index = {task.key: i for i, task in enumerate(job.scenario.tasks)}
    tasks = [task_fields(t, [index[d] for d in t.deps]) for t in job.scenario.tasks]
    job.say(f"planned {len(tasks)} tasks in {1 + max(t.phase for t in job.scenario.tasks)} phases")
    return Answer({"tasks": tasks}, _prose(job, f"{len(tasks)} tasks"), malformed=job.malformed(outcome))


def answer_verify(job: SimJob) -> Answer:
    """Run each task's check for real; the verdict agrees with it at the model's ``review`` rate."""
    tickets: Sequence[Mapping[str, Any]] = job.payload.get("tasks") or ()
    rng, outcome = _start(job, "verify:" + _names(job, tickets), 1, _batch_attempt(tickets))
    if (failed := _failed(job, outcome, rng)) is not None:
        return failed
    job.model_calls(1, rng)
    results: list[dict[str, Any]] = []
    issues: list[dict[str, str]] = []
    for ticket in tickets:
        result, issue = _review(job, ticket)
        results.append(result)
        issues.extend(issue)
    data = {"results": results, "issues": issues}
    passed = sum(1 for r in results if r["passed"])
    return Answer(data, _prose(job, f"{passed}/{len(results)} passed"), malformed=job.malformed(outcome))


def _review(job: SimJob, ticket: Mapping[str, Any]) -> tuple[dict[str, Any], list[dict[str, str]]]:
    key = ticket_key(ticket, job.scenario)
    task = resolve_task(job.scenario, key)
    rng = job.rng(f"review:{key or ticket.get('name')}", ticket=ticket)
    job.model_calls(1, rng)
    check = str(ticket.get("check") or (task.check if task else ""))
    if check:
        done = run_check(job, check)
        evidence, tail = done.ok, (done.stdout + done.stderr).strip().splitlines()[-1:] or [""]
        seen = f"`{check}` {'passes' if done.ok else f'fails ({tail[0][:200]})'}"
    else:
        evidence, seen = True, "no check to run; the diff looks plausible"
    agrees = rng.random() < job.model.review
    passed = evidence if agrees else not evidence
    verdict = "agrees with" if agrees else "misjudges"
    reason = f"[simulated review {verdict} the evidence] {seen}"
    job.say(f"verify {ticket.get('id')}: {'passed' if passed else 'failed'} - {seen}")
    issues = []
    if not passed and rng.random() < _ISSUE_P:
        name = ticket.get("name", "?")
        issues.append({"desc": f"[simulated] '{name}' (sim:{key or '?'}) does not hold: {seen}"})
    return {"task_id": str(ticket.get("id") or ""), "passed": passed, "reason": reason}, issues


def answer_decompose(job: SimJob) -> Answer:
    """The scenario's subtasks of the task, else a generic split into two parts with ``#i/2`` keys."""
    ticket: Mapping[str, Any] = job.payload.get("task") or {}
    key = ticket_key(ticket, job.scenario)
    task = resolve_task(job.scenario, key)
    rng, outcome = _start(
        job, f"decompose:{key or ticket.get('name')}", task.difficulty if task else 3, ticket
    )
    if (failed := _failed(job, outcome, rng)) is not None:
        return failed
    job.model_calls(2 if job.retry == 0 else 1, rng)
    if task is not None and task.subtasks:
        index = {sub.key: i for i, sub in enumerate(task.subtasks)}
        subtasks = [task_fields(s, [index[d] for d in s.deps]) for s in task.subtasks]
    else:
        subtasks = _generic_split(job, ticket, key)
    job.say(f"split {key or ticket.get('name')!r} into {len(subtasks)} subtasks")
    return Answer(
        {"subtasks": subtasks}, _prose(job, f"{len(subtasks)} subtasks"), malformed=job.malformed(outcome)
    )


def _generic_split(job: SimJob, ticket: Mapping[str, Any], key: str | None) -> list[dict[str, Any]]:
    parts: list[dict[str, Any]] = []
    for index in (1, 2):
        part = resolve_task(job.scenario, f"{key}#{index}/2") if key else None
        if part is not None:
            parts.append(task_fields(part, [0] if index == 2 else []))
            continue
        name = f"{ticket.get('name', 'task')} (part {index} of 2)"
        notes = f"{'First' if index == 1 else 'Second'} half of: {ticket.get('notes') or ticket.get('name')}"
        accept = str(ticket.get("accept") or f"The change described in {name} is made and make test exits 0.")
        fields = {"name": name, "notes": notes, "accept": accept, "deps": [0] if index == 2 else []}
        if index == 2 and ticket.get("check"):
            fields["check"] = ticket["check"]
        parts.append(fields)
    return parts


def answer_investigate(job: SimJob) -> Answer:
    """One follow-up task per issue that names a scenario task (carrying its key); the rest out of scope."""
    issues: Sequence[Mapping[str, Any]] = job.payload.get("issues") or ()
    rng, outcome = _start(job, "investigate:" + _names(job, issues), 2)
    if (failed := _failed(job, outcome, rng)) is not None:
        return failed
    job.model_calls(1 + len(issues) if job.retry == 0 else 1, rng)
    tasks: list[dict[str, Any]] = []
    out_of_scope: list[str] = []
    for issue in issues:
        task = _named_task(job, issue)
        if task is None:
            out_of_scope.append(str(issue.get("id") or ""))
            continue
        fix = {"name": f"Fix: {task.name}", "notes": f"{task.notes} (follow-up of issue {issue.get('id')})"}
        tasks.append(task_fields(task, [], created_from=str(issue.get("id") or ""), priority="high") | fix)
    summary = f"[simulated] {len(tasks)} follow-up tasks, {len(out_of_scope)} issues out of scope"
    data = {"tasks": tasks, "out_of_scope": out_of_scope, "summary": summary}
    return Answer(data, _prose(job, summary), malformed=job.malformed(outcome))


def _named_task(job: SimJob, issue: Mapping[str, Any]) -> ScenarioTask | None:
    texts = [v for v in issue.values() if isinstance(v, str)]
    for key in find_keys(texts):
        task = resolve_task(job.scenario, key)
        if task is not None:
            return task
    if job.scenario is None:
        return None
    return next((t for t in job.scenario.iter_tasks() if any(t.name in text for text in texts)), None)


def answer_dedup(job: SimJob) -> Answer:
    """Keep every pending task (the simulator never judges two tasks the same)."""
    pending: Sequence[Mapping[str, Any]] = job.payload.get("pending") or ()
    rng, outcome = _start(job, "dedup", 1)
    if (failed := _failed(job, outcome, rng)) is not None:
        return failed
    job.model_calls(1, rng)
    data = {"keep": [str(t.get("id")) for t in pending], "dropped": []}
    return Answer(data, _prose(job, f"kept {len(pending)}"), malformed=job.malformed(outcome))


def _prose(job: SimJob, status: str) -> str:
    return f"[simulated {job.model.short}] {job.request.stage.value}: {status}."
