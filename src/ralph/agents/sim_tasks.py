"""How the sim recognises scenario tasks in tickets, splits unknown ones, and runs their checks."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

from ralph.agents.sim_run import SimJob
from ralph.proc import Completed, run_command, scrubbed_env
from ralph.scenarios import OpKind, Scenario, ScenarioTask, files_with_symbol

__all__ = [
    "find_keys",
    "pick_scenario",
    "resolve_task",
    "run_check",
    "target_files",
    "task_fields",
    "ticket_key",
]

_KEY = re.compile(r"\bsim:([A-Za-z0-9_.#/-]*[A-Za-z0-9])")
_PART = re.compile(r"(\d+)/(\d+)")
_CHECK_TIMEOUT_S = 300.0


def ticket_key(ticket: Mapping[str, Any], scenario: Scenario | None) -> str | None:
    """The ``sim:<key>`` label of a ticket, else the key of the scenario task with exactly its name."""
    for label in ticket.get("labels") or ():
        if str(label).startswith("sim:"):
            return str(label)[4:]
    name = str(ticket.get("name") or "")
    if scenario is not None and name:
        return next((t.key for t in scenario.iter_tasks() if t.name == name), None)
    return None


def find_keys(texts: Iterable[Any]) -> list[str]:
    """Every ``sim:<key>`` mentioned in ``texts``, in order, once."""
    found: dict[str, None] = {}
    for text in texts:
        if isinstance(text, str):
            found.update(dict.fromkeys(_KEY.findall(text)))
    return list(found)


def resolve_task(scenario: Scenario | None, key: str | None) -> ScenarioTask | None:
    """The scenario task for ``key``; ``<key>#i/n`` is part i of a generic n-way split of ``<key>``."""
    if scenario is None or not key:
        return None
    if "#" not in key:
        return scenario.find_task(key)
    base, _, part = key.rpartition("#")
    parent = resolve_task(scenario, base)
    match = _PART.fullmatch(part)
    if parent is None or match is None:
        return None
    index, count = int(match.group(1)), int(match.group(2))
    if not 1 <= index <= count:
        return None
    ops = parent.ops
    last = index == count
    return replace(
        parent,
        key=key,
        name=f"{parent.name} (part {index} of {count})",
        accept=parent.accept if last else f"Part {index} of {count} of: {parent.accept}",
        check=parent.check if last else "",
        difficulty=max(1, parent.difficulty - 1),
        deps=(),
        ops=ops[(index - 1) * len(ops) // count : index * len(ops) // count],
        subtasks=(),
        parent=parent.key,
    )


def task_fields(task: ScenarioTask, deps: Sequence[int] = (), **extra: Any) -> dict[str, Any]:
    """A task as the PLAN/DECOMPOSE/INVESTIGATE output shape, labelled with its scenario key."""
    fields: dict[str, Any] = {"name": task.name, "notes": task.notes, "accept": task.accept}
    if task.check:
        fields["check"] = task.check
    fields.update(deps=list(deps), priority=task.priority, labels=list(task.labels))
    fields.update(extra)
    return fields


def pick_scenario(
    scenarios: Sequence[Scenario], specs: Iterable[Any], keys: Iterable[str]
) -> Scenario | None:
    """The scenario whose spec file matches one of ``specs``, else one that holds one of ``keys``."""
    for spec in specs:
        if isinstance(spec, str) and spec:
            base, stem = Path(spec).name, Path(spec).stem
            match = next((s for s in scenarios if base == s.spec or stem == s.name), None)
            if match is not None:
                return match
    for key in keys:
        base = key.split("#", 1)[0]
        match = next((s for s in scenarios if s.find_task(base) is not None), None)
        if match is not None:
            return match
    return None


def target_files(job: SimJob, task: ScenarioTask) -> list[str]:
    """Files the task's ops touch in the working tree now (renames: files holding the old symbol)."""
    files: dict[str, None] = {}
    for op in task.ops:
        if op.kind is OpKind.RENAME:
            files.update(dict.fromkeys(files_with_symbol(job.request.cwd, op.old, op.scope)))
        elif op.path:
            files[op.path] = None
    return list(files)


def run_check(job: SimJob, command: str) -> Completed:
    """Really run a check in the working tree (scrubbed env, timeout), reporting it as tool events."""
    job.tool("bash", command=command)
    timeout = max(1.0, min(_CHECK_TIMEOUT_S, job.request.timeout_s - job.elapsed))
    done = run_command(["sh", "-c", command], cwd=job.request.cwd, timeout_s=timeout, env=scrubbed_env())
    status = "timed out" if done.timed_out else f"exit {done.returncode}"
    job.tool_result("bash", f"{status}\n{(done.stdout + done.stderr)[-2000:]}")
    return done
