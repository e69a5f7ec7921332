"""StageWatch and StageRun: the shared live enforcement and books, on synthetic event sequences."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from tests.agents.recording import Recorder

from ralph.agents.base import AgentEvent, BackendOptions, EventKind, ModelCall, StageRequest, Usage
from ralph.agents.stagerun import StageRun, classify_failure
from ralph.agents.watch import StageWatch
from ralph.clock import VirtualClock
from ralph.errors import KillReason
from ralph.stage import Stage


def request(**kw: Any) -> StageRequest:
    fields: dict[str, Any] = {
        "stage": Stage.BUILD,
        "prompt": "p",
        "model": "m",
        "cwd": Path("."),
        "timeout_s": 60.0,
    }
    fields.update(kw)
    return StageRequest(**fields)


def step(tokens: int) -> AgentEvent:
    call = ModelCall(backend="t", model="m", is_local=False, usage=Usage(input=tokens), cost=0.0)
    return AgentEvent(EventKind.STEP, call=call)


def tool(name: str = "read", args: str = '{"path":"a"}') -> AgentEvent:
    return AgentEvent(EventKind.TOOL_CALL, tool=name, tool_input=args)


def test_deadline_uses_the_clock() -> None:
    clock = VirtualClock()
    watch = StageWatch(request(timeout_s=10), clock)
    assert watch.check_deadline() is None
    clock.advance(9.9)
    assert watch.check_deadline() is None
    clock.advance(0.2)
    assert watch.check_deadline() is KillReason.TIMEOUT and "10s" in watch.detail


def test_empty_steps_count_only_consecutive_steps_without_tokens_or_output() -> None:
    watch = StageWatch(request(max_empty_steps=3), VirtualClock())
    for event in [
        step(0),
        step(0),
        step(50),
        step(0),
        AgentEvent(EventKind.TEXT, text="hi"),
        step(0),
        step(0),
        step(0),
    ]:
        assert watch.observe(event) is None
    assert watch.observe(step(0)) is KillReason.EMPTY_STEPS


def test_identical_tool_calls_in_a_row_are_a_loop() -> None:
    watch = StageWatch(request(max_identical_tool_calls=3), VirtualClock())
    for event in [tool(), tool(), tool(args='{"path":"b"}'), tool(), tool()]:
        assert watch.observe(event) is None
    assert watch.observe(tool()) is KillReason.LOOP


def test_context_kill_uses_the_reported_size_when_given() -> None:
    watch = StageWatch(request(context_window=200_000, context_kill_pct=90.0), VirtualClock())
    assert watch.observe(AgentEvent(EventKind.USAGE, context_used=150_000)) is None
    assert (
        watch.observe(AgentEvent(EventKind.USAGE, context_used=900, context_size=1000)) is KillReason.CONTEXT
    )
    assert watch.context_pct == pytest.approx(90.0)


def test_zero_limits_disable_the_checks() -> None:
    watch = StageWatch(request(max_empty_steps=0, max_identical_tool_calls=0, timeout_s=0), VirtualClock())
    for _ in range(50):
        assert watch.observe(step(0)) is None and watch.observe(tool()) is None
    assert watch.check_deadline() is None


def test_first_reason_is_kept() -> None:
    watch = StageWatch(request(max_identical_tool_calls=2, context_kill_pct=50.0), VirtualClock())
    watch.observe(tool())
    assert watch.observe(tool()) is KillReason.LOOP
    assert watch.observe(AgentEvent(EventKind.USAGE, context_used=199_000)) is KillReason.LOOP


@pytest.mark.parametrize(
    ("detail", "kind"),
    [
        ("API error 429 (rate_limit_error): slow down", KillReason.INFRA),
        ("API Error: 529 overloaded", KillReason.INFRA),
        ("APIError: Cannot connect to API: Unable to connect", KillReason.INFRA),
        ("endpoint HTTP 502: bad gateway", KillReason.INFRA),
        ("invalid x-api-key", KillReason.INFRA),
        ("request (8242 tokens) exceeds the available context size (8192 tokens)", KillReason.INFRA),
        ("the agent refused the prompt", KillReason.AGENT_ERROR),
        ("claude exited with code 1 without a result: TypeError", KillReason.AGENT_ERROR),
    ],
)
def test_failure_attribution(detail: str, kind: KillReason) -> None:
    assert classify_failure(detail) is kind


def test_stage_run_books_and_result() -> None:
    sink = Recorder()
    run = StageRun("t", request(), BackendOptions(clock=VirtualClock()), sink)
    events = [
        AgentEvent(EventKind.SESSION, text="s1"),
        AgentEvent(EventKind.TEXT, text="hello "),
        step(100),
        AgentEvent(EventKind.UNKNOWN, raw_type="brand_new"),
        AgentEvent(EventKind.RATE_LIMIT, text="warn", reset_s=12.0),
        AgentEvent(EventKind.TEXT, text="world"),
    ]
    for event in events:
        assert run.emit(event) is None
    result = run.result()
    assert sink.events == events
    assert (result.text, result.session_id, result.unknown_events) == ("hello world", "s1", 1)
    assert result.usage.input == 100 and result.rate_limit_reset_s == 12.0 and result.ok
    failed = StageRun("t", request(), BackendOptions(), Recorder()).result("endpoint HTTP 500: boom")
    assert failed.failure is KillReason.INFRA and failed.detail == "endpoint HTTP 500: boom"


def test_output_over_the_cap_spills_and_keeps_the_tail(tmp_path: Path) -> None:
    options = BackendOptions(output_cap_bytes=100, spill_dir=tmp_path)
    run = StageRun("t", request(), options, Recorder())
    for i in range(50):
        run.raw(f"line {i}")
        run.emit(AgentEvent(EventKind.TEXT, text=f"chunk {i:02d}|"))
    result = run.result()
    assert result.output_log is not None and result.output_log.parent == tmp_path
    assert result.output_log.read_text().splitlines() == [f"line {i}" for i in range(50)]
    assert len(result.text) <= 100 and result.text.endswith("chunk 49|")


def test_small_output_does_not_spill(tmp_path: Path) -> None:
    run = StageRun("t", request(), BackendOptions(spill_dir=tmp_path), Recorder())
    run.raw("tiny")
    assert run.result().output_log is None and not list(tmp_path.iterdir())
