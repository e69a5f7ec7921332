"""The console lines of `ralph construct` (pure formatting)."""

from __future__ import annotations

from ralph.errors import ExitReason
from ralph.loop.console import (
    EXIT_HINTS,
    StageLine,
    Verdicts,
    exit_line,
    iteration_line,
    outcome_text,
    stage_line,
    subject,
)


def test_stage_line_names_task_outcome_model_cost_and_duration() -> None:
    line = StageLine(
        stage="BUILD",
        subject=subject("t-0000abcd", "Split the heap into arenas and a free list with size classes"),
        outcome="done, to VERIFY",
        model="sim/opus-4.6",
        label="[simulated]",
        cost=0.01234,
        duration_s=75.0,
        validation_retries=1,
    )
    text = stage_line(line)
    assert text.startswith("  BUILD       t-0000abcd Split the heap into arenas and a free l…: done")
    assert text.endswith("(1 validation retry) | sim/opus-4.6 [simulated] | $0.0123 | 1m15s")
    assert subject(None, "", 3) == "batch of 3" and subject(None, "") == "-"


def test_outcomes_say_what_happened() -> None:
    none = Verdicts()
    assert outcome_text("BUILD", False, "timeout", None, none) == "failed: timeout"
    assert outcome_text("BUILD", False, None, {"verdict": "blocked", "reason": "no header"}, none) == (
        "failed: blocked (no header)"
    )
    assert outcome_text("VERIFY", False, None, None, none) == "failed: no valid output"
    assert outcome_text("VERIFY", True, None, None, Verdicts(accepted=1)) == "accepted"
    rejected = Verdicts(rejected=(("t-1", "tests fail"),), issues=1, parked=True)
    assert (
        outcome_text("VERIFY", True, None, None, rejected)
        == "rejected: tests fail, 1 issue(s) raised, parked"
    )
    mixed = Verdicts(accepted=2, rejected=(("t-1", "tests fail"),))
    assert outcome_text("VERIFY", True, None, None, mixed) == "accepted 2, rejected 1 (t-1: tests fail)"
    assert outcome_text("DECOMPOSE", True, None, None, Verdicts(added=3)) == "decomposed into 3"
    assert outcome_text("BUILD", False, "infra", None, none).startswith("infra failure")


def test_iteration_and_exit_lines() -> None:
    text = iteration_line(3, 2, 9, 0.5, 7, 12, 3725.0)
    assert (
        text
        == "iteration 3 done: 2/9 tasks accepted, $0.5000 so far, calls 7 remote / 12 local, 1h02m elapsed"
    )
    assert exit_line(ExitReason.MAX_ITERATIONS).startswith("exit: max_iterations - ")
    assert "--max-iterations" in exit_line(ExitReason.MAX_ITERATIONS)
    assert exit_line(ExitReason.INTERRUPTED, "stopped by SIGINT").startswith(
        "exit: interrupted (stopped by SIGINT)"
    )
    assert set(EXIT_HINTS) == set(ExitReason)
