"""The real Claude Code (pinned) driven through ClaudeBackend against the scripted Anthropic endpoint."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest
from tests.agents.procs import TAG_NAME, Sampler, new_tag, tagged_pids
from tests.agents.recording import Recorder
from tests.fakes.agent_env import CLAUDE_MODEL, binary, claude_env, jailed
from tests.fakes.model_server import ScriptedModelServer, ToolCall, Turn

from ralph.agents.base import BackendOptions, EventKind, StageRequest
from ralph.agents.claude import ClaudeBackend
from ralph.clock import Clock, SystemClock
from ralph.errors import KillReason
from ralph.stage import Stage

pytestmark = pytest.mark.realcli

DONE = '[RALPH_OUTPUT]\n{"verdict": "done", "summary": "wrote hello.txt"}\n[/RALPH_OUTPUT]'


def make_backend(
    server: ScriptedModelServer, home: Path, tag: str = "", clock: Clock | None = None, **env: str
) -> ClaudeBackend:
    options = BackendOptions(
        clock=clock or SystemClock(),
        program=jailed(server, str(binary("claude"))),
        env={**claude_env(home, server), TAG_NAME: tag or new_tag(), **env},
        permission_mode="acceptEdits",
    )
    return ClaudeBackend(options)


def build_request(cwd: Path, prompt: str = "Create hello.txt containing hi.", **kw: Any) -> StageRequest:
    fields: dict[str, Any] = {"timeout_s": 90.0, "model": CLAUDE_MODEL}
    fields.update(kw)
    return StageRequest(stage=Stage.BUILD, prompt=prompt, cwd=cwd, **fields)


def write_turn(path: Path) -> Turn:
    call = ToolCall("Write", {"file_path": str(path), "content": "hi\n"})
    return Turn(text="Writing.", tool_calls=(call,), input_tokens=2000, output_tokens=60)


def test_build_stage_edits_a_file_and_reports_calls(
    server: ScriptedModelServer, agent_home: Path, worktree: Path
) -> None:
    server.script(write_turn(worktree / "hello.txt"), Turn(text=DONE, input_tokens=2100, output_tokens=40))
    sink = Recorder()
    result = make_backend(server, agent_home).run(build_request(worktree), sink)
    assert result.ok, result.detail
    assert (worktree / "hello.txt").read_text() == "hi\n"
    assert "[RALPH_OUTPUT]" in result.text and result.text.count("[RALPH_OUTPUT]") == 1
    assert result.session_id and len(result.calls) == 2 == len(server.main_requests)
    assert result.usage.input == 4100 and result.usage.output == 100
    assert result.cost > 0, "an Anthropic model is priced by Claude's reported total"
    assert [e.tool for e in sink.of(EventKind.TOOL_CALL)] == ["Write"]
    assert result.context_used == 2100


def test_local_model_is_priced_by_our_table_not_by_claude(
    server: ScriptedModelServer, agent_home: Path, worktree: Path
) -> None:
    server.script(Turn(text=DONE, input_tokens=5000, output_tokens=8000))
    result = make_backend(server, agent_home).run(
        build_request(worktree, model="local-model", is_local=True), Recorder()
    )
    assert result.ok, result.detail
    assert result.cost == 0.0 and result.calls[0].is_local and result.usage.output == 8000


def test_validation_retry_resumes_the_session(
    server: ScriptedModelServer, agent_home: Path, worktree: Path
) -> None:
    server.script(Turn(text="Finished, no block."), Turn(text=DONE))
    backend = make_backend(server, agent_home)
    first = backend.run(build_request(worktree, prompt="Do the FIRST-TASK."), Recorder())
    assert first.ok and first.session_id
    second = backend.run(
        build_request(worktree, prompt="REPAIR-NOW", session_id=first.session_id), Recorder()
    )
    assert second.ok and second.session_id == first.session_id
    history = server.main_requests[-1].text()
    assert "FIRST-TASK" in history and "Finished, no block." in history and "REPAIR-NOW" in history


def test_server_error_is_infra_and_fast(
    server: ScriptedModelServer, agent_home: Path, worktree: Path
) -> None:
    server.script(Turn(status=500, error_message="upstream exploded"))
    started = time.monotonic()
    result = make_backend(server, agent_home).run(build_request(worktree), Recorder())
    assert result.failure is KillReason.INFRA, result.detail
    assert "500" in result.detail
    assert time.monotonic() - started < 60


def test_connection_refused_is_infra(server: ScriptedModelServer, agent_home: Path, worktree: Path) -> None:
    backend = make_backend(server, agent_home, ANTHROPIC_BASE_URL="http://127.0.0.1:9")
    result = backend.run(build_request(worktree), Recorder())
    assert result.failure is KillReason.INFRA, result.detail


def test_rate_limit_is_infra_and_recorded(
    server: ScriptedModelServer, agent_home: Path, worktree: Path
) -> None:
    server.script(Turn(status=429, headers={"retry-after": "30"}, error_message="slow down"))
    sink = Recorder()
    result = make_backend(server, agent_home).run(build_request(worktree), sink)
    assert result.failure is KillReason.INFRA and "429" in result.detail
    assert sink.of(EventKind.RATE_LIMIT)


def test_context_pressure_kills_the_stage(
    server: ScriptedModelServer, agent_home: Path, worktree: Path
) -> None:
    server.script(write_turn(worktree / "a.txt"), Turn(text=DONE, input_tokens=9_700))
    request = build_request(worktree, context_window=10_000, context_kill_pct=95.0)
    result = make_backend(server, agent_home).run(request, Recorder())
    assert result.failure is KillReason.CONTEXT, result.detail
    assert result.context_used >= 9_500


def test_timeout_kills_the_agent_and_its_group(
    server: ScriptedModelServer, agent_home: Path, worktree: Path
) -> None:
    server.script(Turn(hang=True))
    tag = new_tag()
    started = time.monotonic()
    with Sampler(tag, lambda: bool(server.main_requests)) as sampler:
        result = make_backend(server, agent_home, tag).run(
            build_request(worktree, timeout_s=20.0), Recorder()
        )
    assert result.failure is KillReason.TIMEOUT
    assert time.monotonic() - started < 20.0 + 5.0
    assert sampler.seen, "the sampler never saw the agent running"
    assert not tagged_pids(tag), "agent processes survived the stage"


def test_read_only_stage_cannot_write(server: ScriptedModelServer, agent_home: Path, worktree: Path) -> None:
    server.script(write_turn(worktree / "forbidden.txt"), Turn(text=DONE))
    result = make_backend(server, agent_home).run(build_request(worktree, read_only=True), Recorder())
    assert result.ok, result.detail
    assert not (worktree / "forbidden.txt").exists()
