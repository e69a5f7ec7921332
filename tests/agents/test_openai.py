"""OpenAIBackend against the scripted server over real HTTP on 127.0.0.1."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest
from tests.agents.recording import Recorder
from tests.fakes.model_server import ScriptedModelServer, Turn

from ralph.agents.base import BackendOptions, EventKind, Price, StageRequest
from ralph.agents.openai import OpenAIBackend, health_check
from ralph.errors import KillReason
from ralph.stage import Stage

ANSWER = '[RALPH_OUTPUT]\n{"keep": ["t-00000001"], "dropped": []}\n[/RALPH_OUTPUT]'


def backend_for(server: ScriptedModelServer, **extra: Any) -> OpenAIBackend:
    return OpenAIBackend(BackendOptions(extra={"base_url": f"{server.base_url}/v1", **extra}))


def ask(tmp_path: Path, prompt: str = "dedup these", **kw: Any) -> StageRequest:
    fields: dict[str, Any] = {"timeout_s": 20.0, "model": "local-model", "stage": Stage.DEDUP}
    fields.update(kw)
    return StageRequest(prompt=prompt, cwd=tmp_path, **fields)


def test_streamed_answer_usage_and_price(server: ScriptedModelServer, tmp_path: Path) -> None:
    server.script(Turn(text=ANSWER, input_tokens=900, cached_tokens=100, output_tokens=40))
    sink = Recorder()
    result = backend_for(server).run(ask(tmp_path, price=Price(input=2.0, cached=1.0, output=10.0)), sink)
    assert result.ok, result.detail
    assert result.text == ANSWER
    assert len(sink.of(EventKind.TEXT)) > 1, "the answer arrives as deltas"
    assert (result.usage.input, result.usage.cached, result.usage.output) == (900, 100, 40)
    assert result.cost == pytest.approx((900 * 2 + 100 * 1 + 40 * 10) / 1e6)
    assert result.calls[0].endpoint == f"{server.base_url}/v1"
    body = server.main_requests[0].body
    assert body["stream"] is True and "tools" not in body and body["model"] == "local-model"


def test_local_call_is_free_and_counted_local(server: ScriptedModelServer, tmp_path: Path) -> None:
    server.script(Turn(text=ANSWER, input_tokens=5000, output_tokens=500))
    result = backend_for(server).run(ask(tmp_path, is_local=True, price=Price(input=5.0)), Recorder())
    assert result.cost == 0.0 and result.calls[0].is_local and result.usage.total == 5500


def test_provider_prefix_picks_the_base_url(server: ScriptedModelServer, tmp_path: Path) -> None:
    server.script(Turn(text=ANSWER))
    options = BackendOptions(extra={"providers": {"llamacpp": {"base_url": f"{server.base_url}/v1"}}})
    result = OpenAIBackend(options).run(ask(tmp_path, model="llamacpp/devstral"), Recorder())
    assert result.ok, result.detail
    assert server.main_requests[0].body["model"] == "devstral"


def test_continuation_resends_the_conversation(server: ScriptedModelServer, tmp_path: Path) -> None:
    server.script(Turn(text="no block, sorry"), Turn(text=ANSWER))
    backend = backend_for(server)
    first = backend.run(ask(tmp_path, "FIRST-TASK"), Recorder())
    second = backend.run(ask(tmp_path, "REPAIR-NOW", session_id=first.session_id), Recorder())
    assert second.ok and second.session_id == first.session_id
    roles = [m["role"] for m in server.main_requests[1].body["messages"]]
    assert roles == ["user", "assistant", "user"]
    assert "no block, sorry" in server.main_requests[1].text()


@pytest.mark.parametrize(
    ("turn", "needle"),
    [
        (Turn(status=500, error_message="boom"), "HTTP 500"),
        (Turn(status=401, error_message="bad key"), "HTTP 401"),
        (
            Turn(status=400, error_message="request exceeds the available context size (8192 tokens)"),
            "context",
        ),
        (Turn(break_stream=True), "stream ended"),
        (Turn(drop_connection=True), "endpoint"),
    ],
)
def test_endpoint_failures_are_infra(
    server: ScriptedModelServer, tmp_path: Path, turn: Turn, needle: str
) -> None:
    server.script(turn)
    result = backend_for(server).run(ask(tmp_path), Recorder())
    assert result.failure is KillReason.INFRA, result.detail
    assert needle in result.detail


def test_connection_refused_is_infra(tmp_path: Path) -> None:
    result = OpenAIBackend(BackendOptions(extra={"base_url": "http://127.0.0.1:9/v1"})).run(
        ask(tmp_path), Recorder()
    )
    assert result.failure is KillReason.INFRA and "127.0.0.1:9" in result.detail


def test_rate_limit_reports_the_reset(server: ScriptedModelServer, tmp_path: Path) -> None:
    server.script(Turn(status=429, headers={"Retry-After": "30"}, error_message="slow down"))
    sink = Recorder()
    result = backend_for(server).run(ask(tmp_path), sink)
    assert result.failure is KillReason.INFRA and result.rate_limit_reset_s == 30.0
    assert sink.of(EventKind.RATE_LIMIT)


def test_hanging_endpoint_times_out(server: ScriptedModelServer, tmp_path: Path) -> None:
    server.script(Turn(hang=True))
    started = time.monotonic()
    result = backend_for(server).run(ask(tmp_path, timeout_s=1.5), Recorder())
    assert result.failure is KillReason.TIMEOUT
    assert time.monotonic() - started < 1.5 + 2.0


def test_context_pressure_from_reported_usage(server: ScriptedModelServer, tmp_path: Path) -> None:
    server.script(Turn(text=ANSWER, input_tokens=9_700, output_tokens=10))
    result = backend_for(server).run(ask(tmp_path, context_window=10_000, context_kill_pct=95.0), Recorder())
    assert result.failure is KillReason.CONTEXT


def test_health_check(server: ScriptedModelServer) -> None:
    ok, detail = health_check(f"{server.base_url}/v1")
    assert ok and "fake-model" in detail
    down, why = health_check("http://127.0.0.1:9/v1", timeout_s=1.0)
    assert not down and "unreachable" in why
