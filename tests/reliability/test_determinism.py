"""A resumed or repeated simulated run must make the same choices as the first: neither the sim's outcomes
nor the loop's choice of task may depend on ticket ids (random per run); a later attempt draws anew."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ralph.agents.base import BackendOptions, NullSink, StageRequest
from ralph.agents.sim import SimBackend
from ralph.clock import VirtualClock
from ralph.loop.stages import TaskView, buildable
from ralph.stage import Stage

FLAKY = {"skill": [0.5] * 5, "failure_modes": {"timeout": 1.0}, "review": 1.0}


def _outcome(stage: Stage, tmp_path: Path, key: str, items: list[dict[str, Any]]) -> str:
    sim = SimBackend(BackendOptions(clock=VirtualClock(), extra={"sim_models": {"sim/flaky": FLAKY}}))
    request = StageRequest(
        stage=stage, prompt="p", model="sim/flaky", cwd=tmp_path, timeout_s=60, payload={key: items}
    )
    result = sim.run(request, NullSink())
    return result.failure.value if result.failure else "answered"


def _task(number: int, attempt: int = 0) -> dict[str, Any]:
    return {"id": f"t-{number:08x}", "name": "Tidy the build script", "check": "", "attempt": attempt}


def _issue(number: int) -> dict[str, Any]:
    return {"id": f"i-{number:08x}", "name": "The build script prints a warning", "type": "issue"}


def test_verify_outcome_follows_the_task_not_its_id(tmp_path: Path) -> None:
    outcomes = {_outcome(Stage.VERIFY, tmp_path, "tasks", [_task(n)]) for n in range(12)}
    assert len(outcomes) == 1


def test_verify_outcome_is_drawn_anew_on_a_later_attempt(tmp_path: Path) -> None:
    outcomes = {_outcome(Stage.VERIFY, tmp_path, "tasks", [_task(1, attempt)]) for attempt in range(12)}
    assert outcomes == {"timeout", "answered"}


def test_investigate_outcome_follows_the_issue_not_its_id(tmp_path: Path) -> None:
    outcomes = {_outcome(Stage.INVESTIGATE, tmp_path, "issues", [_issue(n)]) for n in range(12)}
    assert len(outcomes) == 1


def test_task_choice_breaks_ties_by_creation_order_not_by_id() -> None:
    batch = [
        TaskView(id=tid, status="pending", created_at=1.0) for tid in ("t-ffff0000", "t-0000ffff", "t-88")
    ]
    assert [t.id for t in buildable(batch)] == ["t-ffff0000", "t-0000ffff", "t-88"]
