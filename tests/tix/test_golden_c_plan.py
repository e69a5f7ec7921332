"""A plan.jsonl written by the earlier C tix (shapes from the inventory) loads with the same tickets,
states and meta; unknown lines survive compaction verbatim."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from ralph.tix import Priority, TaskStatus, TicketStore, TicketType

FIXTURE = Path(__file__).parent / "fixtures" / "c_era_plan.jsonl"


@pytest.fixture
def c_store(git_repo: Path) -> TicketStore:
    store = TicketStore.init(git_repo)
    shutil.copyfile(FIXTURE, store.plan_path)
    return store


def test_states_names_and_fields(c_store: TicketStore) -> None:
    states = {t.id: (t.type, t.status) for t in c_store.all_tickets()}
    assert states == {
        "t-1a2b3c4d": (TicketType.TASK, TaskStatus.ACCEPTED),
        "t-2b3c4d5e": (TicketType.TASK, TaskStatus.PENDING),
        "t-3c4d5e6f": (TicketType.TASK, TaskStatus.PENDING),
        "i-4d5e6f70": (TicketType.ISSUE, TaskStatus.DELETED),
        "i-5e6f7081": (TicketType.ISSUE, TaskStatus.PENDING),
        "n-6f708192": (TicketType.NOTE, TaskStatus.PENDING),
        "t-708192a3": (TicketType.TASK, TaskStatus.DELETED),
        "t-8192a3b4": (TicketType.TASK, TaskStatus.ACCEPTED),
    }
    first = c_store.get("t-1a2b3c4d")
    assert (first.priority, first.labels, first.assigned) == (
        Priority.HIGH,
        ("module:config", "epic:core"),
        "ralph",
    )
    assert (first.done_at, first.completed_at) == ("abc1234", "2025-01-02T10:00:00+01:00")
    assert c_store.get("t-2b3c4d5e").deps == ("t-1a2b3c4d",)
    assert c_store.get("i-5e6f7081").name == "Old desc-only issue"
    assert c_store.get("n-6f708192").name == 'Remember the café ☕ "quoted"'
    survivor = c_store.get("t-8192a3b4")
    assert (survivor.resolved_at, survivor.compacted_at) == (1735800000, 1735900000)
    assert (survivor.created_from_name, survivor.supersedes_reason) == ("Flaky test in CI", "too big")


def test_meta_merges_across_lines_including_top_level_telemetry(c_store: TicketStore) -> None:
    refactor = c_store.get("t-3c4d5e6f")
    assert refactor.meta == {"cost": 2.5, "tokens_in": 1200, "model": "gpt-x", "iterations": 3}
    assert refactor.kill_reason == "timeout"
    assert c_store.get("t-8192a3b4").meta == {"cost": 0.5, "tokens_out": 99}


def test_tombstones_and_counts(c_store: TicketStore) -> None:
    stones = [(s.id, s.kind, s.reason) for s in c_store.tombstones()]
    assert stones == [("t-1a2b3c4d", "accept", ""), ("t-3c4d5e6f", "reject", "tests fail")]
    counts = c_store.counts()
    assert (counts.total, counts.pending, counts.accepted, counts.deleted) == (4, 2, 2, 1)
    rows = c_store.query("tasks all | group status | count")
    assert rows == [{"status": 0, "count": 2}, {"status": 2, "count": 2}, {"status": 4, "count": 1}]


def test_foreign_lines_survive_compaction(c_store: TicketStore) -> None:
    c_store.compact()
    lines = c_store.plan_path.read_text(encoding="utf-8").splitlines()
    assert lines[:3] == [
        '{"t":"spec","name":"spec.md","path":"ralph/specs/spec.md"}',
        '{"t":"config","key":"x","value":1}',
        "not json at all",
    ]
    assert c_store.get("t-3c4d5e6f").meta["model"] == "gpt-x"
