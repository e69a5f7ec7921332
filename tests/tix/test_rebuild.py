"""The cache is derived data: deleting it and rebuilding from plan.jsonl loses nothing."""

from __future__ import annotations

import contextlib
import glob
import os
import subprocess
import tempfile
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ralph.errors import StoreError
from ralph.tix import TaskStatus, TicketStore
from ralph.tix.replay import replay_text


def _fill(store: TicketStore) -> None:
    base = store.add_task({"name": "base", "accept": "ok"})
    every = store.add_task(
        {
            "name": "every field ✓",
            "spec": "spec.md",
            "notes": "line one\nline two \u2028 sep",
            "accept": "make test",
            "check": "pytest -q tests/x",
            "priority": "medium",
            "deps": [base.id],
            "labels": ["module:x", "epic:y"],
            "parent": base.id,
            "created_from": base.id,
            "supersedes": base.id,
            "decompose_depth": 2,
            "assigned": "ralph",
            "meta": {"model": "m1", "flag": True, "nested": {"a": 1}},
            "cost": 0.125,
        }
    )
    store.add_telemetry(every.id, {"cost": 1.5, "tokens_in": 1000, "stage_build": 1}, {"run_id": "r-1"})
    store.fail(every.id, "context blown", "context")
    store.done(base.id)
    store.reject(base.id, "missing edge case")
    store.done(base.id)
    store.accept(base.id, "fine now")
    store.update(
        every.id, {"kill_reason": "timeout", "reject_reason": "x", "retries": 3, "labels_add": ["z"]}
    )
    issue = store.add_issue("an issue", spec="spec.md", labels=["triage"])
    store.resolve_issue(issue.id)
    store.add_note("a note")
    gone = store.add_task({"name": "gone"})
    store.delete(gone.id)


def _snapshot(store: TicketStore) -> tuple[object, ...]:
    return (store.all_tickets(), store.tombstones(), store.failures(), store.counts())


def test_delete_cache_and_rebuild_keeps_every_field(store: TicketStore) -> None:
    _fill(store)
    before = _snapshot(store)
    every = next(t for t in store.all_tickets() if t.name == "every field ✓")
    assert every.meta == {
        "model": "m1",
        "flag": "true",
        "nested": '{"a":1}',
        "cost": 1.625,
        "tokens_in": 1000,
        "stage_build": 1,
        "run_id": "r-1",
    }
    assert (every.kill_count, every.kill_reason, every.retries, every.decompose_depth) == (1, "timeout", 3, 2)
    assert every.labels == ("module:x", "epic:y", "z") and every.check == "pytest -q tests/x"
    store.close()
    for path in glob.glob(str(store.tix_dir / "cache.db*")):
        os.unlink(path)
    rebuilt = TicketStore.open(store.root)
    assert _snapshot(rebuilt) == before
    rebuilt.close()


def test_incremental_cache_equals_a_fresh_replay(store: TicketStore) -> None:
    _fill(store)
    replayed = replay_text(store.plan_path.read_text(encoding="utf-8"))
    assert {t.id: t for t in store.all_tickets()} == replayed.tickets
    assert sorted(store.tombstones(), key=lambda s: s.time) == sorted(
        replayed.tombstones, key=lambda s: s.time
    )


def test_incremental_and_full_rebuild_agree_on_order(store: TicketStore) -> None:
    lines = "".join(
        f'{{"t":"task","id":"t-{i:08x}","name":"n{i}","s":"p","created_at":5}}\n' for i in (9, 3, 7, 1, 8, 2)
    )
    store.plan_path.write_text(lines, encoding="utf-8")
    incremental = [t.id for t in store.all_tickets()]
    assert incremental == [f"t-{i:08x}" for i in (9, 3, 7, 1, 8, 2)]
    store.cache.invalidate()
    assert [t.id for t in store.all_tickets()] == incremental


def test_external_append_and_rewrite_are_picked_up(store: TicketStore) -> None:
    task = store.add_task({"name": "a"})
    line = store.plan_path.read_text(encoding="utf-8").replace('"name":"a"', '"name":"renamed"')
    with open(store.plan_path, "a", encoding="utf-8") as plan:
        plan.write(line)
    assert store.get(task.id).name == "renamed"
    store.plan_path.write_text(line.replace("renamed", "rewritten"), encoding="utf-8")
    assert store.get(task.id).name == "rewritten"


OPS = ("add", "done", "accept", "reject", "fail", "telemetry", "delete")


@settings(max_examples=8, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(st.tuples(st.sampled_from(OPS), st.integers(0, 20)), min_size=1, max_size=12))
def test_cache_always_equals_replay_of_the_file(git_repo: Path, ops: list[tuple[str, int]]) -> None:
    with tempfile.TemporaryDirectory(dir=git_repo.parent) as folder:
        repo = Path(folder)
        subprocess.run(["git", "init", "-q", "-b", "main", str(repo)], check=True)
        subprocess.run(["git", "-C", str(repo), "commit", "-q", "--allow-empty", "-m", "i"], check=True)
        store = TicketStore.init(repo)
        for op, pick in ops:
            tasks = store.tasks(list(TaskStatus))
            target = tasks[pick % len(tasks)].id if tasks else ""
            with contextlib.suppress(StoreError):
                _apply(store, op if target else "add", target, pick)
        replayed = replay_text(store.plan_path.read_text(encoding="utf-8"))
        assert {t.id: t for t in store.all_tickets()} == replayed.tickets
        store.close()


def _apply(store: TicketStore, op: str, target: str, pick: int) -> None:
    actions = {
        "add": lambda: store.add_task({"name": f"t{pick}", "priority": pick % 4}),
        "done": lambda: store.done(target),
        "accept": lambda: store.accept(target),
        "reject": lambda: store.reject(target, "no"),
        "fail": lambda: store.fail(target, "boom", "timeout"),
        "telemetry": lambda: store.add_telemetry(target, {"cost": pick / 4}),
        "delete": lambda: store.delete(target),
    }
    actions[op]()


def test_patched_memo_and_seq_equal_a_fresh_load(store: TicketStore) -> None:
    """Our own mutations patch the in-process memo and assign ``seq`` from cache_meta (no table scan);
    the order must be exactly what a fresh load and a full rebuild give, ties included."""
    lines = "".join(
        f'{{"t":"task","id":"t-{i:08x}","name":"n{i}","s":"p","created_at":5,"priority":"low"}}\n'
        for i in (9, 3, 7)
    )
    store.plan_path.write_text(lines, encoding="utf-8")
    store.all_tickets()
    added = [store.add_task({"name": f"a{i}", "priority": ("high", "low", "none")[i % 3]}) for i in range(6)]
    store.prioritize("t-00000003", "high")
    store.prioritize(added[0].id, "none")
    store.done(added[1].id)
    store.prioritize("t-00000003", "low")
    warm = [t.id for t in store.all_tickets()]
    seqs = dict(store.cache.db.execute("SELECT id, seq FROM tickets"))
    assert sorted(seqs.values()) == list(range(1, len(seqs) + 1))
    with TicketStore.open(store.root) as fresh:
        assert [t.id for t in fresh.all_tickets()] == warm
    store.cache.invalidate()
    assert [t.id for t in store.all_tickets()] == warm
    assert dict(store.cache.db.execute("SELECT id, seq FROM tickets")) == seqs
    store.cache.db.execute("DELETE FROM cache_meta WHERE key = 'next_seq'")
    late = store.add_task({"name": "after an older writer"})
    assert dict(store.cache.db.execute("SELECT id, seq FROM tickets"))[late.id] == len(seqs) + 1
