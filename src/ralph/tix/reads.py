"""The read side of TicketStore: freshness (catch-up and torn-tail repair), the in-process memo, and
every query. Reads never spawn processes and never rebuild the cache when it is current."""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from ralph.errors import StoreError
from ralph.tix.cache import Cache
from ralph.tix.gitinfo import GitRepo
from ralph.tix.journal import Journal
from ralph.tix.records import Failure, TaskCounts, TaskStatus, Ticket, TicketType, Tombstone, ValidationReport

__all__ = ["StatusFilter", "StoreReader"]

StatusFilter = TaskStatus | Iterable[TaskStatus] | None
_LIVE = frozenset({TaskStatus.PENDING, TaskStatus.DONE})


class Memo:
    """Every ticket of one cache generation, by id and in the default order (priority desc, created asc,
    first seen). The store's own mutations patch it (a bisect per changed ticket) instead of reloading
    or re-sorting every ticket."""

    def __init__(self, generation: int, rows: Sequence[tuple[int, Ticket]]) -> None:
        """``rows``: (seq, ticket) in the default order."""
        self.generation = generation
        self.tickets = {t.id: t for _, t in rows}
        self.seqs = {t.id: seq for seq, t in rows}
        self.ids = list(self.tickets)
        self.keys = [(-t.priority, t.created_at, seq) for seq, t in rows]
        self._ordered: dict[str, Ticket] | None = self.tickets

    def ordered(self) -> dict[str, Ticket]:
        """Every ticket in the default order (rebuilt after a patch moved or added one)."""
        if self._ordered is None:
            tickets = self.tickets
            self._ordered = {i: tickets[i] for i in self.ids}
        return self._ordered

    def patch(self, rows: Iterable[tuple[int, Ticket]]) -> None:
        """Put these (seq, ticket) rows in: a ticket whose sort key is unchanged keeps its place."""
        for seq, ticket in rows:
            key = (-ticket.priority, ticket.created_at, seq)
            old = self.tickets.get(ticket.id)
            if old is not None:
                old_key = (-old.priority, old.created_at, self.seqs[ticket.id])
                if old_key == key:
                    self.tickets[ticket.id] = ticket
                    if self._ordered is not None:
                        self._ordered[ticket.id] = ticket
                    continue
                index = bisect_left(self.keys, old_key)
                del self.keys[index], self.ids[index]
            index = bisect_right(self.keys, key)
            self.keys.insert(index, key)
            self.ids.insert(index, ticket.id)
            self.tickets[ticket.id] = ticket
            self.seqs[ticket.id] = seq
            self._ordered = None


class StoreReader:
    """Open files and cached reads of one repository's store (TicketStore adds the mutations)."""

    def __init__(self, root: Path, *, branch_scope: bool = True) -> None:
        self.root = root
        self.tix_dir = root / ".tix"
        self.plan_path = self.tix_dir / "plan.jsonl"
        self.branch_scope = branch_scope
        self.git = GitRepo(root)
        self.journal = Journal(self.plan_path, self.tix_dir / "lock")
        self.cache = Cache(self.tix_dir / "cache.db")
        self.repairs: list[str] = []
        self.init_report: list[str] = []
        self._memo: Memo | None = None

    def close(self) -> None:
        self.cache.close()

    def __enter__(self) -> StoreReader:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # freshness and reads -----------------------------------------------------------------------------------

    def _fresh(self) -> int:
        """Catch the cache up with the file, repairing a torn last line under the lock."""
        generation, torn = self.cache.refresh(self.journal)
        if torn:
            report = self.journal.repair_tail()
            if report:
                self.repairs.append(report)
            generation, _ = self.cache.refresh(self.journal)
        return generation

    def refresh(self) -> None:
        """Bring the cache up to date with plan.jsonl now (reads do this on their own)."""
        self._fresh()

    @property
    def generation(self) -> int:
        """A number that changes whenever tickets may have changed (after catching the cache up): readers
        that derive something from the tickets reuse it while this stays the same."""
        return self._fresh()

    def _all(self) -> dict[str, Ticket]:
        """Every ticket in the default order, memoised until the cache generation changes."""
        generation = self._fresh()
        if self._memo is None or generation != self._memo.generation:
            self._memo = Memo(generation, self.cache.tickets_seq())
        return self._memo.ordered()

    def find(self, ticket_id: str) -> Ticket | None:
        """One ticket: from the memo when it is current, else one cache row (no full reload)."""
        generation = self._fresh()
        if self._memo is not None and generation == self._memo.generation:
            return self._memo.tickets.get(ticket_id)
        return self.cache.get(ticket_id)

    def get(self, ticket_id: str) -> Ticket:
        ticket = self.find(ticket_id)
        if ticket is None:
            raise StoreError(f"unknown id: {ticket_id}")
        return ticket

    def all_tickets(self) -> list[Ticket]:
        """Every ticket of every type and status, in the default order."""
        return list(self._all().values())

    def tasks(self, status: StatusFilter = None, spec: str | None = None) -> list[Ticket]:
        """Tasks with ``status`` (None = pending + done), optionally of one spec, in the default order."""
        wanted = _statuses(status)
        return [
            t
            for t in self._all().values()
            if t.type is TicketType.TASK and t.status in wanted and (spec is None or t.spec == spec)
        ]

    def issues(self, spec: str | None = None, open_only: bool = True) -> list[Ticket]:
        return [
            t
            for t in self._all().values()
            if t.type is TicketType.ISSUE
            and (not open_only or t.status is TaskStatus.PENDING)
            and (spec is None or t.spec == spec)
        ]

    def notes(self, open_only: bool = True) -> list[Ticket]:
        return [
            t
            for t in self._all().values()
            if t.type is TicketType.NOTE and (not open_only or t.status is TaskStatus.PENDING)
        ]

    def tombstones(self, ticket_id: str | None = None) -> list[Tombstone]:
        """Accept/reject history, time-ordered; only ``ticket_id``'s when given (an index lookup)."""
        self._fresh()
        return self.cache.tombstones(ticket_id)

    def failures(self) -> list[Failure]:
        self._fresh()
        return self.cache.failures()

    def dependents(self, ticket_id: str) -> list[Ticket]:
        """Tickets whose deps name ``ticket_id``."""
        return [t for t in self._all().values() if ticket_id in t.deps]

    def counts(self, spec: str | None = None) -> TaskCounts:
        from ralph.tix.views import count_tasks

        return count_tasks(self.tasks(status=list(TaskStatus), spec=spec))

    def full(self) -> dict[str, Any]:
        """The ``tix query full`` shape: tasks by status, issues, notes, tombstones, commit and branch."""
        from ralph.tix.views import full_view

        return full_view(self)

    def query(self, tql: str) -> list[dict[str, Any]]:
        """Run a TQL pipeline; rows as dicts (enums as ints, as in the C tix)."""
        from ralph.tix.tql_compile import run_tql

        self._fresh()
        return run_tql(self.cache, tql)

    def sql_for(self, tql: str) -> str:
        from ralph.tix.tql_compile import compile_tql

        return compile_tql(tql).display()

    def sql(self, text: str) -> list[dict[str, Any]]:
        """Raw read-only SQL over the cache tables (``q sql``); only SELECT or WITH."""
        if not text.lstrip().lower().startswith(("select", "with")):
            raise StoreError("raw SQL must start with SELECT or WITH")
        self._fresh()
        names, rows = self.cache.read_only_query(text)
        return [dict(zip(names, row, strict=True)) for row in rows]

    def validate(self) -> ValidationReport:
        from ralph.tix.validate import validate_store

        return validate_store(self)


def _statuses(status: StatusFilter) -> frozenset[TaskStatus]:
    if status is None:
        return _LIVE
    if isinstance(status, TaskStatus):
        return frozenset({status})
    return frozenset(status)
