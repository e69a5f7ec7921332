"""``TicketStore.writing``: several mutations reach plan.jsonl in one append, so a process killed inside the
block leaves none of them and one killed after the append leaves all of them (the cache catches up)."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from ralph.tix import TaskStatus, TicketStore
from ralph.tix.replay import replay_text

_CHILD = """
import os, signal, sys
from pathlib import Path
from ralph.tix import TicketStore
from ralph.tix.cache import Cache

store = TicketStore.open(Path(sys.argv[1]))
task_id, where = sys.argv[2], sys.argv[3]
if where == "before-commit":
    Cache.commit_ahead = lambda *a: os.kill(os.getpid(), signal.SIGKILL)
with store.writing():
    store.done(task_id)
    store.accept(task_id, "fine")
    store.add_issue("raised by the same stage")
    if where == "inside":
        os.kill(os.getpid(), signal.SIGKILL)
"""


def _kill_child(store: TicketStore, task_id: str, where: str) -> None:
    code = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(_CHILD), str(store.root), task_id, where],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert code.returncode == -9, code.stderr


def _replayed(root: Path) -> dict[str, str]:
    state = replay_text((root / ".tix" / "plan.jsonl").read_text(encoding="utf-8"))
    return {t.id: t.status.label for t in state.tickets.values()}


def test_a_kill_inside_the_block_leaves_none_of_its_writes(store: TicketStore) -> None:
    task = store.add_task({"name": "one"})
    before = store.plan_path.read_bytes()
    _kill_child(store, task.id, "inside")
    assert store.plan_path.read_bytes() == before
    fresh = TicketStore.open(store.root)
    assert fresh.get(task.id).status is TaskStatus.PENDING and fresh.issues() == []
    fresh.done(task.id)
    assert {t.id: t.status.label for t in fresh.all_tickets()} == _replayed(store.root)


def test_a_kill_after_the_append_leaves_all_of_them(store: TicketStore) -> None:
    task = store.add_task({"name": "one"})
    _kill_child(store, task.id, "before-commit")
    fresh = TicketStore.open(store.root)
    assert fresh.get(task.id).status is TaskStatus.ACCEPTED
    assert [i.name for i in fresh.issues()] == ["raised by the same stage"]
    assert {t.id: t.status.label for t in fresh.all_tickets()} == _replayed(store.root)


def test_reads_inside_see_the_block_and_other_processes_see_it_at_the_end(store: TicketStore) -> None:
    task = store.add_task({"name": "one"})
    other = TicketStore.open(store.root)
    with store.writing():
        store.done(task.id)
        assert store.get(task.id).status is TaskStatus.DONE
        added = store.add_task({"name": "two", "deps": [task.id]})
        assert [t.name for t in store.tasks()] == ["one", "two"]
        assert other.get(task.id).status is TaskStatus.PENDING and other.find(added.id) is None
    assert other.get(task.id).status is TaskStatus.DONE and other.get(added.id).deps == (task.id,)


def test_an_error_inside_still_writes_the_mutations_that_completed(store: TicketStore) -> None:
    task = store.add_task({"name": "one"})
    with pytest.raises(RuntimeError), store.writing():
        store.done(task.id)
        raise RuntimeError("stage failed")
    assert TicketStore.open(store.root).get(task.id).status is TaskStatus.DONE
    assert store.get(task.id).status is TaskStatus.DONE
