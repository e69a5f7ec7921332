"""SimBackend stage by stage: outputs follow the stage contracts, choices are seeded, every failure mode is
reachable, time is virtual, cost and tokens are reported, and the repository really changes."""

from __future__ import annotations

import subprocess
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest

from ralph.agents.base import (
    AgentBackend,
    AgentEvent,
    BackendOptions,
    EventKind,
    Price,
    StageRequest,
    StageResult,
)
from ralph.agents.sim import SimBackend
from ralph.clock import VirtualClock
from ralph.errors import FailureKind
from ralph.output import parse_output, quality_errors
from ralph.scenarios import create_scenario, load_scenario
from ralph.stage import Stage

SCENARIO = load_scenario("c-runtime-refactor")
SPEC = f"ralph/specs/{SCENARIO.spec}"


class Sink:
    def __init__(self) -> None:
        self.events: list[AgentEvent] = []

    def emit(self, event: AgentEvent) -> None:
        self.events.append(event)

    def kinds(self) -> set[EventKind]:
        return {e.kind for e in self.events}


@pytest.fixture(scope="module")
def pristine(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return create_scenario(SCENARIO.name, tmp_path_factory.mktemp("pristine") / "repo").repo


@pytest.fixture
def repo(pristine: Path, tmp_path: Path) -> Path:
    dest = tmp_path / "repo"
    subprocess.run(["git", "clone", "-q", "--no-hardlinks", str(pristine), str(dest)], check=True)
    return dest


def backend(seed: int = 0, clock: VirtualClock | None = None, **models: Mapping[str, Any]) -> SimBackend:
    extra: dict[str, Any] = {"sim_seed": seed, "sim_models": dict(models)}
    return SimBackend(BackendOptions(clock=clock or VirtualClock(), extra=extra))


def ticket(key: str, **fields: Any) -> dict[str, Any]:
    task = SCENARIO.task(key)
    number = [t.key for t in SCENARIO.iter_tasks()].index(key)
    data = {"id": f"t-{number:08x}", "name": task.name, "notes": task.notes}
    return data | {"accept": task.accept, "check": task.check, "labels": list(task.labels)} | fields


def run(
    sim: AgentBackend,
    stage: Stage,
    repo: Path,
    model: str = "sim/opus-4.6",
    timeout_s: float = 1800,
    **payload: Any,
) -> tuple[StageResult, Sink]:
    sink = Sink()
    request = StageRequest(
        stage=stage, prompt="p", model=model, cwd=repo, timeout_s=timeout_s, payload=payload
    )
    return sim.run(request, sink), sink


def status(repo: Path) -> str:
    return subprocess.run(
        ["git", "-C", str(repo), "status", "--porcelain"], capture_output=True, text=True
    ).stdout


def sh(command: str, repo: Path) -> int:
    return subprocess.run(["sh", "-c", command], cwd=repo, capture_output=True).returncode


def test_plan_answers_the_scenario_tasks(repo: Path) -> None:
    clock = VirtualClock()
    real, virtual = time.monotonic(), clock.now()
    result, sink = run(backend(clock=clock), Stage.PLAN, repo, spec=SPEC, attempt=0, retry=0)
    parsed = parse_output(Stage.PLAN, result.text)
    assert parsed.ok and parsed.data is not None, parsed.errors
    assert quality_errors(Stage.PLAN, parsed.data, repo=repo) == []
    tasks = parsed.data["tasks"]
    assert [t["labels"][0] for t in tasks] == [f"sim:{t.key}" for t in SCENARIO.tasks]
    context = next(t for t in tasks if t["labels"][0] == "sim:context-struct")
    assert context["deps"] == [0, 1, 2, 3] and context["labels"][1] == "phase:1"
    assert result.simulated and result.session_id and result.session_id.startswith("sim-")
    assert len(result.calls) == 3 and all(c.simulated for c in result.calls)
    assert clock.now() - virtual == pytest.approx(sum(c.latency_s for c in result.calls), abs=1.0)
    assert time.monotonic() - real < 2.0 < sum(c.latency_s for c in result.calls)
    assert {EventKind.SESSION, EventKind.TEXT, EventKind.STEP, EventKind.USAGE} <= sink.kinds()
    assert all("[simulated opus-4.6]" in e.text for e in sink.events if e.kind is EventKind.TEXT)


def test_plan_of_unknown_spec_is_an_agent_error(repo: Path) -> None:
    result, _ = run(backend(), Stage.PLAN, repo, spec="ralph/specs/other.md")
    assert result.failure is FailureKind.AGENT_ERROR and "no bundled scenario" in result.detail


def test_build_success_really_edits_and_costs_what_the_price_says(repo: Path) -> None:
    price = Price(input=10.0, cached=1.0, output=50.0)
    sink = Sink()
    request = StageRequest(
        stage=Stage.BUILD,
        prompt="p",
        model="sim/opus-4.6",
        cwd=repo,
        timeout_s=1800,
        price=price,
        payload={"task": ticket("rename-gc"), "attempt": 0, "retry": 0},
    )
    result = backend().run(request, sink)
    parsed = parse_output(Stage.BUILD, result.text)
    assert parsed.ok and parsed.data and parsed.data["verdict"] == "done"
    assert "include/gc.h" in status(repo) and sh(SCENARIO.task("rename-gc").check, repo) == 0
    usage = result.usage
    expected = (usage.input * 10.0 + usage.cached * 1.0 + usage.output * 50.0) / 1_000_000
    assert result.cost == pytest.approx(expected) and result.cost > 0
    edits = [e for e in sink.events if e.kind is EventKind.TOOL_CALL and e.tool == "edit"]
    assert '{"path":"include/gc.h"}' in [e.tool_input for e in edits]
    usages = [e for e in sink.events if e.kind is EventKind.USAGE]
    assert usages and all(e.context_used and e.context_size == 200_000 for e in usages)
    assert result.context_used == usages[-1].context_used


def test_same_seed_same_choices_other_seed_differs(pristine: Path, tmp_path: Path) -> None:
    def trace(seed: int, name: str) -> list[Any]:
        dest = tmp_path / name
        subprocess.run(["git", "clone", "-q", str(pristine), str(dest)], check=True)
        sim = backend(seed)
        out: list[Any] = []
        for key in ("rename-heap", "rename-str", "rename-value", "rename-gc"):
            result, _ = run(sim, Stage.BUILD, dest, model="sim/devstral-small-2", task=ticket(key), attempt=0)
            out.append((result.text, result.failure, [(c.usage, c.latency_s) for c in result.calls]))
        out.append(status(dest))
        return out

    assert trace(7, "a") == trace(7, "b")
    assert trace(7, "a2") != trace(8, "c")


def test_attempt_from_the_ticket_when_the_payload_has_none(repo: Path) -> None:
    sim = backend(5)
    first, _ = run(sim, Stage.DECOMPOSE, repo, task=ticket("rename-heap", retries=1, kill_count=1))
    second, _ = run(sim, Stage.DECOMPOSE, repo, task=ticket("rename-heap"), attempt=2)
    assert [c.latency_s for c in first.calls] == [c.latency_s for c in second.calls]


def only(mode: str, **more: Any) -> dict[str, Any]:
    return {"skill": 0.0, "failure_modes": {mode: 1.0}} | more


def test_timeout_consumes_the_stage_timeout_and_leaves_a_partial_change(repo: Path) -> None:
    clock = VirtualClock()
    start = clock.now()
    sim = backend(clock=clock, **{"sim/opus-4.6": only("timeout")})
    result, _ = run(sim, Stage.BUILD, repo, timeout_s=600, task=ticket("rename-heap"), attempt=0)
    assert result.failure is FailureKind.TIMEOUT and "simulated timeout" in result.detail
    assert clock.now() - start == pytest.approx(600, abs=2.0)
    assert status(repo) and sh(SCENARIO.task("rename-heap").check, repo) != 0
    assert "[RALPH_OUTPUT]" not in result.text


def test_context_overflow_reports_occupancy_past_the_kill_threshold(repo: Path) -> None:
    sim = backend(**{"sim/opus-4.6": only("context")})
    result, sink = run(sim, Stage.BUILD, repo, task=ticket("rename-value"), attempt=0)
    assert result.failure is FailureKind.CONTEXT
    assert result.context_used >= 0.95 * 200_000
    assert sink.events[-1].kind is EventKind.USAGE and sink.events[-1].context_used == result.context_used


def test_malformed_output_is_repaired_on_retry_without_new_edits(repo: Path) -> None:
    sim = backend(**{"sim/opus-4.6": only("malformed", repair=1.0)})
    task = ticket("rename-str")
    first, _ = run(sim, Stage.BUILD, repo, task=task, attempt=0, retry=0)
    assert not parse_output(Stage.BUILD, first.text).ok
    changed = status(repo)
    assert changed
    second, _ = run(sim, Stage.BUILD, repo, task=task, attempt=0, retry=1)
    parsed = parse_output(Stage.BUILD, second.text)
    assert parsed.ok and parsed.data and parsed.data["verdict"] == "done"
    assert status(repo) == changed and len(second.calls) == 1


def test_blocked_answers_validly_names_the_task_and_changes_nothing(repo: Path) -> None:
    sim = backend(**{"sim/opus-4.6": only("blocked")})
    result, _ = run(sim, Stage.BUILD, repo, task=ticket("rename-gc"), attempt=0)
    parsed = parse_output(Stage.BUILD, result.text)
    assert parsed.ok and parsed.data and parsed.data["verdict"] == "blocked"
    assert "sim:rename-gc" in parsed.data["issues"][0]["desc"]
    assert status(repo) == ""


@pytest.mark.parametrize("attempt", [0, 1, 2, 3])
def test_wrong_claims_done_but_the_check_fails_and_a_sharp_reviewer_says_so(repo: Path, attempt: int) -> None:
    sim = backend(**{"sim/opus-4.6": only("wrong", review=1.0)})
    task = ticket("rename-heap-alloc")
    result, _ = run(sim, Stage.BUILD, repo, task=task, attempt=attempt)
    parsed = parse_output(Stage.BUILD, result.text)
    assert parsed.ok and parsed.data and parsed.data["verdict"] == "done"
    assert status(repo) and sh(task["check"], repo) != 0
    review, sink = run(sim, Stage.VERIFY, repo, tasks=[task], attempt=attempt)
    verdict = parse_output(Stage.VERIFY, review.text)
    assert verdict.ok and verdict.data and verdict.data["results"][0]["passed"] is False
    assert any(e.kind is EventKind.TOOL_CALL and e.tool == "bash" for e in sink.events)


def test_a_blind_reviewer_passes_a_failing_check(repo: Path) -> None:
    sim = backend(**{"sim/sonnet-4.5": {"review": 0.0}})
    result, _ = run(sim, Stage.VERIFY, repo, model="sim/sonnet-4.5", tasks=[ticket("rename-heap")], attempt=0)
    data = parse_output(Stage.VERIFY, result.text).data
    assert data and data["results"][0]["passed"] is True
    assert "misjudges" in data["results"][0]["reason"]


def test_non_build_stages_fail_sometimes_and_succeed_sometimes(repo: Path) -> None:
    sim = backend(**{"sim/opus-4.6": only("malformed")})
    outcomes = set()
    for attempt in range(12):
        result, _ = run(sim, Stage.DECOMPOSE, repo, task=ticket("rename-heap"), attempt=attempt)
        outcomes.add(parse_output(Stage.DECOMPOSE, result.text).ok)
    assert outcomes == {True, False}


def test_decompose_known_task_gives_its_subtasks(repo: Path) -> None:
    result, _ = run(backend(), Stage.DECOMPOSE, repo, task=ticket("lifecycle-api"), attempt=0)
    data = parse_output(Stage.DECOMPOSE, result.text).data
    assert data is not None
    assert [s["labels"][0] for s in data["subtasks"]] == ["sim:lifecycle-init", "sim:lifecycle-shutdown"]
    assert data["subtasks"][1]["deps"] == [0]


def test_decompose_subtask_splits_its_ops_and_parts_build(repo: Path) -> None:
    sim = backend()
    result, _ = run(sim, Stage.DECOMPOSE, repo, task=ticket("rename-heap-alloc"), attempt=0)
    data = parse_output(Stage.DECOMPOSE, result.text).data
    assert data is not None
    parts = data["subtasks"]
    assert [p["labels"][0] for p in parts] == ["sim:rename-heap-alloc#1/2", "sim:rename-heap-alloc#2/2"]
    first, _ = run(sim, Stage.BUILD, repo, task={**parts[0], "id": "t-00000001"}, attempt=0)
    assert parse_output(Stage.BUILD, first.text).ok
    assert sh("grep -rqw rt_heap_alloc src && grep -rqw heap_used src && make -s test", repo) == 0


def test_decompose_unknown_task_is_a_generic_split(repo: Path) -> None:
    task = {"id": "t-0000000a", "name": "Port the runtime to Rust", "notes": "all of src/", "accept": "x"}
    result, _ = run(backend(), Stage.DECOMPOSE, repo, task=task, attempt=0)
    data = parse_output(Stage.DECOMPOSE, result.text).data
    assert data is not None and len(data["subtasks"]) == 2
    assert all(not s.get("labels") for s in data["subtasks"])
    built, _ = run(backend(), Stage.BUILD, repo, task=task, attempt=0)
    parsed = parse_output(Stage.BUILD, built.text).data
    assert parsed and parsed["verdict"] == "blocked" and "no known solution" in parsed["reason"]
    assert status(repo) == ""


def test_investigate_turns_named_issues_into_keyed_tasks(repo: Path) -> None:
    issues = [
        {"id": "i-00000001", "name": "[simulated] 'x' (sim:rename-gc-roots) does not hold: make fails"},
        {"id": "i-00000002", "name": "The README is out of date"},
        {"id": "i-00000003", "name": f"{SCENARIO.task('tests-str').name} misses a case"},
    ]
    result, _ = run(backend(), Stage.INVESTIGATE, repo, issues=issues, attempt=0)
    data = parse_output(Stage.INVESTIGATE, result.text).data
    assert data is not None
    assert [t["labels"][0] for t in data["tasks"]] == ["sim:rename-gc-roots", "sim:tests-str"]
    assert [t["created_from"] for t in data["tasks"]] == ["i-00000001", "i-00000003"]
    assert data["out_of_scope"] == ["i-00000002"]


def test_follow_up_task_already_satisfied_changes_nothing(repo: Path) -> None:
    sim = backend()
    run(sim, Stage.BUILD, repo, task=ticket("rename-heap"), attempt=0)
    subprocess.run(["git", "-C", str(repo), "commit", "-qam", "heap"], check=True)
    follow_up = ticket("rename-heap", created_from="i-00000001")
    result, _ = run(sim, Stage.BUILD, repo, task=follow_up, attempt=0)
    data = parse_output(Stage.BUILD, result.text).data
    assert data and data["verdict"] == "done" and "already satisfied" in data["summary"]
    assert status(repo) == ""


def test_follow_up_task_draws_fresh_choices(repo: Path) -> None:
    sim = backend()
    first, _ = run(sim, Stage.BUILD, repo, task=ticket("context-struct"), attempt=0)
    subprocess.run(["git", "-C", str(repo), "checkout", "-q", "."], check=True)
    subprocess.run(["git", "-C", str(repo), "clean", "-qfd"], check=True)
    follow_up = ticket("context-struct", name="Fix: context", created_from="i-00000001")
    second, _ = run(sim, Stage.BUILD, repo, task=follow_up, attempt=0)
    assert [c.latency_s for c in first.calls] != [c.latency_s for c in second.calls]


def test_dedup_keeps_everything(repo: Path) -> None:
    pending = [{"id": "t-00000001"}, {"id": "t-00000002"}]
    result, _ = run(backend(), Stage.DEDUP, repo, pending=pending, attempt=0)
    assert parse_output(Stage.DEDUP, result.text).data == {
        "keep": ["t-00000001", "t-00000002"],
        "dropped": [],
    }
