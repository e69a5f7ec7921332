"""The pure view model: snapshots in, frames out (no files, no clock)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from ralph.loop.guards import Limits, Totals
from ralph.loop.state import LoopState
from ralph.stage import Stage
from ralph.watch.model import (
    Gauge,
    RunSnapshot,
    RunStatus,
    build_frame,
    gauges_of,
    limits_of,
    nearest_guard,
    recent_kills,
    status_of,
)

T0 = 1_800_000_000.0
REPO = Path("/repo")


def state(**changes: Any) -> LoopState:
    base = LoopState(
        spec="tinyrt.md",
        stage=Stage.BUILD,
        running=True,
        task_id="t-0000abcd",
        iteration=3,
        run_id="20270115_080000_abcdef",
        pid=4242,
        started_at=T0,
        updated_at=T0 + 100,
        limits={"max_iterations": 10, "max_wall_time_s": 1000.0, "max_cost": 2.0, "max_tokens": 0},
        totals={
            "cost": 0.5,
            "tokens": 12_000,
            "api_calls_remote": 7,
            "api_calls_local": 3,
            "iterations": 2,
            "consecutive_failures": 0,
        },
        context_pct=41.5,
    )
    return base.with_(**changes)


def snap(**changes: Any) -> RunSnapshot:
    values: dict[str, Any] = {"repo": REPO, "state": state(), "state_mtime": T0 + 100, "pid_alive": True}
    values.update(changes)
    return RunSnapshot(**values)


def test_status_follows_state_end_record_and_pid() -> None:
    assert status_of(RunSnapshot(repo=REPO)) is RunStatus.NO_RUN
    assert status_of(snap(state=LoopState(spec="x.md"))) is RunStatus.NO_RUN
    assert status_of(snap()) is RunStatus.RUNNING
    assert status_of(snap(pid_alive=False)) is RunStatus.STOPPED
    assert status_of(snap(end={"exit_reason": "complete"})) is RunStatus.FINISHED
    assert status_of(snap(pid_alive=True, end={"exit_reason": "complete"})) is RunStatus.FINISHED


def test_limits_of_reads_known_numeric_keys_only() -> None:
    limits = limits_of(
        {"max_cost": 3, "max_iterations": 5.0, "bogus": 1, "max_tokens": "many", "max_failures": True}
    )
    assert limits.max_cost == 3.0 and isinstance(limits.max_cost, float)
    assert limits.max_iterations == 5 and isinstance(limits.max_iterations, int)
    assert limits.max_tokens == 0
    assert limits.max_failures == Limits().max_failures


def test_gauges_only_for_limits_that_are_on_in_check_order() -> None:
    limits = Limits(max_iterations=10, max_cost=2.0, max_api_calls=100, max_failures=3)
    totals = Totals(started_at=T0, last_progress_at=T0, iterations=4, cost=1.5, api_calls_remote=20)
    gauges = gauges_of(limits, totals, elapsed_s=50.0)
    assert [g.guard for g in gauges] == ["max_iterations", "cost_limit", "api_call_limit", "circuit_breaker"]
    assert [round(g.pct) for g in gauges] == [40, 75, 20, 0]


def test_nearest_guard_is_the_highest_share_first_of_equals() -> None:
    assert nearest_guard([]) is None
    a, b, c = Gauge("cost_limit", 1, 4), Gauge("wall_time", 30, 60), Gauge("token_limit", 5, 10)
    assert nearest_guard([a, b, c]) == b
    assert Gauge("cost_limit", 1, 0).pct == 0.0


def test_running_frame_fields() -> None:
    start = {
        "profile": "hybrid",
        "simulated": True,
        "config_snapshot": {"context_compact_pct": 70, "context_kill_pct": 90},
    }
    stages = (
        {"run_id": "r", "stage": "BUILD", "model": "sim-large"},
        {"stage": "VERIFY", "model": "sim-small"},
    )
    frame = build_frame(snap(start=start, stages=stages, task_name="Split the heap", tasks_total=9), T0 + 100)
    assert frame.status is RunStatus.RUNNING
    assert frame.simulated and frame.profile == "hybrid" and frame.spec == "tinyrt.md"
    pos = frame.position
    assert (pos.stage, pos.stage_running, pos.model) == ("BUILD", True, "sim-large")
    assert (pos.task_id, pos.task_name, pos.iteration, pos.run_iterations) == (
        "t-0000abcd",
        "Split the heap",
        4,
        2,
    )
    usage = frame.usage
    assert (usage.cost, usage.tokens, usage.calls_remote, usage.calls_local) == (0.5, 12_000, 7, 3)
    assert (usage.context_pct, usage.context_compact_pct, usage.context_kill_pct) == (41.5, 70.0, 90.0)
    assert [g.guard for g in frame.gauges] == ["max_iterations", "wall_time", "cost_limit"]
    assert frame.nearest is not None and (frame.nearest.guard, frame.nearest.pct) == ("cost_limit", 25.0)
    assert frame.tripped is None


def test_elapsed_runs_on_the_run_clock_extrapolated_while_running() -> None:
    # a simulated run's clock is ahead of real time: 100 s of run time were saved at real time T0 - 500
    ahead = snap(state_mtime=T0 - 500)
    assert build_frame(ahead, T0 - 490).usage.elapsed_s == pytest.approx(110)
    assert build_frame(snap(pid_alive=False, state_mtime=T0 - 500), T0).usage.elapsed_s == pytest.approx(100)
    finished = snap(end={"exit_reason": "wall_time", "duration_s": 1000.5})
    assert build_frame(finished, T0 + 5000).usage.elapsed_s == 1000.5


def test_wall_time_nearest_and_tripped() -> None:
    near = build_frame(snap(), T0 + 850)
    assert near.nearest is not None and near.nearest.guard == "wall_time"
    assert near.nearest.pct == pytest.approx(85.0)
    assert near.tripped is None
    over = build_frame(snap(state=state(totals={"cost": 2.5})), T0 + 100)
    assert over.tripped == "cost_limit"
    assert build_frame(snap(pid_alive=False, state=state(totals={"cost": 2.5})), T0).tripped is None


def test_stopped_and_finished_frames() -> None:
    stopped = build_frame(snap(pid_alive=False), T0 + 100)
    assert stopped.status is RunStatus.STOPPED
    assert stopped.position.iteration == 3 and not stopped.position.stage_running
    done = build_frame(snap(end={"exit_reason": "max_iterations", "duration_s": 12.0}), T0 + 100)
    assert (done.status, done.exit_reason) == (RunStatus.FINISHED, "max_iterations")


def test_no_run_frame_keeps_only_repo_and_activity() -> None:
    frame = build_frame(RunSnapshot(repo=REPO, activity=("a",)), T0)
    assert frame.status is RunStatus.NO_RUN and frame.activity == ("a",) and frame.gauges == ()


def test_recent_kills_from_ledger_else_state_newest_last_capped() -> None:
    stages = [
        {"iteration": i, "stage": "BUILD", "task_id": f"t-{i}", "kill_reason": "timeout"} for i in range(8)
    ]
    stages.insert(3, {"iteration": 99, "stage": "VERIFY"})
    kills = recent_kills(stages, [{"reason": "context"}])
    assert [k.iteration for k in kills] == [3, 4, 5, 6, 7]
    assert {k.reason for k in kills} == {"timeout"}
    fallback = recent_kills([], [{"iteration": 2, "stage": "BUILD", "task_id": "t-1", "reason": "context"}])
    assert [(k.iteration, k.reason) for k in fallback] == [(2, "context")]


def test_frame_kills_and_simulated_from_state() -> None:
    frame = build_frame(
        snap(state=state(simulated=True), stages=({"kill_reason": "loop", "stage": "BUILD"},)), T0
    )
    assert frame.simulated
    assert [k.reason for k in frame.kills] == ["loop"]


def test_stall_loop_and_stage_timer_from_the_state_file() -> None:
    limits = {"progress_stall_abort_s": 600, "loop_detection_threshold": 4, "stage_timeout_s": 900.0}
    live = state(limits=limits, last_progress_at=T0 + 40, loop_repeats=3, stage_started_at=T0 + 70)
    frame = build_frame(snap(state=live), T0 + 100)
    gauges = {g.guard: (g.used, g.limit) for g in frame.gauges}
    assert gauges == {"progress_stall": (60.0, 600.0), "loop_detected": (3.0, 4.0)}
    assert frame.nearest is not None and frame.nearest.guard == "loop_detected"
    assert frame.stage_gauge is not None and (frame.stage_gauge.used, frame.stage_gauge.limit) == (
        30.0,
        900.0,
    )
    assert build_frame(snap(state=live.with_(running=False)), T0 + 100).stage_gauge is None


def test_an_exit_in_the_state_file_is_a_finished_run_without_an_end_record() -> None:
    ended = state(exit_reason="cost_limit", ended_at=T0 + 90, running=False)
    frame = build_frame(snap(state=ended, pid_alive=False), T0 + 100)
    assert (frame.status, frame.exit_reason) == (RunStatus.FINISHED, "cost_limit")
