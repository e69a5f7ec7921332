"""A small in-test driver (plan -> build each task -> verify, with reverts and commits) runs the sim on the
bundled scenario with real git and real make, and finishes phase 0 (and, in the slow variant, everything)."""

from __future__ import annotations

import subprocess
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from ralph.agents.base import AgentEvent, BackendOptions, StageRequest, StageResult
from ralph.agents.sim import SimBackend
from ralph.clock import VirtualClock
from ralph.output import parse_output
from ralph.scenarios import create_scenario, load_scenario
from ralph.stage import Stage

SCENARIO = load_scenario("c-runtime-refactor")


class Sink:
    def __init__(self) -> None:
        self.events: list[AgentEvent] = []

    def emit(self, event: AgentEvent) -> None:
        self.events.append(event)


@dataclass
class Driver:
    repo: Path
    backend: SimBackend
    reasoning: str
    builder: str
    sink: Sink = field(default_factory=Sink)
    results: list[tuple[Stage, StageResult]] = field(default_factory=list)

    def call(self, stage: Stage, model: str, payload: Mapping[str, Any]) -> dict[str, Any] | None:
        """One stage with up to two repair retries; the parsed output or None."""
        for retry in range(3):
            request = StageRequest(
                stage=stage,
                prompt=f"{stage.value} prompt",
                model=model,
                cwd=self.repo,
                timeout_s=1800,
                is_local=model.endswith("devstral-small-2"),
                payload={**payload, "retry": retry},
            )
            result = self.backend.run(request, self.sink)
            self.results.append((stage, result))
            if result.failure is not None:
                return None
            parsed = parse_output(stage, result.text)
            if parsed.ok:
                return parsed.data
        return None

    def plan(self) -> list[dict[str, Any]]:
        data = self.call(Stage.PLAN, self.reasoning, {"spec": f"ralph/specs/{SCENARIO.spec}"})
        assert data is not None
        return [{**task, "id": f"t-{index:08x}"} for index, task in enumerate(data["tasks"])]

    def work(self, task: dict[str, Any], max_attempts: int = 6) -> int:
        """Build and verify ``task`` until accepted; returns the attempts used (0 = never accepted)."""
        for attempt in range(max_attempts):
            payload = {"task": {**task, "retries": attempt}, "attempt": attempt}
            built = self.call(Stage.BUILD, self.builder, payload)
            verdict = self.call(Stage.VERIFY, self.reasoning, {"tasks": [task], "attempt": attempt})
            accepted = built is not None and built["verdict"] == "done"
            accepted = accepted and verdict is not None and verdict["results"][0]["passed"]
            if accepted:
                git(self.repo, "add", "-A")
                git(self.repo, "commit", "-q", "-m", f"sim: {task['name']}")
                return attempt + 1
            git(self.repo, "reset", "-q", "--hard")
            git(self.repo, "clean", "-qfd")
        return 0


def git(repo: Path, *args: str) -> str:
    return subprocess.run(["git", "-C", str(repo), *args], capture_output=True, text=True, check=True).stdout


def gate(repo: Path, label: str) -> bool:
    command = next(g.command for g in SCENARIO.gates if g.label == label)
    return subprocess.run(["sh", "-c", command], cwd=repo, capture_output=True).returncode == 0


def make_driver(tmp_path: Path, reasoning: str, builder: str, seed: int = 0) -> tuple[Driver, VirtualClock]:
    repo = tmp_path / "target"
    create_scenario(SCENARIO.name, repo)
    clock = VirtualClock()
    backend = SimBackend(BackendOptions(clock=clock, extra={"sim_seed": seed}))
    return Driver(repo, backend, reasoning, builder), clock


def test_strong_model_completes_phase_zero(tmp_path: Path) -> None:
    driver, clock = make_driver(tmp_path, "sim/opus-4.6", "sim/opus-4.6")
    real_start, virtual_start = time.monotonic(), clock.now()
    tasks = driver.plan()
    phase0 = [t for t in tasks if "phase:0" in t["labels"]]
    assert len(phase0) == 4 and not gate(driver.repo, "old-names")
    attempts = [driver.work(task) for task in phase0]
    assert all(attempts), attempts
    assert gate(driver.repo, "old-names")
    assert subprocess.run(["make", "-s", "test"], cwd=driver.repo, capture_output=True).returncode == 0
    assert git(driver.repo, "rev-list", "--count", "main..HEAD").strip() == "4"
    virtual = clock.now() - virtual_start
    real = time.monotonic() - real_start
    assert virtual > real + 4 * 60, "simulated latency must advance the virtual clock"
    assert all(result.simulated for _, result in driver.results)
    calls = [call for _, result in driver.results for call in result.calls]
    assert calls and all(call.simulated and call.backend == "sim" for call in calls)
    assert sum(call.cost for call in calls) > 0
    assert sum(result.usage.total for _, result in driver.results) > 0


def test_hybrid_build_calls_are_local_and_free(tmp_path: Path) -> None:
    driver, _ = make_driver(tmp_path, "sim/opus-4.6", "sim/devstral-small-2")
    tasks = driver.plan()
    driver.work(tasks[0])
    builds = [call for stage, r in driver.results if stage is Stage.BUILD for call in r.calls]
    reviews = [call for stage, r in driver.results if stage is Stage.VERIFY for call in r.calls]
    assert builds and all(c.is_local and c.cost == 0 and c.endpoint == "sim://local" for c in builds)
    assert reviews and all(not c.is_local and c.cost > 0 for c in reviews)


@pytest.mark.slow
def test_strong_model_completes_every_phase(tmp_path: Path) -> None:
    driver, _ = make_driver(tmp_path, "sim/opus-4.6", "sim/opus-4.6", seed=3)
    tasks = driver.plan()
    attempts = [driver.work(task) for task in tasks]
    assert all(attempts), attempts
    for g in SCENARIO.gates:
        assert gate(driver.repo, g.label), g.label
