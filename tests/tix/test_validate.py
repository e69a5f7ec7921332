"""tix validate: broken and stale references, cycles, tombstone consistency, duplicate ids."""

from __future__ import annotations

import json

from ralph.tix import TicketStore


def _write(store: TicketStore, *records: dict[str, object]) -> None:
    store.plan_path.write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")


def test_clean_store_passes(store: TicketStore) -> None:
    task = store.add_task({"name": "a", "accept": "ok"})
    store.add_task({"name": "b", "accept": "ok", "deps": [task.id]})
    report = store.validate()
    assert report.ok and report.errors == () and report.warnings == ()


def test_errors_and_warnings(store: TicketStore) -> None:
    _write(
        store,
        {"t": "task", "id": "t-00000001", "name": "a", "s": "p", "accept": "x", "deps": ["t-00000002"]},
        {"t": "task", "id": "t-00000002", "name": "b", "s": "p", "accept": "x", "deps": ["t-00000001"]},
        {"t": "task", "id": "t-00000003", "name": "c", "s": "p", "accept": "x", "deps": ["t-0000dead"]},
        {"t": "task", "id": "t-00000004", "name": "d", "s": "d", "accept": "x"},
        {"t": "task", "id": "t-00000005", "name": "e", "s": "a", "accept": "x"},
        {"t": "task", "id": "t-00000006", "name": "", "s": "p", "parent": "t-0000beef"},
        {"t": "issue", "id": "i-00000001", "name": "i", "s": "p"},
        {"t": "task", "id": "t-00000007", "name": "f", "s": "p", "accept": "x", "deps": ["i-00000001"]},
        {"t": "task", "id": "t-00000008", "name": "g", "s": "p", "accept": "x", "created_at": 1},
        {"t": "task", "id": "t-00000008", "name": "g2", "s": "p", "accept": "x", "created_at": 2},
    )
    report = store.validate()
    assert not report.ok
    text = "\n".join(report.errors)
    assert "t-00000003: dep t-0000dead is broken" in text
    assert "dependency cycle: t-00000001 -> t-00000002 -> t-00000001" in text
    assert "t-00000004: status done but done_at is empty" in text
    assert "t-00000005: accepted without an accept record" in text
    assert "t-00000006: parent t-0000beef is broken" in text
    assert "t-00000007: dep i-00000001 is a issue, not a task" in text
    assert "t-00000008: duplicate id" in text
    assert "t-00000006: no name" in "\n".join(report.warnings)
    assert "t-00000006: task has no accept criteria" in "\n".join(report.warnings)


def test_stale_reference_is_a_warning(store: TicketStore) -> None:
    _write(
        store,
        {"t": "accept", "id": "t-0000a11d", "name": "compacted", "time": 5},
        {"t": "task", "id": "t-00000001", "name": "a", "s": "p", "accept": "x", "deps": ["t-0000a11d"]},
    )
    report = store.validate()
    assert report.ok
    assert report.warnings == ("t-00000001: dep t-0000a11d is stale (known only from history)",)
