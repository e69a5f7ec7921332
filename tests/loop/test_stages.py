"""The transition table and task choice, without processes."""

from __future__ import annotations

import pytest

from ralph.errors import ExitReason
from ralph.loop.stages import (
    Board,
    Event,
    TaskView,
    buildable,
    ends_iteration,
    final_reason,
    next_stage,
    pick_task,
    route,
)
from ralph.stage import Stage


@pytest.mark.parametrize(
    ("board", "expected"),
    [
        (Board(buildable=2, pending=2, done=1, issues=1), Stage.VERIFY),
        (Board(buildable=2, pending=2, issues=1), Stage.INVESTIGATE),
        (Board(buildable=1, pending=3), Stage.BUILD),
        (Board(pending=3), Stage.COMPLETE),
        (Board(), Stage.COMPLETE),
    ],
)
def test_route_prefers_review_then_issues_then_build(board: Board, expected: Stage) -> None:
    assert route(board) is expected


def test_build_outcomes() -> None:
    work = Board(buildable=1, pending=1)
    assert next_stage(Stage.BUILD, Event.BUILT, Board(done=1)) is Stage.VERIFY
    assert next_stage(Stage.BUILD, Event.FAILED, work) is Stage.DECOMPOSE
    assert next_stage(Stage.BUILD, Event.INFRA, work) is Stage.BUILD
    assert next_stage(Stage.BUILD, Event.PARKED, Board(pending=1, issues=1)) is Stage.INVESTIGATE
    assert next_stage(Stage.BUILD, Event.NOTHING, Board(pending=1)) is Stage.COMPLETE


def test_decompose_returns_to_build_unless_nothing_is_buildable() -> None:
    assert next_stage(Stage.DECOMPOSE, Event.SPLIT, Board(buildable=2, pending=2)) is Stage.BUILD
    assert next_stage(Stage.DECOMPOSE, Event.FAILED, Board(pending=1, issues=1)) is Stage.INVESTIGATE


def test_verify_batches_continue_while_done_tasks_remain() -> None:
    assert next_stage(Stage.VERIFY, Event.BATCH_DONE, Board(done=3, buildable=1, pending=1)) is Stage.VERIFY
    assert next_stage(Stage.VERIFY, Event.BATCH_DONE, Board(buildable=1, pending=1)) is Stage.BUILD
    assert next_stage(Stage.INVESTIGATE, Event.BATCH_DONE, Board(issues=1)) is Stage.INVESTIGATE


def test_an_iteration_ends_back_at_build_or_complete() -> None:
    assert ends_iteration(Stage.VERIFY, Stage.BUILD)
    assert ends_iteration(Stage.DECOMPOSE, Stage.BUILD)
    assert ends_iteration(Stage.INVESTIGATE, Stage.BUILD)
    assert ends_iteration(Stage.BUILD, Stage.COMPLETE)
    assert not ends_iteration(Stage.BUILD, Stage.BUILD)
    assert not ends_iteration(Stage.BUILD, Stage.VERIFY)
    assert not ends_iteration(Stage.VERIFY, Stage.INVESTIGATE)


def test_final_reason_distinguishes_complete_from_stuck() -> None:
    assert final_reason(Board()) is ExitReason.COMPLETE
    assert final_reason(Board(pending=1)) is ExitReason.NO_WORK


def _t(id_: str, **kw: object) -> TaskView:
    return TaskView(id=id_, status=str(kw.pop("status", "pending")), **kw)  # type: ignore[arg-type]


def test_pick_orders_by_priority_then_retries_then_age() -> None:
    tasks = [
        _t("t-old", priority=1, created_at=1.0),
        _t("t-high", priority=3, created_at=5.0),
        _t("t-high-retried", priority=3, created_at=0.5, retries=2),
        _t("t-mid-new", priority=1, created_at=2.0),
    ]
    assert [t.id for t in buildable(tasks)] == ["t-high", "t-high-retried", "t-old", "t-mid-new"]


def test_deps_block_until_done_or_accepted() -> None:
    tasks = [_t("t-a", created_at=2.0), _t("t-b", deps=("t-a",), priority=3)]
    assert pick_task(tasks) == tasks[0]
    done = [_t("t-a", status="done"), _t("t-b", deps=("t-a",))]
    assert pick_task(done) == done[1]


def test_a_decomposed_dep_is_met_when_all_its_subtasks_are() -> None:
    tasks = [
        _t("t-a", status="deleted"),
        _t("t-a1", parent="t-a", status="accepted"),
        _t("t-a2", parent="t-a", created_at=1.0),
        _t("t-b", deps=("t-a",), priority=3),
    ]
    assert pick_task(tasks) == tasks[2]
    finished = [*tasks[:2], _t("t-a2", parent="t-a", status="done"), tasks[3]]
    assert pick_task(finished) == tasks[3]


def test_parked_tasks_are_never_picked() -> None:
    assert pick_task([_t("t-a", parked=True)]) is None
