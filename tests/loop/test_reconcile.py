"""Reconcile and upsert over the real store: idempotent, no duplicates, deps by index/name, decomposition."""

from __future__ import annotations

from ralph.loop.board import read_board
from ralph.loop.reconcile import (
    apply_build,
    apply_decompose,
    apply_dedup,
    apply_investigate,
    apply_plan,
    apply_verify,
    fail_task,
    park_task,
)
from ralph.loop.stages import PARKED_LABEL
from ralph.tix import TaskStatus, TicketStore

SPEC = "spec.md"


def _task(name: str, **more: object) -> dict[str, object]:
    return {"name": name, "notes": f"edit src/{name.split()[0]}.c", "accept": "test -f src/a.c", **more}


def test_plan_upserts_by_name_and_resolves_deps(store: TicketStore) -> None:
    first = apply_plan(store, SPEC, [_task("alpha task"), _task("beta task", deps=["alpha task"])], [])
    assert len(first.added) == 2
    again = apply_plan(
        store, SPEC, [_task("alpha task", notes="edit src/alpha.c, line 3"), _task("beta task")], []
    )
    assert again.added == () and len(again.updated) == 1
    tasks = {t.name: t for t in store.tasks()}
    assert len(tasks) == 2
    assert tasks["beta task"].deps == (tasks["alpha task"].id,)
    assert tasks["alpha task"].notes == "edit src/alpha.c, line 3"


def test_plan_drops_pending_tasks_of_the_spec_only(store: TicketStore) -> None:
    ids = apply_plan(store, SPEC, [_task("alpha task")], []).added
    other = store.add_task({"name": "other spec task", "spec": "other.md"})
    result = apply_plan(store, SPEC, [], [ids[0], other.id, "t-00000000"])
    assert result.deleted == ids
    assert store.get(other.id).status is TaskStatus.PENDING


def test_build_done_applies_once(store: TicketStore) -> None:
    task = store.add_task(_task("alpha task", spec=SPEC))
    data = {"verdict": "done", "summary": "ok", "issues": [{"desc": "the build prints a warning in src/a.c"}]}
    first = apply_build(store, task, data, 0.8)
    second = apply_build(store, task, data, 0.8)
    assert store.get(task.id).status is TaskStatus.DONE
    assert len(first.issues) == 1 and second.issues == ()


def test_verify_accepts_rejects_and_ignores_foreign_ids(store: TicketStore) -> None:
    a = store.add_task(_task("alpha task", spec=SPEC))
    b = store.add_task(_task("beta task", spec=SPEC))
    store.done(a.id)
    store.done(b.id)
    data = {
        "results": [
            {"task_id": a.id, "passed": True, "reason": "ok"},
            {"task_id": b.id, "passed": False, "reason": "src/b.c:3 is wrong"},
            {"task_id": "t-deadbeef", "passed": True, "reason": "?"},
        ]
    }
    result = apply_verify(store, SPEC, [a.id, b.id], data, 0.8)
    assert result.accepted == (a.id,) and result.rejected == (b.id,) and len(result.remarks) == 1
    assert apply_verify(store, SPEC, [a.id, b.id], data, 0.8).accepted == ()
    rejected = store.get(b.id)
    assert rejected.status is TaskStatus.PENDING and rejected.retries == 1
    assert rejected.reject_reason == "src/b.c:3 is wrong"


def test_investigate_resolves_the_batch_and_links_tasks(store: TicketStore) -> None:
    issue = store.add_issue("the parser crashes on empty input", spec=SPEC)
    other = store.add_issue("unrelated issue outside the batch", spec=SPEC)
    result = apply_investigate(store, SPEC, [issue.id], [_task("fix parser", created_from="i-bogus")])
    assert len(result.added) == 1
    assert store.get(result.added[0]).created_from == issue.id
    assert [i.id for i in store.issues()] == [other.id]


def test_decompose_replaces_the_parent_and_rewires_dependents(store: TicketStore) -> None:
    base = store.add_task(_task("base task", spec=SPEC))
    parent = store.add_task(_task("big task", spec=SPEC, deps=[base.id]))
    child = store.add_task(_task("later task", spec=SPEC, deps=[parent.id]))
    subtasks = [_task("big part one"), _task("big part two", deps=["big part one"])]
    result = apply_decompose(store, parent, subtasks)
    assert len(result.added) == 2 and result.deleted == (parent.id,)
    subs = [store.get(i) for i in result.added]
    assert all(s.parent == parent.id and s.decompose_depth == 1 and s.spec == SPEC for s in subs)
    assert base.id in subs[0].deps and subs[0].id in subs[1].deps
    assert set(store.get(child.id).deps) == set(result.added)
    assert apply_decompose(store, parent, subtasks).added == ()
    assert len(store.tasks()) == 4


def test_fail_is_recorded_once_and_park_raises_one_issue(store: TicketStore) -> None:
    task = store.add_task(_task("alpha task", spec=SPEC))
    failed = fail_task(store, task, "stopped: timeout", "timeout")
    assert failed.kill_count == 1 and failed.kill_reason == "timeout"
    assert fail_task(store, task, "stopped: timeout", "timeout").kill_count == 1
    park_task(store, failed, "task alpha keeps failing", 0.8)
    park_task(store, failed, "task alpha keeps failing", 0.8)
    assert PARKED_LABEL in store.get(task.id).labels and len(store.issues()) == 1
    assert read_board(store, SPEC).ready == ()


def test_dedup_refuses_to_drop_more_than_half(store: TicketStore) -> None:
    ids = [store.add_task(_task(f"task number {n}", spec=SPEC)).id for n in range(4)]
    greedy = apply_dedup(store, ids, {"keep": [ids[0]], "dropped": ids[1:]})
    assert greedy.deleted == () and greedy.remarks
    ok = apply_dedup(store, ids, {"keep": ids[:3], "dropped": [ids[3]]})
    assert ok.deleted == (ids[3],)
