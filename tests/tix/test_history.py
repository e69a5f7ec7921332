"""compact (converges, atomic rename, keeps uncommitted resolutions), sync over real git history, log."""

from __future__ import annotations

import subprocess
from pathlib import Path

from ralph.tix import TaskStatus, TicketStore


def _commit(repo: Path, message: str) -> None:
    subprocess.run(["git", "add", "-A"], cwd=repo, check=True)
    subprocess.run(["git", "commit", "-qm", message], cwd=repo, check=True)


def _accepted(store: TicketStore, name: str) -> str:
    task = store.add_task({"name": name, "accept": "ok"})
    store.done(task.id)
    store.accept(task.id)
    return task.id


def test_compact_keeps_uncommitted_resolutions_and_converges(store: TicketStore) -> None:
    done_id = _accepted(store, "finished")
    live = store.add_task({"name": "live", "accept": "ok", "meta": {"cost": 1}})
    store.add_telemetry(live.id, {"cost": 2})
    before = store.all_tickets()
    inode = store.plan_path.stat().st_ino
    first = store.compact()
    assert first["changed"] is True and first["dropped"] == 0
    assert store.plan_path.stat().st_ino != inode
    assert store.all_tickets() == before
    text = store.plan_path.read_bytes()
    assert store.compact()["changed"] is False
    assert store.plan_path.read_bytes() == text
    assert [p.name for p in store.tix_dir.iterdir() if p.name.endswith(".tmp")] == []
    assert store.get(done_id).status is TaskStatus.ACCEPTED


def test_compact_drops_committed_resolutions_but_keeps_referenced(store: TicketStore) -> None:
    gone = _accepted(store, "gone")
    needed = _accepted(store, "needed")
    user = store.add_task({"name": "user", "accept": "ok", "deps": [needed]})
    _commit(store.root, "plan")
    result = store.compact()
    assert result["dropped"] == 1
    assert store.find(gone) is None
    assert store.get(needed).status is TaskStatus.ACCEPTED
    assert store.get(user.id).deps == (needed,)
    assert store.compact()["changed"] is False


def test_sync_learns_compacted_tickets_from_history(store: TicketStore) -> None:
    old = _accepted(store, "old work")
    _commit(store.root, "first")
    store.compact()
    _commit(store.root, "compacted")
    assert store.find(old) is None
    result = store.sync()
    assert (result["commits"], result["history_tickets"]) == (2, 1)
    found = store.get(old)
    assert found.status is TaskStatus.ACCEPTED and found.compacted_at > 0
    store.add_task({"name": "after sync"})
    assert store.get(old).name == "old work"


def test_log_lists_plan_commits(store: TicketStore) -> None:
    from ralph.tix.history import log_store

    store.add_task({"name": "a"})
    _commit(store.root, "add a")
    store.add_task({"name": "b"})
    _commit(store.root, "add b")
    entries = log_store(store)
    assert [e["message"] for e in entries] == ["add b", "add a"]
    assert all(len(e["hash"]) == 40 and e["author"] == "Test Author" for e in entries)
    assert [e["message"] for e in log_store(store, limit=1)] == ["add b"]
