"""``tix validate``: broken and stale references, dependency cycles, tombstone consistency, duplicate ids.

Broken = the target exists nowhere; stale = it is known only from a tombstone or from git history (sync).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

from ralph.tix.records import TaskStatus, Ticket, TicketType, ValidationReport, is_ticket_id
from ralph.tix.replay import replay_text

if TYPE_CHECKING:
    from ralph.tix.reads import StoreReader

__all__ = ["find_cycles", "validate_store"]


class _Findings:
    def __init__(self) -> None:
        self.errors: list[str] = []
        self.warnings: list[str] = []

    def report(self) -> ValidationReport:
        return ValidationReport(tuple(self.errors), tuple(self.warnings))


def validate_store(store: StoreReader) -> ValidationReport:
    """Check every ticket that is not deleted, the tombstones, and the raw file for duplicate ids."""
    tickets = {t.id: t for t in store.all_tickets()}
    history = {t.id for t in store.cache.history()}
    stones = store.tombstones()
    known_elsewhere = history | {s.id for s in stones}
    out = _Findings()
    for t in tickets.values():
        if t.status is not TaskStatus.DELETED:
            _check_ticket(t, tickets, known_elsewhere, out)
    for cycle in find_cycles(tickets):
        out.errors.append(f"dependency cycle: {' -> '.join(cycle)}")
    _check_tombstones(store, tickets, out)
    _check_raw_file(store, out)
    return out.report()


def _check_ticket(t: Ticket, tickets: Mapping[str, Ticket], elsewhere: set[str], out: _Findings) -> None:
    if not is_ticket_id(t.id):
        out.errors.append(f"{t.id}: malformed id")
    if t.status is TaskStatus.DONE and not t.done_at:
        out.errors.append(f"{t.id}: status done but done_at is empty")
    if not t.name.strip():
        out.warnings.append(f"{t.id}: no name")
    if t.type is TicketType.TASK and not t.accept.strip():
        out.warnings.append(f"{t.id}: task has no accept criteria")
    for dep in t.deps:
        target = tickets.get(dep)
        if target is None:
            _missing(t.id, "dep", dep, dep in elsewhere, error=True, out=out)
        elif target.type is not TicketType.TASK:
            out.errors.append(f"{t.id}: dep {dep} is a {target.type.value}, not a task")
    for key in ("parent", "created_from", "supersedes"):
        ref = getattr(t, key)
        if ref and ref not in tickets:
            _missing(t.id, key, ref, ref in elsewhere, error=key == "parent", out=out)


def _missing(owner: str, key: str, ref: str, stale: bool, *, error: bool, out: _Findings) -> None:
    if stale:
        out.warnings.append(f"{owner}: {key} {ref} is stale (known only from history)")
    elif error:
        out.errors.append(f"{owner}: {key} {ref} is broken (no such ticket)")
    else:
        out.warnings.append(f"{owner}: {key} {ref} is broken (no such ticket)")


def find_cycles(tickets: Mapping[str, Ticket]) -> list[list[str]]:
    """Each dependency cycle once, as the path that closes it (iterative DFS, no depth limit)."""
    colour: dict[str, int] = {}
    cycles: list[list[str]] = []
    for root in tickets:
        if root in colour:
            continue
        stack: list[tuple[str, int]] = [(root, 0)]
        path: list[str] = []
        while stack:
            node, index = stack.pop()
            if index == 0:
                colour[node] = 1
                path.append(node)
            deps = [d for d in tickets[node].deps if d in tickets]
            if index < len(deps):
                stack.append((node, index + 1))
                nxt = deps[index]
                if colour.get(nxt) == 1:
                    cycles.append(_rotated(path[path.index(nxt) :]))
                elif nxt not in colour:
                    stack.append((nxt, 0))
            else:
                colour[node] = 2
                path.pop()
    return cycles


def _rotated(loop: list[str]) -> list[str]:
    """The cycle starting (and ending) at its smallest id, so the report does not depend on walk order."""
    start = loop.index(min(loop))
    ordered = loop[start:] + loop[:start]
    return [*ordered, ordered[0]]


def _check_tombstones(store: StoreReader, tickets: Mapping[str, Ticket], out: _Findings) -> None:
    last: dict[str, bool] = {}
    for stone in store.tombstones():
        last[stone.id] = stone.is_accept
        target = tickets.get(stone.id)
        if target is not None and target.type is not TicketType.TASK:
            out.errors.append(f"{stone.id}: {stone.kind} record on a {target.type.value}")
    for t in tickets.values():
        if t.status is TaskStatus.ACCEPTED and not last.get(t.id, False):
            out.errors.append(f"{t.id}: accepted without an accept record")
        if last.get(t.id) and t.status in (TaskStatus.PENDING, TaskStatus.DONE):
            out.warnings.append(f"{t.id}: reopened after it was accepted")


def _check_raw_file(store: StoreReader, out: _Findings) -> None:
    try:
        text = store.plan_path.read_text(encoding="utf-8", errors="replace")
    except FileNotFoundError:
        return
    state = replay_text(text)
    for ticket_id in sorted(state.duplicates):
        out.errors.append(f"{ticket_id}: duplicate id (two different tickets were created with it)")
    if not text.endswith("\n") and text:
        out.warnings.append("plan.jsonl does not end with a newline (torn last line)")
