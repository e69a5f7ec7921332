"""TicketStore API beyond the basic lifecycle: ordering, scoping, all-or-nothing batches, search, exports."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

import ralph.tix
from ralph.errors import StoreError
from ralph.tix import Priority, TaskStatus, TicketStore


def test_public_names() -> None:
    assert ralph.tix.__all__ == sorted(ralph.tix.__all__)
    for name in ("TicketStore", "Ticket", "TicketType", "TaskStatus", "Priority", "Tombstone", "TaskCounts"):
        assert name in ralph.tix.__all__
    assert "ValidationReport" in ralph.tix.__all__
    assert TaskStatus.PENDING.label == "pending" and Priority.parse("HIGH") is Priority.HIGH


def test_tasks_order_status_and_spec_filters(store: TicketStore) -> None:
    low = store.add_task({"name": "low", "priority": "low", "spec": "a"})
    high = store.add_task({"name": "high", "priority": "high", "spec": "b"})
    plain = store.add_task({"name": "plain", "spec": "a"})
    high2 = store.add_task({"name": "high2", "priority": 3, "spec": "a"})
    assert [t.id for t in store.tasks()] == [high.id, high2.id, low.id, plain.id]
    assert [t.id for t in store.tasks(spec="a")] == [high2.id, low.id, plain.id]
    store.done(low.id)
    assert [t.id for t in store.tasks(TaskStatus.DONE)] == [low.id]
    assert [t.id for t in store.tasks([TaskStatus.PENDING])] == [high.id, high2.id, plain.id]
    assert store.prioritize(plain.id, "medium").priority is Priority.MEDIUM
    assert store.counts() == ralph.tix.TaskCounts(total=4, pending=3, done=1)


def test_batch_is_all_or_nothing(store: TicketStore) -> None:
    before = store.plan_path.read_bytes()
    with pytest.raises(StoreError, match="item 1: unknown dep"):
        store.add_tasks([{"name": "ok"}, {"name": "bad", "deps": ["t-00000000"]}])
    with pytest.raises(StoreError, match="dependency cycle"):
        store.add_tasks([{"name": "a", "deps": ["@1"]}, {"name": "b", "deps": ["@0"]}])
    with pytest.raises(StoreError, match="unresolvable dep"):
        store.add_tasks([{"name": "a", "deps": ["@7"]}])
    assert store.plan_path.read_bytes() == before and store.tasks() == []


def test_update_rules(store: TicketStore) -> None:
    first = store.add_task({"name": "a"})
    second = store.add_task({"name": "b"})
    assert store.update(second.id, {"deps": [first.id]}).deps == (first.id,)
    with pytest.raises(StoreError, match="cannot be set directly"):
        store.update(second.id, {"status": "a"})
    with pytest.raises(StoreError, match="itself"):
        store.update(second.id, {"deps": [second.id]})
    with pytest.raises(StoreError, match="cannot delete"):
        store.delete(first.id)


def test_branch_scope(store: TicketStore) -> None:
    task = store.add_task({"name": "on main"})
    subprocess.run(["git", "checkout", "-qb", "other"], cwd=store.root, check=True)
    with pytest.raises(StoreError, match="belongs to branch main"):
        store.done(task.id)
    unscoped = TicketStore.open(store.root, branch_scope=False)
    assert unscoped.done(task.id).branch == "other"
    unscoped.close()


def test_adopt_moves_live_tasks_to_the_current_branch(store: TicketStore) -> None:
    live = store.add_task({"name": "live"})
    finished = store.add_task({"name": "finished"})
    store.done(finished.id)
    store.accept(finished.id)
    subprocess.run(["git", "checkout", "-qb", "cell"], cwd=store.root, check=True)
    assert store.adopt("main") == [live.id]
    assert store.get(live.id).branch == "cell" and store.get(finished.id).branch == "main"
    assert store.adopt("main") == []
    assert store.done(live.id).status is TaskStatus.DONE


def test_detached_head_refuses_add(store: TicketStore) -> None:
    subprocess.run(["git", "checkout", "-q", "--detach"], cwd=store.root, check=True)
    with pytest.raises(StoreError, match="detached HEAD"):
        store.add_task({"name": "a"})


def test_search_scores_name_above_notes(store: TicketStore) -> None:
    in_name = store.add_task({"name": "parser rewrite", "notes": "other"})
    in_notes = store.add_task({"name": "cleanup", "notes": "touches the parser"})
    from ralph.tix.search import search_tickets

    result = search_tickets(store.cache, "parser")
    assert [r["id"] for r in result["results"]] == [in_name.id, in_notes.id]
    assert [r["score"] for r in result["results"]] == [3.0, 1.0]
    assert result["keyword_cloud"]["parser"] == 4
    assert search_tickets(store.cache, 'AND OR " *')["results"] == []


def test_user_name_from_config_files_matches_git(store: TicketStore) -> None:
    from ralph.tix.gitinfo import GitRepo, _user_name_in

    assert GitRepo(store.root).user_name() == "Test Author"
    subprocess.run(["git", "config", "user.name", "Local Name"], cwd=store.root, check=True)
    assert GitRepo(store.root).user_name() == "Local Name"
    assert store.add_task({"name": "a"}).author == "Local Name"
    assert _user_name_in('[core]\n name = no\n[user]\n\tname = "Q Uoted" # c\n') == "Q Uoted"


def test_open_requires_tix(git_repo: Path, tmp_path: Path) -> None:
    with pytest.raises(StoreError, match=r"no \.tix directory"):
        TicketStore.open(git_repo)
    with pytest.raises(StoreError, match="not a git repository"):
        TicketStore.open(tmp_path)


def test_writing_block_fsyncs_once_and_keeps_every_line(
    store: TicketStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    task = store.add_task({"name": "one"})
    synced: list[int] = []
    real = os.fsync

    def counted(fd: int) -> None:
        synced.append(fd)
        real(fd)

    monkeypatch.setattr(os, "fsync", counted)
    with store.writing():
        store.done(task.id)
        store.add_telemetry(task.id, {"cost": 0.5})
        store.accept(task.id, "ok")
        assert synced == []
    assert len(synced) == 1
    store.update(task.id, {"meta": {"k": "v"}})
    assert len(synced) == 2
    fresh = TicketStore.open(store.root)
    assert fresh.get(task.id).status is TaskStatus.ACCEPTED and fresh.get(task.id).meta["cost"] == 0.5


def test_tombstones_of_one_ticket(store: TicketStore) -> None:
    one, two = store.add_task({"name": "one"}), store.add_task({"name": "two"})
    for task in (one, two):
        store.done(task.id)
        store.reject(task.id, f"not yet {task.name}")
    store.done(one.id)
    store.accept(one.id, "fine")
    assert [(s.is_accept, s.reason) for s in store.tombstones(one.id)] == [
        (False, "not yet one"),
        (True, "fine"),
    ]
    assert [s.id for s in store.tombstones(two.id)] == [two.id]
    assert len(store.tombstones()) == 3
