"""A torn last line (crash mid-append) is repaired on the next open and reported, never fatal."""

from __future__ import annotations

import json

from tests.tix.cli_helpers import tix

from ralph.tix import TicketStore


def _add_three(store: TicketStore) -> list[str]:
    return [store.add_task({"name": f"task {i}"}).id for i in range(3)]


def test_unparseable_tail_is_cut_saved_and_reported(store: TicketStore) -> None:
    ids = _add_three(store)
    data = store.plan_path.read_bytes()
    store.plan_path.write_bytes(data[:-15])
    store.close()
    reopened = TicketStore.open(store.root)
    assert [t.id for t in reopened.tasks()] == ids[:2]
    assert len(reopened.repairs) == 1 and "cut" in reopened.repairs[0]
    assert reopened.plan_path.read_bytes() == data[: data.rindex(b"\n", 0, len(data) - 1) + 1]
    saved = reopened.plan_path.with_name("plan.jsonl.torn").read_bytes()
    assert data[data.rindex(b"\n", 0, len(data) - 1) + 1 : -15] in saved
    assert reopened.add_task({"name": "after"}).name == "after"
    reopened.close()


def test_parseable_tail_is_completed_not_dropped(store: TicketStore) -> None:
    ids = _add_three(store)
    store.plan_path.write_bytes(store.plan_path.read_bytes()[:-1])
    store.close()
    reopened = TicketStore.open(store.root)
    assert [t.id for t in reopened.tasks()] == ids
    assert "completed" in reopened.repairs[0]
    assert reopened.plan_path.read_bytes().endswith(b"}\n")
    reopened.close()


def test_cli_reports_repair_on_stderr(store: TicketStore) -> None:
    _add_three(store)
    store.plan_path.write_bytes(store.plan_path.read_bytes()[:-20])
    store.close()
    result = tix(store.root, "query", "full")
    assert result.code == 0
    assert result.err.startswith("warning: repaired torn last line of plan.jsonl")
    assert len(json.loads(result.out)["tasks"]["pending"]) == 2
    assert tix(store.root, "query", "full").err == ""
