"""Task, issue and note lifecycles through the Python API."""

from __future__ import annotations

import pytest

from ralph.errors import StoreError
from ralph.tix import Priority, TaskStatus, TicketStore, TicketType


def test_add_done_accept(store: TicketStore) -> None:
    task = store.add_task({"name": "write parser", "accept": "tests pass", "priority": "high"})
    assert task.id.startswith("t-") and len(task.id) == 10
    assert task.type is TicketType.TASK and task.status is TaskStatus.PENDING
    assert task.priority is Priority.HIGH and task.branch == "main" and task.created_at > 0
    done = store.done(task.id)
    assert done.status is TaskStatus.DONE and len(done.done_at) >= 7 and done.completed_at
    accepted = store.accept(task.id, "looks right")
    assert accepted.status is TaskStatus.ACCEPTED and accepted.resolved_at > 0
    [stone] = store.tombstones()
    assert stone.is_accept and stone.reason == "looks right" and stone.commit and stone.time > 0


def test_reject_keeps_reason_and_counts_retry(store: TicketStore) -> None:
    task = store.add_task({"name": "a"})
    store.done(task.id)
    again = store.reject(task.id, "missing tests")
    assert again.status is TaskStatus.PENDING and again.retries == 1
    assert again.reject_reason == "missing tests" and again.done_at == ""


def test_fail_records_attempt(store: TicketStore) -> None:
    task = store.add_task({"name": "a"})
    failed = store.fail(task.id, "stage timed out", "timeout")
    assert failed.status is TaskStatus.PENDING and failed.kill_count == 1 and failed.kill_reason == "timeout"
    assert store.failures()[0].reason == "stage timed out"
    store.done(task.id)
    with pytest.raises(StoreError, match="status is done"):
        store.fail(task.id, "again")


def test_illegal_transitions_leave_file_unchanged(store: TicketStore) -> None:
    task = store.add_task({"name": "a"})
    before = store.plan_path.read_bytes()
    with pytest.raises(StoreError, match="cannot accept"):
        store.accept(task.id)
    with pytest.raises(StoreError, match="unknown id"):
        store.done("t-00000000")
    with pytest.raises(StoreError, match="unknown dep"):
        store.add_task({"name": "b", "deps": ["t-00000000"]})
    assert store.plan_path.read_bytes() == before


def test_telemetry_accumulates_and_meta_merges(store: TicketStore) -> None:
    task = store.add_task({"name": "a", "meta": {"model": "m0"}, "cost": 1})
    store.add_telemetry(task.id, {"cost": 0.5, "tokens_in": 10}, {"model": "m1"})
    store.add_telemetry(task.id, {"cost": 0.25, "tokens_in": 5})
    updated = store.update(task.id, {"meta": {"run_id": "r1"}, "labels": ["x"]})
    assert updated.meta == {"cost": 1.75, "tokens_in": 15, "model": "m1", "run_id": "r1"}
    assert store.update(task.id, {"labels_add": ["y"]}).labels == ("x", "y")


def test_batch_with_intra_batch_deps(store: TicketStore) -> None:
    first, second, third = store.add_tasks(
        [{"name": "a", "ref": "a"}, {"name": "b", "deps": ["@a"]}, {"name": "c", "deps": [0, "#1"]}]
    )
    assert second.deps == (first.id,) and third.deps == (first.id, second.id)


def test_issue_and_note(store: TicketStore) -> None:
    issue = store.add_issue("flaky test", spec="spec.md")
    note = store.add_note("remember the cache")
    assert [i.id for i in store.issues()] == [issue.id]
    assert store.resolve_issues([issue.id, "i-00000000"]) == 1
    assert store.issues() == [] and store.note_done(note.id).status is TaskStatus.DELETED
