"""The guard policy: each limit produces its exit reason; context and infra decisions."""

from __future__ import annotations

from dataclasses import replace

import pytest

from ralph.errors import ExitReason
from ralph.loop.guards import (
    ContextAction,
    Limits,
    LoopDetector,
    Totals,
    check_limits,
    context_action,
    fingerprint,
    guard_uses,
    infra_decision,
    nearest_guard,
    stage_timeout,
)
from ralph.stage import Stage

T0 = 1_000_000.0


def _totals(**kw: object) -> Totals:
    return replace(Totals(started_at=T0, last_progress_at=T0), **kw)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("limits", "totals", "now", "reason"),
    [
        (Limits(max_iterations=3), _totals(iterations=3), T0, ExitReason.MAX_ITERATIONS),
        (Limits(max_wall_time_s=60), _totals(), T0 + 60, ExitReason.WALL_TIME),
        (Limits(max_cost=1.0), _totals(cost=1.01), T0, ExitReason.COST_LIMIT),
        (Limits(max_tokens=100), _totals(tokens=100), T0, ExitReason.TOKEN_LIMIT),
        (
            Limits(max_api_calls=5),
            _totals(api_calls_remote=5, api_calls_local=50),
            T0,
            ExitReason.API_CALL_LIMIT,
        ),
        (Limits(max_failures=3), _totals(consecutive_failures=3), T0, ExitReason.CIRCUIT_BREAKER),
        (Limits(progress_stall_abort_s=30), _totals(), T0 + 31, ExitReason.PROGRESS_STALL),
        (Limits(loop_detection_threshold=3), _totals(loop_repeats=3), T0, ExitReason.LOOP_DETECTED),
    ],
)
def test_each_limit_yields_its_reason(limits: Limits, totals: Totals, now: float, reason: ExitReason) -> None:
    assert check_limits(limits, totals, now, iteration_start=True) is reason
    assert (
        check_limits(limits, Totals(started_at=now, last_progress_at=now), now, iteration_start=True) is None
    )


def test_zero_means_off_and_local_calls_are_free() -> None:
    totals = _totals(
        iterations=10**6, cost=1e9, tokens=10**12, api_calls_remote=10**6, consecutive_failures=99
    )
    assert check_limits(Limits(), totals, T0 + 10**9, iteration_start=True) is None
    assert check_limits(Limits(max_api_calls=1), _totals(api_calls_local=9), T0, iteration_start=True) is None


def test_max_iterations_waits_for_the_iteration_to_end() -> None:
    limits = Limits(max_iterations=1)
    assert check_limits(limits, _totals(iterations=1), T0, iteration_start=False) is None
    assert check_limits(limits, _totals(iterations=1), T0, iteration_start=True) is ExitReason.MAX_ITERATIONS


def test_breaker_counts_consecutive_failures_and_infra_only_when_repeated() -> None:
    totals = _totals()
    totals = totals.after_stage(failed=True).after_stage(failed=True)
    assert totals.consecutive_failures == 2
    assert totals.after_stage(failed=False).consecutive_failures == 0
    once = _totals().after_stage(failed=True, infra=True)
    assert once.consecutive_failures == 0
    assert once.after_stage(failed=True, infra=True).consecutive_failures == 1


def test_stage_timeout_never_outlives_the_wall_time() -> None:
    limits = Limits(stage_timeout_s=900, max_wall_time_s=1000)
    assert stage_timeout(limits, _totals(), T0) == 900
    assert stage_timeout(limits, _totals(), T0 + 950) == 50
    assert stage_timeout(Limits(stage_timeout_s=900), _totals(), T0 + 10**6) == 900


@pytest.mark.parametrize(
    ("used", "action"),
    [
        (0, ContextAction.NONE),
        (84_000, ContextAction.NONE),
        (85_000, ContextAction.COMPACT),
        (95_000, ContextAction.KILL),
    ],
)
def test_context_thresholds(used: int, action: ContextAction) -> None:
    assert context_action(used, 100_000, 85, 95) is action


def test_infra_waits_for_a_known_reset_within_budget() -> None:
    assert infra_decision(30.0, 0.0, 900.0, 1).wait_s == 30.0
    capped = infra_decision(600.0, 500.0, 900.0, 1)
    assert capped.wait_s == 400.0 and not capped.retry
    assert infra_decision(None, 0.0, 900.0, 1).retry
    assert not infra_decision(None, 0.0, 900.0, 2).retry


def test_loop_detector_counts_identical_consecutive_fingerprints() -> None:
    detector = LoopDetector()
    same = fingerprint(Stage.VERIFY, ["t-1"], ["t-1:done", "t-2:pending"], "diff")
    other = fingerprint(Stage.VERIFY, ["t-1"], ["t-2:pending", "t-1:done"], "diff2")
    assert same == fingerprint(Stage.VERIFY, ["t-1"], ["t-2:pending", "t-1:done"], "diff")
    assert detector.observe(same) == 1
    assert detector.observe(same) == 2
    assert detector.observe(other) == 1
    assert detector.observe(same) == 1
    assert detector.observe(same) == 2


def test_nearest_guard_is_the_highest_fraction_of_the_limits_that_are_on() -> None:
    limits = Limits(max_iterations=10, max_cost=2.0, progress_stall_abort_s=600, loop_detection_threshold=3)
    totals = _totals(iterations=4, cost=0.5, loop_repeats=2, last_progress_at=T0 + 100)
    uses = guard_uses(limits, totals, T0 + 400)
    assert [(u.guard, u.used, u.limit) for u in uses] == [
        ("max_iterations", 4.0, 10.0),
        ("cost_limit", 0.5, 2.0),
        ("progress_stall", 300.0, 600.0),
        ("loop_detected", 2.0, 3.0),
    ]
    nearest = nearest_guard(limits, totals, T0 + 400)
    assert nearest is not None and nearest.guard == "loop_detected"
    assert nearest.fraction == pytest.approx(2 / 3)
    assert nearest_guard(Limits(stage_timeout_s=60), totals, T0) is None
