"""TQL: queries with known answers over a fixed plan file (ids, times and meta chosen by hand)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from ralph.errors import StoreError
from ralph.tix import TicketStore

T1, T2, T3, T4, T5, T6 = (f"t-0000000{i}" for i in range(1, 7))
I1, I2, N1 = "i-00000001", "i-00000002", "n-00000001"

LINES: list[dict[str, Any]] = [
    {"t": "task", "id": T1, "name": "Parse config", "s": "p", "spec": "a.md", "priority": "high",
     "labels": ["module:config", "epic:core"], "author": "alice", "created_at": 100,
     "meta": {"cost": 1.5, "tokens_in": 100, "tokens_out": 50, "iterations": 2, "model": "m1"}},
    {"t": "task", "id": T2, "name": "Write docs", "s": "p", "spec": "a.md", "priority": "low", "deps": [T1],
     "labels": ["module:docs"], "author": "bob", "created_at": 200,
     "meta": {"cost": 0.5, "model": "m2", "iterations": 1}},
    {"t": "task", "id": T3, "name": "Refactor loop", "s": "d", "spec": "b.md", "done_at": "abc1234",
     "priority": "medium", "labels": ["module:loop", "epic:core"], "author": "alice", "created_at": 300,
     "meta": {"cost": 2.5, "tokens_in": 300, "tokens_out": 100, "iterations": 4, "model": "m1", "retries": 1,
              "kill_count": 1}},
    {"t": "task", "id": T4, "name": "Add cache", "s": "d", "spec": "b.md", "done_at": "bcd2345",
     "priority": "high", "labels": ["module:cache"], "author": "carol", "created_at": 400,
     "meta": {"cost": 3.0, "model": "m2", "tokens_in": 500, "tokens_out": 200, "iterations": 5}},
    {"t": "accept", "id": T4, "done_at": "bcd2345", "name": "Add cache", "time": 450},
    {"t": "task", "id": T5, "name": "Old idea", "s": "p", "spec": "a.md", "author": "bob", "created_at": 500},
    {"t": "delete", "id": T5, "time": 550},
    {"t": "task", "id": T6, "name": "Blocked thing", "s": "p", "labels": ["blocked"], "deps": [T2],
     "author": "alice", "assigned": "ralph", "created_at": 600},
    {"t": "issue", "id": I1, "name": "Crash on start", "s": "p", "spec": "a.md", "author": "alice",
     "created_at": 700},
    {"t": "issue", "id": I2, "name": "Old issue", "s": "x", "created_at": 800},
    {"t": "note", "id": N1, "name": "Remember", "s": "p", "created_at": 900},
]  # fmt: skip


@pytest.fixture
def tql_store(git_repo: Path) -> TicketStore:
    store = TicketStore.init(git_repo)
    text = "".join(json.dumps(line) + "\n" for line in LINES)
    store.plan_path.write_text(text, encoding="utf-8")
    return store


def ids(store: TicketStore, tql: str) -> list[str]:
    return [row["id"] for row in store.query(tql)]


ID_CASES = [
    ("tasks", [T1, T3, T2, T6]),
    ("tasks | status=pending", [T1, T2, T6]),
    ("tasks | status=done", [T3]),
    ("tasks all", [T1, T4, T3, T2, T5, T6]),
    ("issues", [I1]),
    ("issues all", [I1, I2]),
    ("notes", [N1]),
    ("tickets", [T1, T3, T2, T6, I1, N1]),
    ("tasks | !label=blocked", [T1, T3, T2]),
    ("tasks | spec=", [T6]),
    ("tasks | label~module:*", [T1, T3, T2]),
    ("tasks all | priority=high author=alice | sort created_at desc | limit 5", [T1]),
    ("tasks all | sort created_at asc | limit 2 | offset 1", [T2, T3]),
    ("tasks | meta.cost!=", [T1, T3, T2]),
    ("tasks | meta.cost=", [T6]),
    ("tasks | name~*LOOP*", [T3]),
    ("tasks | !name~*loop*", [T1, T2, T6]),
    ("tasks | priority>=medium", [T1, T3]),
    ("tasks | priority!=high,medium", [T2, T6]),
    ("tasks | assigned=ralph", [T6]),
    ("tasks | limit 1", [T1]),
    ("tasks all | status=deleted", [T5]),
    ('tasks | name="Write docs"', [T2]),
    ("tasks | meta.model=m1 | sort meta.cost desc", [T3, T1]),
    ("tasks all | created_at>250 created_at<=600 | sort created_at", [T3, T4, T5, T6]),
    ("tasks | offset 3", [T6]),
    (f"tasks | deps={T1}", [T2]),
    ("tasks | deps=", [T1, T3]),
]


@pytest.mark.parametrize(("tql", "expected"), ID_CASES, ids=[c[0] for c in ID_CASES])
def test_row_queries(tql_store: TicketStore, tql: str, expected: list[str]) -> None:
    assert ids(tql_store, tql) == expected


def test_row_shape_keeps_c_columns_and_ints(tql_store: TicketStore) -> None:
    row = tql_store.query("tasks | limit 1")[0]
    assert list(row)[:25] == [
        "id", "type", "status", "priority", "name", "spec", "notes", "accept", "done_at", "branch", "parent",
        "created_from", "supersedes", "kill_reason", "created_from_name", "supersedes_name",
        "supersedes_reason", "created_at", "updated_at", "commit_hash", "author", "assigned", "completed_at",
        "resolved_at", "compacted_at",
    ]  # fmt: skip
    assert (row["type"], row["status"], row["priority"], row["spec"]) == (0, 0, 3, "a.md")


def test_select_type_and_json_columns(tql_store: TicketStore) -> None:
    assert tql_store.query("tickets all | type=issue,note | select id,type") == [
        {"id": I1, "type": 1},
        {"id": I2, "type": 1},
        {"id": N1, "type": 2},
    ]
    assert tql_store.query("tasks | deps!= | select id,deps") == [
        {"id": T2, "deps": [T1]},
        {"id": T6, "deps": [T2]},
    ]
    assert tql_store.query("tasks | label=module:config,module:docs | select id,labels") == [
        {"id": T1, "labels": ["epic:core", "module:config"]},
        {"id": T2, "labels": ["module:docs"]},
    ]
    assert tql_store.query("tasks | meta.cost>1.0 | select id,meta.cost") == [
        {"id": T1, "meta.cost": 1.5},
        {"id": T3, "meta.cost": 2.5},
    ]
    assert tql_store.query("tasks all | status=accepted | select id,resolved_at") == [
        {"id": T4, "resolved_at": 450}
    ]


def test_distinct_group_having(tql_store: TicketStore) -> None:
    assert tql_store.query("tasks all | distinct | select author | sort author") == [
        {"author": "alice"},
        {"author": "bob"},
        {"author": "carol"},
    ]
    assert tql_store.query("tasks all | group status | count | sort count desc, status asc") == [
        {"status": 0, "count": 3},
        {"status": 1, "count": 1},
        {"status": 2, "count": 1},
        {"status": 4, "count": 1},
    ]
    assert tql_store.query("tasks all | group author | count | having count>=2") == [
        {"author": "alice", "count": 3},
        {"author": "bob", "count": 2},
    ]
    assert tql_store.query("tasks all | group spec | count_distinct author") == [
        {"spec": "", "count_distinct_author": 1},
        {"spec": "a.md", "count_distinct_author": 2},
        {"spec": "b.md", "count_distinct_author": 2},
    ]
    assert tql_store.query("tasks | group assigned | count") == [
        {"assigned": "", "count": 3},
        {"assigned": "ralph", "count": 1},
    ]


def test_plain_aggregates(tql_store: TicketStore) -> None:
    assert tql_store.query("tasks | sum meta.tokens_in | min meta.cost | max meta.cost") == [
        {"sum_meta.tokens_in": 400, "min_meta.cost": 0.5, "max_meta.cost": 2.5}
    ]


def test_velocity_report(tql_store: TicketStore) -> None:
    from ralph.tix.text import REPORTS

    assert tql_store.query(REPORTS["velocity"]) == [
        {
            "count": 2,
            "sum_meta.cost": 5.5,
            "avg_meta.cost": 2.75,
            "sum_meta.tokens_in": 800,
            "sum_meta.tokens_out": 300,
            "avg_meta.iterations": 4.5,
            "sum_meta.retries": 1,
            "sum_meta.kill_count": 1,
        }
    ]
    assert "LEFT JOIN ticket_meta m5" in tql_store.sql_for(REPORTS["velocity"])


def test_models_report(tql_store: TicketStore) -> None:
    from ralph.tix.text import REPORTS

    rows = tql_store.query(REPORTS["models"])
    assert [(r["meta.model"], r["count"], r["sum_meta.cost"]) for r in rows] == [
        ("m1", 2, 4.0),
        ("m2", 2, 3.5),
    ]
    assert (
        rows[0]["sum_meta.tokens_in"],
        rows[0]["sum_meta.tokens_out"],
        rows[0]["avg_meta.iterations"],
    ) == (
        400,
        150,
        3,
    )


def test_labels_report(tql_store: TicketStore) -> None:
    rows = tql_store.query("tasks all | group label | count | sum meta.cost | sort count desc, label asc")
    assert [(r["label"], r["count"]) for r in rows] == [
        ("epic:core", 2),
        (None, 1),
        ("blocked", 1),
        ("module:cache", 1),
        ("module:config", 1),
        ("module:docs", 1),
        ("module:loop", 1),
    ]
    assert rows[0]["sum_meta.cost"] == 4.0


def test_actors_report(tql_store: TicketStore) -> None:
    from ralph.tix.text import REPORTS

    rows = tql_store.query(REPORTS["actors"])
    assert [(r["author"], r["count"], r["sum_meta.cost"], r["avg_meta.iterations"]) for r in rows] == [
        ("alice", 3, 4.0, 3),
        ("bob", 2, 0.5, 1),
        ("carol", 1, 3.0, 5),
    ]


ERROR_CASES = [
    ("bogus", "unknown source"),
    ("tasks | frob=1", "unknown field"),
    ("tasks | limit 0", "limit must be a positive number"),
    ("tasks | sort nope", "unknown field"),
    ("tasks | having count>1", "unknown aggregate"),
    ("tasks | select nope", "unknown field"),
    ("tasks | status=sideways", "unknown status"),
    ("tasks | frobnicate x", "bad filter"),
    ('tasks | name="open', "unterminated quote"),
]


@pytest.mark.parametrize(("tql", "message"), ERROR_CASES, ids=[c[0] for c in ERROR_CASES])
def test_errors(tql_store: TicketStore, tql: str, message: str) -> None:
    with pytest.raises(StoreError, match=message):
        tql_store.query(tql)


def test_raw_sql_is_read_only(tql_store: TicketStore) -> None:
    assert tql_store.sql("SELECT id, is_accept FROM tombstones") == [{"id": T4, "is_accept": 1}]
    with pytest.raises(StoreError):
        tql_store.sql("WITH x AS (SELECT 1) DELETE FROM tickets")
    with pytest.raises(StoreError, match="SELECT or WITH"):
        tql_store.sql("DELETE FROM tickets")
    assert len(tql_store.query("tasks all")) == 6
