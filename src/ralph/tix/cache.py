"""SQLite cache of the replayed plan: rebuilt or caught up from plan.jsonl whenever it is stale.

Every change is one ``BEGIN IMMEDIATE`` transaction that re-checks the fingerprint, so concurrent
processes never apply the same lines twice. An append is caught up incrementally (only the new lines);
anything else (rewrite, compaction, checkout) is a full rebuild.

Stored text is always valid Unicode (the file's writer refuses lone surrogates, its reader turns escaped
ones into U+FFFD); a lookup with such text (an id from an argument that was not UTF-8) is bound the same
way, so it finds nothing instead of failing to encode.
"""

from __future__ import annotations

import contextlib
import json
import sqlite3
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any

import msgspec

from ralph.errors import StoreError
from ralph.tix.journal import Fingerprint, Journal
from ralph.tix.lines import decode_canonical, dump_line, encode_ticket
from ralph.tix.records import Failure, Ticket, Tombstone
from ralph.tix.replay import PlanState, parse_lines, record_ids, without_surrogates
from ralph.tix.schema import apply_migrations

__all__ = ["ORDER_BY", "Cache"]

ORDER_BY = "priority DESC, created_at ASC, seq ASC"
_FP_KEYS = ("plan_ino", "plan_size", "plan_mtime_ns", "plan_tail")
_PLACEHOLDERS = ",".join("?" * 32)


class _Connection(sqlite3.Connection):
    """A connection whose ``execute`` binds lone surrogates in text parameters as U+FFFD."""

    def execute(self, sql: str, parameters: Any = (), /) -> sqlite3.Cursor:
        return super().execute(sql, _bindable(parameters))


def _bindable(parameters: Any) -> Any:
    if isinstance(parameters, dict):
        return {k: _bindable_value(v) for k, v in parameters.items()}
    return [_bindable_value(v) for v in parameters]


def _bindable_value(value: Any) -> Any:
    return without_surrogates(value) if type(value) is str and not value.isascii() else value


class Cache:
    """The ``.tix/cache.db`` connection and the queries the store needs."""

    def __init__(self, path: Path) -> None:
        self.path = path
        try:
            self.db = self._connect()
        except sqlite3.DatabaseError:
            path.unlink(missing_ok=True)
            self.db = self._connect()

    def _connect(self) -> sqlite3.Connection:
        db = sqlite3.connect(
            self.path, timeout=60.0, isolation_level=None, check_same_thread=False, factory=_Connection
        )
        db.execute("PRAGMA journal_mode=WAL")
        db.execute("PRAGMA synchronous=NORMAL")
        apply_migrations(db)
        return db

    def close(self) -> None:
        self.db.close()

    @contextlib.contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """One write transaction, taken before any read so its view is current (inside ``ahead`` it is part
        of that one)."""
        if self.db.in_transaction:
            yield self.db
            return
        self.db.execute("BEGIN IMMEDIATE")
        try:
            yield self.db
        except BaseException:
            self.db.execute("ROLLBACK")
            raise
        self.db.execute("COMMIT")

    @contextlib.contextmanager
    def ahead(self) -> Iterator[None]:
        """One open write transaction in which ``apply_ahead`` applies lines that are not in plan.jsonl yet.
        ``commit_ahead`` commits it once they are; left without that (an error, a crash), it is rolled back
        and the cache is as it was, matching the file."""
        self.db.execute("BEGIN IMMEDIATE")
        try:
            yield
        finally:
            if self.db.in_transaction:
                self.db.execute("ROLLBACK")

    def apply_ahead(self, text: str) -> int:
        """Apply whole lines not yet in the file (inside ``ahead``); returns the new generation."""
        _, generation = self._state()
        generation += 1
        self._write_incremental(text, generation)
        self.db.execute("INSERT OR REPLACE INTO cache_meta VALUES ('generation', ?)", (str(generation),))
        return generation

    def commit_ahead(self, journal: Journal, text: str) -> bool:
        """After ``text`` (everything applied ahead) was appended to the file: store the file's fingerprint
        and commit. False, rolled back, when the file did not grow by exactly ``text``."""
        fp, generation = self._state()
        chunk = journal.read(fp.size, expect=fp) if fp is not None else None
        if chunk is None or chunk.torn or chunk.text != text:
            self.db.execute("ROLLBACK")
            return False
        self._store_fingerprint(chunk.fingerprint, generation)
        self.db.execute("COMMIT")
        return True

    # freshness -------------------------------------------------------------------------------------------

    def _state(self) -> tuple[Fingerprint | None, int]:
        rows = dict(self.db.execute("SELECT key, value FROM cache_meta"))
        generation = int(rows.get("generation", 0))
        if any(key not in rows for key in _FP_KEYS):
            return None, generation
        fp = Fingerprint(
            int(rows["plan_ino"]), int(rows["plan_size"]), int(rows["plan_mtime_ns"]), rows["plan_tail"]
        )
        return fp, generation

    def refresh(self, journal: Journal) -> tuple[int, bool]:
        """Catch up with the file. Returns (generation, torn): generation changes whenever tickets may
        have changed; torn means bytes follow the last newline (a crash or an append in flight)."""
        fp, generation = self._state()
        st = journal.stat()
        if fp is not None and _unchanged(fp, st):
            return generation, False
        with self.transaction():
            fp, generation = self._state()
            if fp is not None and _unchanged(fp, journal.stat()):
                return generation, False
            chunk = journal.read(fp.size, expect=fp) if fp is not None else None
            if chunk is None:
                chunk = journal.read(0)
                assert chunk is not None
                generation += 1
                self._write_full(PlanState().apply_all(parse_lines(chunk.text)), generation)
            elif chunk.text:
                generation += 1
                self._write_incremental(chunk.text, generation)
            self._store_fingerprint(chunk.fingerprint, generation)
            return generation, chunk.torn

    def ensure_search_index(self) -> None:
        """Rebuild the FTS5 index when tickets changed since it was built (search is rare; writes stay
        cheap)."""
        rows = dict(self.db.execute("SELECT key, value FROM cache_meta WHERE key LIKE '%generation'"))
        if rows.get("fts_generation") == rows.get("generation", "0"):
            return
        with self.transaction():
            self.db.execute("DELETE FROM tickets_fts")
            self.db.execute(
                "INSERT INTO tickets_fts (rowid, name, accept, notes)"
                " SELECT seq, name, accept, notes FROM tickets"
            )
            generation = rows.get("generation", "0")
            self.db.execute("INSERT OR REPLACE INTO cache_meta VALUES ('fts_generation', ?)", (generation,))

    def invalidate(self) -> None:
        """Forget the fingerprint so the next refresh rebuilds from scratch."""
        with self.transaction():
            self.db.execute("DELETE FROM cache_meta WHERE key LIKE 'plan_%'")

    def _store_fingerprint(self, fp: Fingerprint, generation: int) -> None:
        values = [
            *zip(_FP_KEYS, (fp.ino, fp.size, fp.mtime_ns, fp.tail), strict=True),
            ("generation", generation),
        ]
        self.db.executemany(
            "INSERT OR REPLACE INTO cache_meta VALUES (?, ?)", [(k, str(v)) for k, v in values]
        )

    # writes ------------------------------------------------------------------------------------------------

    def _write_full(self, state: PlanState, generation: int) -> None:
        for table in (
            "tickets",
            "ticket_deps",
            "ticket_labels",
            "ticket_meta",
            "tombstones",
            "failures",
            "tickets_fts",
        ):
            self.db.execute(f"DELETE FROM {table}")
        tickets = list(state.tickets.values())
        history = [t for t in self.history() if t.id not in state.tickets]
        everything = tickets + history
        self._insert_tickets([(t, seq) for seq, t in enumerate(everything, start=1)])
        self._insert_history(state.tombstones, state.failures)
        self._set_next_seq(generation, len(everything) + 1)

    def _write_incremental(self, text: str, generation: int) -> None:
        lines = parse_lines(text)
        ids = record_ids(lines)
        state = PlanState(tickets={t.id: t for t in self.get_many(ids)})
        state.apply_all(lines)
        seqs = dict(self._select_in("SELECT id, seq FROM tickets WHERE id IN ({})", sorted(state.touched)))
        new = [ticket_id for ticket_id in state.touched if ticket_id not in seqs]
        next_seq = self._stored_next_seq(generation - 1)
        if new and next_seq is None:
            next_seq = int(self.db.execute("SELECT coalesce(max(seq), 0) FROM tickets").fetchone()[0]) + 1
        if next_seq is not None:
            for ticket_id in new:
                seqs[ticket_id] = next_seq
                next_seq += 1
            self._set_next_seq(generation, next_seq)
        rows = [(state.tickets[ticket_id], seqs[ticket_id]) for ticket_id in state.touched]
        self._delete_children([t.id for t, _ in rows])
        self._insert_tickets(rows)
        self._insert_history(state.tombstones, state.failures)

    def _stored_next_seq(self, generation: int) -> int | None:
        """The ``seq`` the next new ticket gets, as stored by the write that made ``generation``; None
        when that write did not store it (an older tix wrote the cache): the caller scans the table."""
        row = self.db.execute("SELECT value FROM cache_meta WHERE key = 'next_seq'").fetchone()
        tag, _, value = (row[0] if row is not None else "").partition(":")
        return int(value) if tag == str(generation) and value else None

    def _set_next_seq(self, generation: int, next_seq: int) -> None:
        self.db.execute(
            "INSERT OR REPLACE INTO cache_meta VALUES ('next_seq', ?)", (f"{generation}:{next_seq}",)
        )

    def _delete_children(self, ids: Sequence[str]) -> None:
        for table in ("ticket_deps", "ticket_labels", "ticket_meta"):
            self.db.executemany(f"DELETE FROM {table} WHERE ticket_id = ?", [(i,) for i in ids])

    def _insert_tickets(self, rows: Sequence[tuple[Ticket, int]]) -> None:
        db = self.db
        insert = f"INSERT OR REPLACE INTO tickets VALUES ({','.join('?' * 32)})"
        try:
            db.executemany(insert, [_row(t, s) for t, s in rows])
        except OverflowError:
            db.executemany(insert, [tuple(map(_storable, _row(t, s))) for t, s in rows])
        db.executemany(
            "INSERT OR IGNORE INTO ticket_deps VALUES (?, ?, ?)",
            [(t.id, dep, pos) for t, _ in rows for pos, dep in enumerate(t.deps)],
        )
        db.executemany(
            "INSERT OR IGNORE INTO ticket_labels VALUES (?, ?)",
            [(t.id, lb) for t, _ in rows for lb in t.labels],
        )
        db.executemany(
            "INSERT INTO ticket_meta VALUES (?, ?, ?, ?)",
            [
                (
                    t.id,
                    key,
                    value if isinstance(value, str) else None,
                    None if isinstance(value, str) else _storable(value),
                )
                for t, _ in rows
                for key, value in t.meta.items()
            ],
        )

    def _insert_history(self, stones: Iterable[Tombstone], failures: Iterable[Failure]) -> None:
        self.db.executemany(
            "INSERT INTO tombstones (id, done_at, reason, name, is_accept, timestamp, commit_hash)"
            " VALUES (?, ?, ?, ?, ?, ?, ?)",
            [
                (s.id, _storable(s.done_at), s.reason, s.name, int(s.is_accept), _storable(s.time), s.commit)
                for s in stones
            ],
        )
        self.db.executemany(
            "INSERT INTO failures (id, reason, kill_reason, timestamp) VALUES (?, ?, ?, ?)",
            [(f.id, f.reason, f.kill_reason, _storable(f.time)) for f in failures],
        )

    def set_history(self, tickets: Iterable[Ticket], journal: Journal) -> None:
        """Replace the tickets known only from git history (``sync``) and rebuild around them."""
        with self.transaction():
            self.db.execute("DELETE FROM history_tickets")
            self.db.executemany(
                "INSERT INTO history_tickets VALUES (?, ?)",
                [(t.id, dump_line(encode_ticket(t))) for t in tickets],
            )
            self.db.execute("DELETE FROM cache_meta WHERE key LIKE 'plan_%'")
        self.refresh(journal)

    # reads -------------------------------------------------------------------------------------------------

    def _select_in(self, sql: str, values: Sequence[Any]) -> list[tuple[Any, ...]]:
        out: list[tuple[Any, ...]] = []
        for start in range(0, len(values), 32):
            part = values[start : start + 32]
            out.extend(self.db.execute(sql.format(_PLACEHOLDERS[: 2 * len(part) - 1]), part))
        return out

    def get(self, ticket_id: str) -> Ticket | None:
        row = self.db.execute("SELECT data FROM tickets WHERE id = ?", (ticket_id,)).fetchone()
        return _ticket(row[0]) if row else None

    def get_many(self, ids: Iterable[str]) -> list[Ticket]:
        return [
            _ticket(row[0])
            for row in self._select_in("SELECT data FROM tickets WHERE id IN ({})", sorted(ids))
        ]

    def get_many_seq(self, ids: Iterable[str]) -> list[tuple[int, Ticket]]:
        """(seq, ticket) of each id that exists, in no particular order."""
        return [
            (row[0], _ticket(row[1]))
            for row in self._select_in("SELECT seq, data FROM tickets WHERE id IN ({})", sorted(ids))
        ]

    def tickets_seq(self) -> list[tuple[int, Ticket]]:
        """(seq, ticket) of every ticket in the default order."""
        return [
            (r[0], _ticket(r[1]))
            for r in self.db.execute(f"SELECT seq, data FROM tickets ORDER BY {ORDER_BY}")
        ]

    def tickets(self, where: str = "", params: Sequence[Any] = ()) -> list[Ticket]:
        """Tickets in the default order (priority desc, created asc, first seen)."""
        clause = f" WHERE {where}" if where else ""
        return [
            _ticket(r[0])
            for r in self.db.execute(f"SELECT data FROM tickets{clause} ORDER BY {ORDER_BY}", params)
        ]

    def dependents(self, ticket_id: str) -> list[str]:
        return [
            r[0] for r in self.db.execute("SELECT ticket_id FROM ticket_deps WHERE dep_id = ?", (ticket_id,))
        ]

    def tombstones(self, ticket_id: str | None = None) -> list[Tombstone]:
        where, params = (" WHERE id = ?", (ticket_id,)) if ticket_id is not None else ("", ())
        rows = self.db.execute(
            "SELECT id, is_accept, name, done_at, reason, commit_hash, timestamp FROM tombstones"
            f"{where} ORDER BY timestamp, seq",
            params,
        )
        return [
            Tombstone(r[0], bool(r[1]), r[2] or "", r[3] or "", r[4] or "", r[5] or "", r[6] or 0.0)
            for r in rows
        ]

    def failures(self) -> list[Failure]:
        rows = self.db.execute(
            "SELECT id, reason, kill_reason, timestamp FROM failures ORDER BY timestamp, seq"
        )
        return [Failure(r[0], r[1] or "", r[2] or "", r[3] or 0.0) for r in rows]

    def history(self) -> list[Ticket]:
        return [_ticket(r[0]) for r in self.db.execute("SELECT data FROM history_tickets ORDER BY id")]

    def read_only_query(
        self, sql: str, params: Sequence[Any] = ()
    ) -> tuple[list[str], list[tuple[Any, ...]]]:
        """Run ``sql`` on a separate read-only connection; returns column names and rows."""
        db = sqlite3.connect(f"file:{self.path}?mode=ro", uri=True, timeout=60.0, factory=_Connection)
        try:
            db.execute("PRAGMA query_only=ON")
            cursor = db.execute(sql, params)
            names = [d[0] for d in cursor.description or ()]
            return names, cursor.fetchall()
        except sqlite3.Error as err:
            raise StoreError(f"SQL failed: {err}") from err
        finally:
            db.close()


def _unchanged(fp: Fingerprint, st: Any) -> bool:
    if st is None:
        return fp.ino == 0 and fp.size == 0
    return bool(st.st_ino == fp.ino and st.st_size == fp.size and st.st_mtime_ns == fp.mtime_ns)


_JSON = msgspec.json.Decoder()


def _ticket(data: str) -> Ticket:
    try:
        rec = _JSON.decode(data)
    except Exception:
        rec = json.loads(data)
    return decode_canonical(rec)


_INT64 = range(-(2**63), 2**63)


def _storable(value: Any) -> Any:
    """``value`` as SQLite can hold it: an int beyond 64 bits becomes a REAL (or TEXT past a double's
    range). The exact value lives on in the row's JSON; the columns only serve queries, and a plan line with
    such a number must never make the cache (and so every command) fail."""
    if type(value) is int and value not in _INT64:
        try:
            return float(value)
        except OverflowError:
            return str(value)
    return value


def _row(t: Ticket, seq: int) -> tuple[Any, ...]:
    return (
        t.id, t.type.code, t.status.code, int(t.priority), t.name, t.spec, t.notes, t.accept, t.done_at,
        t.branch, t.parent, t.created_from, t.supersedes, t.kill_reason, t.created_from_name,
        t.supersedes_name, t.supersedes_reason, t.created_at, t.updated_at, None, t.author, t.assigned,
        t.completed_at, t.resolved_at, t.compacted_at, t.check, t.decompose_depth, t.kill_count, t.retries,
        t.reject_reason, seq, dump_line(encode_ticket(t)),
    )  # fmt: skip
