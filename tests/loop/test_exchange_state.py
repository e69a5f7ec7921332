"""The repair exchange (pure generator) and the state file (atomic, tolerant of corruption)."""

from __future__ import annotations

import json
from pathlib import Path

from ralph.agents.base import StageResult
from ralph.errors import KillReason
from ralph.loop.checks import task_list_check
from ralph.loop.exchange import ContextPolicy, repair_flow
from ralph.loop.state import Attempt, LoopState, load_state, save_state
from ralph.stage import Stage


def _result(
    text: str, session: str | None = "s-1", used: int = 0, failure: KillReason | None = None
) -> StageResult:
    return StageResult(
        text=text, session_id=session, calls=(), duration_s=0.0, failure=failure, context_used=used
    )


def _block(data: dict[str, object]) -> str:
    return f"prose\n[RALPH_OUTPUT]\n{json.dumps(data)}\n[/RALPH_OUTPUT]\n"


GOOD = {
    "name": "Add the flag",
    "notes": "edit src/app/report.py",
    "accept": "pytest tests/test_report.py exits 0",
}
BAD = {"name": "Fix it", "notes": "somewhere", "accept": "works"}


def test_invalid_output_is_repaired_in_the_same_session() -> None:
    flow = repair_flow(Stage.BUILD, "do it", max_retries=2)
    first = next(flow)
    assert first.session_id is None and first.retry == 0
    retry = flow.send(_result("All done, the task is complete."))
    assert retry.session_id == "s-1" and retry.retry == 1 and retry.errors and not retry.handoff
    try:
        flow.send(_result(_block({"verdict": "done", "summary": "ok"})))
    except StopIteration as stop:
        exchange = stop.value
    assert exchange.ok and exchange.retries == 1 and exchange.data == {"verdict": "done", "summary": "ok"}


def test_no_verdict_is_inferred_and_retries_are_bounded() -> None:
    flow = repair_flow(Stage.BUILD, "do it", max_retries=1)
    next(flow)
    flow.send(_result("task completed, all tests pass"))
    try:
        flow.send(_result("implementation is complete"))
    except StopIteration as stop:
        exchange = stop.value
    assert not exchange.ok and exchange.data is None and exchange.retries == 1 and exchange.errors


def test_partial_task_lists_keep_valid_items_and_hand_off_a_crowded_session() -> None:
    check = task_list_check("tasks", True, None)
    flow = repair_flow(Stage.PLAN, "plan", max_retries=2, check=check, context=ContextPolicy(1000, 85, 95))
    next(flow)
    retry = flow.send(_result(_block({"tasks": [GOOD, BAD]}), used=900))
    assert retry.handoff and retry.session_id is None and "plan" in retry.prompt
    assert all("tasks[1]" in e for e in retry.errors)
    try:
        flow.send(
            _result(_block({"tasks": [{**BAD, "notes": "edit src/x.py", "accept": "test -f src/x.py"}]}))
        )
    except StopIteration as stop:
        exchange = stop.value
    assert exchange.ok and exchange.handoffs == 1
    assert [t["name"] for part in exchange.parts for t in part["tasks"]] == ["Add the flag", "Fix it"]


def test_a_killed_stage_ends_the_exchange() -> None:
    flow = repair_flow(Stage.BUILD, "do it", max_retries=2)
    next(flow)
    try:
        flow.send(_result("", failure=KillReason.TIMEOUT))
    except StopIteration as stop:
        assert stop.value.failure is KillReason.TIMEOUT


def test_state_round_trips_and_corruption_means_fresh(tmp_path: Path) -> None:
    state = LoopState(
        spec="s.md", stage=Stage.VERIFY, running=True, attempt=Attempt("t-1", {"commit": "abc"})
    )
    save_state(tmp_path, state)
    assert load_state(tmp_path) == state
    (tmp_path / ".tix" / "ralph-state.json").write_text("{torn")
    assert load_state(tmp_path) == LoopState()
    assert not list((tmp_path / ".tix").glob(".ralph-state.*"))
