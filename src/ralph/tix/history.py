"""Git-history commands: ``compact`` (a converging rewrite), ``sync`` (learn compacted tickets from
history) and ``log``. None of them commits."""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING, Any

from ralph.errors import StoreError
from ralph.tix.lines import dump_line, encode_ticket
from ralph.tix.records import TaskStatus, Ticket, TicketType
from ralph.tix.replay import PlanState, replay_text

if TYPE_CHECKING:
    from ralph.tix.store import TicketStore

__all__ = ["compact_store", "compact_text", "log_store", "sync_store"]

_REF_KEYS = ("parent", "created_from", "supersedes")


def _refs(t: Ticket) -> list[str]:
    return [*t.deps, *(r for r in (getattr(t, k) for k in _REF_KEYS) if r)]


def _kept_ids(state: PlanState, committed: set[str]) -> set[str]:
    """Live tickets, resolutions not yet committed at HEAD, and whatever those still reference."""
    keep = {i for i, t in state.tickets.items() if not t.status.resolved or i not in committed}
    todo = list(keep)
    while todo:
        for ref in _refs(state.tickets[todo.pop()]):
            if ref in state.tickets and ref not in keep:
                keep.add(ref)
                todo.append(ref)
    return keep


def _denormalised(t: Ticket, state: PlanState, keep: set[str]) -> Ticket:
    """Copy the names of dropped created_from/supersedes targets onto the ticket (C tix compact step 2)."""
    source = state.tickets.get(t.created_from)
    if source is not None and t.created_from not in keep and not t.created_from_name:
        t = replace(t, created_from_name=source.name)
    old = state.tickets.get(t.supersedes)
    if old is not None and t.supersedes not in keep and not t.supersedes_name:
        t = replace(t, supersedes_name=old.name, supersedes_reason=t.supersedes_reason or old.kill_reason)
    return t


def compact_text(text: str, committed: set[str]) -> tuple[str, PlanState, set[str]]:
    """The compacted file: foreign lines first (original order), then each kept ticket by id, its
    accept/reject/fail history before its one full ticket line. Pure, and a fixed point."""
    state = replay_text(text)
    keep = _kept_ids(state, committed)
    out = list(state.foreign)
    for ticket_id in sorted(keep):
        out.extend(state.history.get(ticket_id, ()))
        out.append(dump_line(encode_ticket(_denormalised(state.tickets[ticket_id], state, keep))))
    return "".join(out), state, keep


def _committed_resolutions(store: TicketStore) -> set[str]:
    head = store.git.show("HEAD", _relpath(store))
    if head is None:
        return set()
    return {i for i, t in replay_text(head).tickets.items() if t.status.resolved}


def _relpath(store: TicketStore) -> str:
    return store.plan_path.relative_to(store.root).as_posix()


def compact_store(store: TicketStore) -> dict[str, Any]:
    """Rewrite plan.jsonl (temp file + rename, under the lock); running it twice changes nothing."""
    with store.journal.locked():
        store.refresh()
        text = store.plan_path.read_text(encoding="utf-8") if store.plan_path.exists() else ""
        new_text, state, keep = compact_text(text, _committed_resolutions(store))
        if new_text != text:
            store.journal.rewrite(new_text)
        store.refresh()
    kept = [state.tickets[i] for i in keep]
    return {
        "compacted": True,
        "changed": new_text != text,
        "tasks": sum(t.type is TicketType.TASK and t.is_live for t in kept),
        "issues": sum(t.type is TicketType.ISSUE and t.status is TaskStatus.PENDING for t in kept),
        "notes": sum(t.type is TicketType.NOTE and t.status is TaskStatus.PENDING for t in kept),
        "dropped": len(state.tickets) - len(keep),
        "lines_before": text.count("\n"),
        "lines_after": new_text.count("\n"),
    }


def _revs(store: TicketStore, branch: str | None, all_branches: bool) -> list[str]:
    if all_branches:
        return ["--all"]
    if branch is None:
        return ["HEAD"]
    if branch.startswith("-") or not store.git.run(
        "rev-parse", "--verify", "-q", f"{branch}^{{commit}}", check=False
    ):
        raise StoreError(f"unknown branch: {branch}")
    return [branch]


def sync_store(store: TicketStore, branch: str | None = None, all_branches: bool = False) -> dict[str, Any]:
    """Replay every committed version of the plan (oldest first); tickets that history knows but the
    file no longer holds are kept in the cache, stamped with the commit time they disappeared."""
    relpath = _relpath(store)
    commits = store.git.history(relpath, _revs(store, branch, all_branches))
    known: dict[str, Ticket] = {}
    previous: set[str] = set()
    for (_, when), text in zip(commits, store.git.snapshots(relpath, [h for h, _ in commits]), strict=True):
        current = replay_text(text).tickets
        for gone in previous - current.keys():
            if not known[gone].compacted_at:
                known[gone] = replace(known[gone], compacted_at=float(when))
        known.update(current)
        previous = set(current)
    working_text = store.plan_path.read_text(encoding="utf-8") if store.plan_path.exists() else ""
    working = set(replay_text(working_text).tickets)
    history_only = [t for i, t in known.items() if i not in working]
    store.cache.set_history(history_only, store.journal)
    broken, stale = _count_refs(store, working)
    return {
        "synced": True,
        "commits": len(commits),
        "replayed": len(known),
        "history_tickets": len(history_only),
        "broken_refs": broken,
        "stale_refs": stale,
    }


def _count_refs(store: TicketStore, working: set[str]) -> tuple[int, int]:
    elsewhere = {t.id for t in store.cache.history()} | {s.id for s in store.tombstones()}
    broken = stale = 0
    for t in store.all_tickets():
        if t.id not in working:
            continue
        for ref in _refs(t):
            if ref not in working:
                stale += ref in elsewhere
                broken += ref not in elsewhere
    return broken, stale


def log_store(
    store: TicketStore,
    *,
    branch: str | None = None,
    all_branches: bool = False,
    since: str | None = None,
    limit: int = 20,
) -> list[dict[str, Any]]:
    """Commits that touched plan.jsonl, newest first: ``[{"hash","author","message","timestamp"}]``."""
    commits = store.git.log(_relpath(store), _revs(store, branch, all_branches), limit, since)
    return [
        {"hash": c.hash, "author": c.author, "message": c.message, "timestamp": c.timestamp} for c in commits
    ]
