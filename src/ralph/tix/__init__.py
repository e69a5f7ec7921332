"""tix, the ticket store: ``.tix/plan.jsonl`` (git-tracked, append-only) plus a rebuildable SQLite cache.

Modules:
    records      Ticket, Tombstone, Failure, TaskCounts, ValidationReport, the enums and the ID format
    lines        plan.jsonl line codec (C tix key order, C-era shapes, telemetry keys into meta)
    replay       last-write-wins replay of records into tickets, tombstones and failures
    journal      the file: exclusive lock, whole-line appends, torn-tail repair, atomic rewrite
    schema       cache schema as a list of named migrations
    cache        SQLite cache: fingerprint, incremental catch-up, full rebuild, queries
    rules        add/update field validation and the legal state transitions
    batch        batch adds with intra-batch deps
    store        TicketStore, the only mutation API
    views        counts, the ``query full`` shape, ticket JSON
    text         report, status and tree text
    validate     ``tix validate`` checks
    history      ``sync`` (replay git history), ``compact`` (converging rewrite), ``log``
    search       FTS5 search and keyword cloud
    tql          TQL parser; tql_compile: TQL -> SQL and execution
    gitinfo      the git facts tix reads (never commits)
    setup        ``tix init`` files
"""

from ralph.tix.records import (
    Failure,
    Priority,
    TaskCounts,
    TaskStatus,
    Ticket,
    TicketType,
    Tombstone,
    ValidationReport,
)
from ralph.tix.store import TicketStore

__all__ = [
    "Failure",
    "Priority",
    "TaskCounts",
    "TaskStatus",
    "Ticket",
    "TicketStore",
    "TicketType",
    "Tombstone",
    "ValidationReport",
]
