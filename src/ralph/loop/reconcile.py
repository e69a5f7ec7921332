"""Apply a validated stage answer to the TicketStore. Idempotent: re-applying after a crash or a retry finds
the work already there (names upserted, verdicts only on tasks still in the expected state)."""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from ralph.loop.stages import PARKED_LABEL
from ralph.loop.upsert import Applied, add_issues, upsert_tasks
from ralph.tix import TaskStatus, Ticket, TicketStore

__all__ = [
    "Reconciled",
    "apply_build",
    "apply_decompose",
    "apply_dedup",
    "apply_investigate",
    "apply_plan",
    "apply_verify",
    "fail_task",
    "park_task",
]


@dataclass(frozen=True)
class Reconciled:
    """What one stage changed in the store (the iteration record's ``reconcile`` counts come from here)."""

    added: tuple[str, ...] = ()
    updated: tuple[str, ...] = ()
    accepted: tuple[str, ...] = ()
    rejected: tuple[str, ...] = ()
    issues: tuple[str, ...] = ()
    deleted: tuple[str, ...] = ()
    remarks: tuple[str, ...] = ()

    def counts(self) -> dict[str, int]:
        return {
            "added": len(self.added),
            "accepted": len(self.accepted),
            "rejected": len(self.rejected),
            "issues": len(self.issues),
        }

    def __add__(self, other: Reconciled) -> Reconciled:
        return Reconciled(*(getattr(self, f) + getattr(other, f) for f in self.__dataclass_fields__))

    @classmethod
    def of(cls, applied: Applied, **more: tuple[str, ...]) -> Reconciled:
        remarks = applied.remarks + more.pop("remarks", ())
        return cls(added=applied.added, updated=applied.updated, remarks=remarks, **more)


def _issue_texts(data: Mapping[str, Any]) -> list[str]:
    return [str(i.get("desc", "")) for i in data.get("issues") or () if isinstance(i, Mapping)]


def apply_plan(
    store: TicketStore, spec: str, tasks: Sequence[Mapping[str, Any]], drop: Sequence[str]
) -> Reconciled:
    """Drop the named pending tasks of the spec, then upsert the proposed ones."""
    deleted: list[str] = []
    for tid in drop:
        ticket = store.find(str(tid))
        if ticket is not None and ticket.status is TaskStatus.PENDING and ticket.spec in ("", spec):
            store.delete(ticket.id)
            deleted.append(ticket.id)
    return Reconciled.of(upsert_tasks(store, spec, tasks), deleted=tuple(deleted))


def apply_build(store: TicketStore, task: Ticket, data: Mapping[str, Any], threshold: float) -> Reconciled:
    """``done`` marks the task done (once); issues the agent raised are added either way."""
    issues = add_issues(store, task.spec, _issue_texts(data), threshold)
    current = store.get(task.id)
    if data.get("verdict") == "done" and current.status is TaskStatus.PENDING:
        store.done(task.id)
    return Reconciled(issues=issues)


def apply_verify(
    store: TicketStore, spec: str, batch: Collection[str], data: Mapping[str, Any], threshold: float
) -> Reconciled:
    """Accept or reject each batch task that is still done; other ids are ignored with a remark."""
    accepted: list[str] = []
    rejected: list[str] = []
    remarks: list[str] = []
    for result in data.get("results") or ():
        tid = str(result.get("task_id", ""))
        ticket = store.find(tid) if tid in batch else None
        if ticket is None:
            remarks.append(f"result for {tid!r} ignored: not in this batch")
        elif ticket.status is TaskStatus.DONE and result.get("passed") is True:
            store.accept(tid, str(result.get("reason") or "passed review"))
            accepted.append(tid)
        elif ticket.status is TaskStatus.DONE:
            store.reject(tid, str(result.get("reason") or "rejected by review without a reason"))
            rejected.append(tid)
    issues = add_issues(store, spec, _issue_texts(data), threshold)
    applied = upsert_tasks(store, spec, list(data.get("new_tasks") or ()))
    return Reconciled.of(
        applied, accepted=tuple(accepted), rejected=tuple(rejected), issues=issues, remarks=tuple(remarks)
    )


def apply_investigate(
    store: TicketStore, spec: str, batch: Sequence[str], tasks: Sequence[Mapping[str, Any]]
) -> Reconciled:
    """Upsert the proposed tasks (``created_from`` kept only if it is a batch issue), resolve the batch."""
    cleaned = [
        {**t, "created_from": t.get("created_from") if t.get("created_from") in batch else batch[0]}
        for t in tasks
    ]
    applied = upsert_tasks(store, spec, cleaned)
    store.resolve_issues(batch)
    return Reconciled.of(applied)


def apply_decompose(store: TicketStore, parent: Ticket, subtasks: Sequence[Mapping[str, Any]]) -> Reconciled:
    """Subtasks carry parent, depth + 1, the parent's spec and deps; tasks that needed the parent now need
    the subtasks; then the parent is deleted."""
    current = store.get(parent.id)
    if current.status is TaskStatus.DELETED:
        return Reconciled(remarks=(f"{parent.id} was already decomposed",))
    stamp = {"parent": parent.id, "decompose_depth": parent.decompose_depth + 1}
    items = [
        {
            **s,
            "name": s["name"] if s["name"] != parent.name else f"{s['name']} (part {n + 1})",
            "deps": [*parent.deps, *(s.get("deps") or ())],
        }
        for n, s in enumerate(subtasks)
    ]
    applied = upsert_tasks(store, parent.spec, items, stamp=stamp)
    children = [*applied.added, *applied.updated, *applied.skipped]
    for dependent in store.dependents(parent.id):
        deps = [d for d in dependent.deps if d != parent.id] + [
            c for c in children if c not in dependent.deps
        ]
        store.update(dependent.id, {"deps": deps})
    store.delete(parent.id)
    return Reconciled.of(applied, deleted=(parent.id,))


def apply_dedup(store: TicketStore, candidates: Collection[str], data: Mapping[str, Any]) -> Reconciled:
    """Delete the dropped tasks if the answer is safe: keeps at least half, drops only candidates."""
    keep = {str(k) for k in data.get("keep") or ()}
    dropped = [str(d) for d in data.get("dropped") or () if str(d) in candidates and str(d) not in keep]
    if not keep or len(keep & set(candidates)) * 2 < len(candidates):
        return Reconciled(remarks=("dedup ignored: it kept fewer than half of the tasks",))
    deleted = [tid for tid in dropped if store.get(tid).status is TaskStatus.PENDING]
    for tid in deleted:
        store.delete(tid)
    return Reconciled(deleted=tuple(deleted))


def fail_task(store: TicketStore, task: Ticket, reason: str, kill_reason: str | None) -> Ticket:
    """Record a failed attempt of a pending task (BUILD killed or blocked); repeating it is a no-op."""
    current = store.get(task.id)
    if current.status is not TaskStatus.PENDING or current.kill_count > task.kill_count:
        return current
    return store.fail(task.id, reason, kill_reason=kill_reason)


def park_task(store: TicketStore, task: Ticket, issue: str, threshold: float) -> Reconciled:
    """Label the task ``parked`` (never picked again) and raise one issue saying why."""
    current = store.get(task.id)
    if PARKED_LABEL in current.labels:
        return Reconciled()
    issues = add_issues(store, current.spec, [issue], threshold)
    store.update(task.id, {"labels_add": [PARKED_LABEL]})
    return Reconciled(issues=issues)
