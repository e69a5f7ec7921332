"""The SQLite cache schema as an ordered list of named migrations (a past step is never edited).

The cache is derived data: applying any migration resets the fingerprint, so the next read rebuilds it
from plan.jsonl. ``tickets`` keeps the C tix column order (its ``SELECT *`` order is the TQL row shape);
new columns follow, then ``seq`` (first-seen order) and ``data`` (the canonical JSONL record).
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Callable

__all__ = ["MIGRATIONS", "ROW_COLUMNS", "TEXT_COLUMNS", "apply_migrations"]

ROW_COLUMNS = (
    "id",
    "type",
    "status",
    "priority",
    "name",
    "spec",
    "notes",
    "accept",
    "done_at",
    "branch",
    "parent",
    "created_from",
    "supersedes",
    "kill_reason",
    "created_from_name",
    "supersedes_name",
    "supersedes_reason",
    "created_at",
    "updated_at",
    "commit_hash",
    "author",
    "assigned",
    "completed_at",
    "resolved_at",
    "compacted_at",
    "check",
    "decompose_depth",
    "kill_count",
    "retries",
    "reject_reason",
)
"""Columns of a TQL row, in order: the 25 of the C tix, then the new first-class fields."""

TEXT_COLUMNS = frozenset(
    c
    for c in ROW_COLUMNS
    if c
    not in {
        "type",
        "status",
        "priority",
        "created_at",
        "updated_at",
        "resolved_at",
        "compacted_at",
        "decompose_depth",
        "kill_count",
        "retries",
    }
)


def m001_initial(db: sqlite3.Connection) -> None:
    """Tickets, deps, labels, meta, tombstones, failures, history tickets and the fingerprint store."""
    columns = ",\n".join(f'"{c}" {_column_type(c)}' for c in ROW_COLUMNS)
    db.execute(f"CREATE TABLE tickets ({columns}, seq INTEGER NOT NULL, data TEXT NOT NULL)")
    db.execute("CREATE INDEX tickets_order ON tickets(type, status, priority DESC, created_at, seq)")
    db.execute(
        "CREATE TABLE ticket_deps (ticket_id TEXT NOT NULL, dep_id TEXT NOT NULL, pos INTEGER NOT NULL,"
        " PRIMARY KEY (ticket_id, dep_id))"
    )
    db.execute("CREATE INDEX ticket_deps_dep ON ticket_deps(dep_id)")
    db.execute(
        "CREATE TABLE ticket_labels (ticket_id TEXT NOT NULL, label TEXT NOT NULL,"
        " PRIMARY KEY (ticket_id, label))"
    )
    db.execute("CREATE INDEX ticket_labels_label ON ticket_labels(label)")
    db.execute(
        "CREATE TABLE ticket_meta (ticket_id TEXT NOT NULL, key TEXT NOT NULL, value_text TEXT,"
        " value_num REAL, PRIMARY KEY (ticket_id, key))"
    )
    db.execute("CREATE INDEX ticket_meta_key ON ticket_meta(key)")
    db.execute(
        "CREATE TABLE tombstones (seq INTEGER PRIMARY KEY, id TEXT NOT NULL, done_at TEXT, reason TEXT,"
        " name TEXT, is_accept INTEGER NOT NULL, timestamp REAL, commit_hash TEXT)"
    )
    db.execute("CREATE INDEX tombstones_id ON tombstones(id)")
    db.execute(
        "CREATE TABLE failures (seq INTEGER PRIMARY KEY, id TEXT NOT NULL, reason TEXT, kill_reason TEXT,"
        " timestamp REAL)"
    )
    db.execute("CREATE TABLE history_tickets (id TEXT PRIMARY KEY, data TEXT NOT NULL)")
    db.execute("CREATE TABLE cache_meta (key TEXT PRIMARY KEY, value TEXT)")


def m002_search(db: sqlite3.Connection) -> None:
    """FTS5 index over name, accept and notes; rowid = tickets.seq."""
    db.execute("CREATE VIRTUAL TABLE tickets_fts USING fts5(name, accept, notes, tokenize='unicode61')")
    db.execute("CREATE VIRTUAL TABLE tickets_fts_vocab USING fts5vocab(tickets_fts, 'col')")


def m003_meta_numeric(db: sqlite3.Connection) -> None:
    """``value_num`` with NUMERIC affinity, so integral numbers come back as ints (tokens: 100, not 100.0)."""
    db.execute("DROP TABLE ticket_meta")
    db.execute(
        "CREATE TABLE ticket_meta (ticket_id TEXT NOT NULL, key TEXT NOT NULL, value_text TEXT,"
        " value_num NUMERIC, PRIMARY KEY (ticket_id, key))"
    )
    db.execute("CREATE INDEX ticket_meta_key ON ticket_meta(key)")


def m004_lean_indexes(db: sqlite3.Connection) -> None:
    """Drop secondary indexes that queries do not need (faster rebuilds; primary keys cover the joins)."""
    for index in ("tickets_order", "ticket_meta_key", "ticket_labels_label"):
        db.execute(f"DROP INDEX IF EXISTS {index}")


def _column_type(column: str) -> str:
    if column == "id":
        return "TEXT PRIMARY KEY"
    if column == "commit_hash":
        return "TEXT"
    if column in TEXT_COLUMNS:
        return "TEXT NOT NULL DEFAULT ''"
    if column in {"created_at", "updated_at", "resolved_at", "compacted_at"}:
        return "REAL NOT NULL DEFAULT 0"
    return "INTEGER NOT NULL DEFAULT 0"


MIGRATIONS: list[tuple[str, Callable[[sqlite3.Connection], None]]] = [
    ("001_initial", m001_initial),
    ("002_search", m002_search),
    ("003_meta_numeric", m003_meta_numeric),
    ("004_lean_indexes", m004_lean_indexes),
]


def apply_migrations(db: sqlite3.Connection) -> bool:
    """Apply the missing steps in one transaction; True when any ran (the caller must then rebuild)."""
    if not [name for name, _ in MIGRATIONS if name not in _applied(db)]:
        return False
    db.execute("BEGIN IMMEDIATE")
    try:
        db.execute("CREATE TABLE IF NOT EXISTS migrations (id TEXT PRIMARY KEY, applied_at REAL NOT NULL)")
        done = _applied(db)
        for name, step in MIGRATIONS:
            if name not in done:
                step(db)
                db.execute("INSERT INTO migrations VALUES (?, ?)", (name, time.time()))
        db.execute("DELETE FROM cache_meta WHERE key LIKE 'plan_%'")
        db.execute("COMMIT")
    except BaseException:
        db.execute("ROLLBACK")
        raise
    return True


def _applied(db: sqlite3.Connection) -> set[str]:
    try:
        return {row[0] for row in db.execute("SELECT id FROM migrations")}
    except sqlite3.OperationalError:
        return set()
