"""AcpBackend against the scripted SDK agent (tests/fakes/acp_agent.py) as a real subprocess."""

from __future__ import annotations

import json
import re
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from tests.agents.procs import TAG_NAME, new_tag, tagged_pids
from tests.agents.recording import Recorder

from ralph.agents.acp import AcpBackend
from ralph.agents.base import BackendOptions, EventKind, StageRequest
from ralph.errors import KillReason
from ralph.stage import Stage

AGENT = Path(__file__).resolve().parents[1] / "fakes" / "acp_agent.py"


@pytest.fixture
def tag() -> str:
    return new_tag()


@pytest.fixture
def backend(tag: str, tmp_path: Path) -> Iterator[AcpBackend]:
    options = BackendOptions(
        program=(sys.executable, str(AGENT)), env={TAG_NAME: tag}, spill_dir=tmp_path / "spill"
    )
    backend = AcpBackend(options)
    yield backend
    backend.close()


def ask(cwd: Path, prompt: str, **kw: Any) -> StageRequest:
    fields: dict[str, Any] = {"stage": Stage.BUILD, "timeout_s": 30.0, "model": ""}
    fields.update(kw)
    return StageRequest(prompt=prompt, cwd=cwd, **fields)


def agent_pid(text: str) -> int:
    match = re.search(r"pid=(\d+)", text)
    assert match, text
    return int(match.group(1))


def test_echo_turn_reports_session_usage_and_cost(backend: AcpBackend, tmp_path: Path) -> None:
    sink = Recorder()
    result = backend.run(ask(tmp_path, "hello RALPH"), sink)
    assert result.ok, result.detail
    assert result.session_id and result.session_id.startswith("sess_")
    assert "[RALPH_OUTPUT]" in result.text and "model=fake/alpha" in result.text
    assert len(result.calls) == 1
    assert (result.usage.input, result.usage.cached, result.usage.output) == (400, 100, 50)
    assert result.cost == pytest.approx(0.01)
    assert result.context_used == 100 and result.context_size == 1000
    assert sink.of(EventKind.SESSION) and sink.of(EventKind.STEP)


def test_model_is_selected_through_config_option(backend: AcpBackend, tmp_path: Path) -> None:
    result = backend.run(ask(tmp_path, "hi", model="fake/beta"), Recorder())
    assert result.ok and "model=fake/beta" in result.text


def test_unknown_model_is_an_agent_error(backend: AcpBackend, tmp_path: Path) -> None:
    result = backend.run(ask(tmp_path, "hi", model="fake/nope"), Recorder())
    assert result.failure is KillReason.AGENT_ERROR and "fake/nope" in result.detail


def test_tool_call_permission_and_file_write(backend: AcpBackend, tmp_path: Path) -> None:
    sink = Recorder()
    result = backend.run(ask(tmp_path, "TOOLTEST out/new.txt"), sink)
    assert result.ok, result.detail
    assert (tmp_path / "out" / "new.txt").read_text() == "written by the fake agent\n"
    assert [e.tool for e in sink.of(EventKind.TOOL_CALL)] == ["write out/new.txt"]
    assert '"allowed": true' in sink.of(EventKind.TOOL_RESULT)[0].text


def test_read_only_stage_denies_the_edit(backend: AcpBackend, tmp_path: Path) -> None:
    sink = Recorder()
    result = backend.run(ask(tmp_path, "TOOLTEST nope.txt", stage=Stage.VERIFY, read_only=True), sink)
    assert result.ok
    assert not (tmp_path / "nope.txt").exists()
    assert '"allowed": false' in sink.of(EventKind.TOOL_RESULT)[0].text


def test_writes_outside_the_worktree_are_refused(backend: AcpBackend, tmp_path: Path) -> None:
    work = tmp_path / "work"
    work.mkdir()
    result = backend.run(ask(work, "TOOLTEST ../escape.txt"), Recorder())
    assert result.ok
    assert not (tmp_path / "escape.txt").exists()


def test_updates_of_other_sessions_are_dropped(backend: AcpBackend, tmp_path: Path) -> None:
    result = backend.run(ask(tmp_path, "OTHER-SESSION hi"), Recorder())
    assert result.ok and "LEAKED-UPDATE" not in result.text


def test_session_continues_and_process_is_reused(backend: AcpBackend, tmp_path: Path) -> None:
    first = backend.run(ask(tmp_path, "FIRST-TASK"), Recorder())
    second = backend.run(ask(tmp_path, "REPAIR-NOW", session_id=first.session_id), Recorder())
    assert second.session_id == first.session_id
    assert "FIRST-TASK" in second.text
    third = backend.run(ask(tmp_path, "another stage"), Recorder())
    assert third.session_id != first.session_id and "earlier=[]" in third.text
    assert agent_pid(first.text) == agent_pid(second.text) == agent_pid(third.text)


def test_cost_is_per_turn_although_acp_reports_it_per_session(backend: AcpBackend, tmp_path: Path) -> None:
    first = backend.run(ask(tmp_path, "one"), Recorder())
    second = backend.run(ask(tmp_path, "two", session_id=first.session_id), Recorder())
    assert first.cost == pytest.approx(0.01) and second.cost == pytest.approx(0.01)


def test_context_pressure_kills_the_stage(backend: AcpBackend, tmp_path: Path) -> None:
    result = backend.run(ask(tmp_path, "CONTEXT 960", context_kill_pct=95.0), Recorder())
    assert result.failure is KillReason.CONTEXT and result.context_used == 960


def test_identical_tool_calls_are_a_loop(backend: AcpBackend, tmp_path: Path) -> None:
    result = backend.run(ask(tmp_path, "LOOP", max_identical_tool_calls=4), Recorder())
    assert result.failure is KillReason.LOOP, result.detail


def test_agent_error_naming_the_endpoint_is_infra(backend: AcpBackend, tmp_path: Path) -> None:
    result = backend.run(ask(tmp_path, "FAIL"), Recorder())
    assert result.failure is KillReason.INFRA and "connection refused" in result.detail


def test_stderr_flood_does_not_block(backend: AcpBackend, tmp_path: Path) -> None:
    result = backend.run(ask(tmp_path, "STDERR-FLOOD RALPH"), Recorder())
    assert result.ok and "[RALPH_OUTPUT]" in result.text


@pytest.mark.parametrize("word", ["HANG", "HANGHARD"])
def test_timeout_cancels_then_kills_the_agent(
    backend: AcpBackend, tmp_path: Path, tag: str, word: str
) -> None:
    started = time.monotonic()
    result = backend.run(ask(tmp_path, word, timeout_s=3.0), Recorder())
    assert result.failure is KillReason.TIMEOUT
    assert time.monotonic() - started < 3.0 + 5.0
    assert not tagged_pids(tag), "the agent survived the timeout"
    after = backend.run(ask(tmp_path, "RALPH"), Recorder())
    assert after.ok, "a new agent process serves the next stage"


def test_close_kills_the_agent(backend: AcpBackend, tmp_path: Path, tag: str) -> None:
    assert backend.run(ask(tmp_path, "hi"), Recorder()).ok
    assert tagged_pids(tag)
    backend.close()
    assert not tagged_pids(tag)


def test_big_output_spills_to_a_file(tmp_path: Path, tag: str) -> None:
    options = BackendOptions(
        program=(sys.executable, str(AGENT)),
        env={TAG_NAME: tag},
        output_cap_bytes=200,
        spill_dir=tmp_path / "spill",
    )
    backend = AcpBackend(options)
    try:
        result = backend.run(ask(tmp_path, "RALPH " + "y" * 1000), Recorder())
    finally:
        backend.close()
    assert result.ok and result.output_log is not None
    assert "y" * 1000 in result.output_log.read_text()
    assert len(result.text) <= 200 and "[/RALPH_OUTPUT]" in result.text


def test_agent_request_with_id_zero_is_answered(tmp_path: Path, tag: str) -> None:
    options = BackendOptions(
        program=(sys.executable, str(AGENT)),
        env={TAG_NAME: tag},
        output_cap_bytes=1,
        spill_dir=tmp_path / "spill",
    )
    backend = AcpBackend(options)
    try:
        result = backend.run(ask(tmp_path, "TOOLTEST zero.txt"), Recorder())
    finally:
        backend.close()
    assert result.ok and (tmp_path / "zero.txt").exists() and result.output_log is not None
    messages = [json.loads(line) for line in result.output_log.read_text().splitlines()]
    asked = [m for m in messages if m.get("method") == "session/request_permission"]
    assert asked and asked[0]["id"] == 0
    assert any(m.get("id") == 0 and "result" in m for m in messages), "the answer to request 0 went out"
