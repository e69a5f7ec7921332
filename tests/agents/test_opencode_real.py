"""The real opencode (pinned) driven through OpencodeBackend against the scripted model server, offline."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest
from tests.agents.clocks import ArrivalClock
from tests.agents.procs import TAG_NAME, Sampler, new_tag, tagged_pids
from tests.agents.recording import Recorder
from tests.fakes.agent_env import FAKE_MODEL, binary, jailed, opencode_config, opencode_env
from tests.fakes.model_server import ScriptedModelServer, ToolCall, Turn

from ralph.agents.base import BackendOptions, EventKind, StageRequest
from ralph.agents.opencode import OpencodeBackend
from ralph.clock import Clock, SystemClock
from ralph.errors import KillReason
from ralph.stage import Stage

pytestmark = pytest.mark.realcli

DONE = '[RALPH_OUTPUT]\n{"verdict": "done", "summary": "wrote hello.txt"}\n[/RALPH_OUTPUT]'


def make_backend(
    server: ScriptedModelServer,
    home: Path,
    tmp_path: Path,
    tag: str = "",
    clock: Clock | None = None,
    **config: Any,
) -> OpencodeBackend:
    options = BackendOptions(
        clock=clock or SystemClock(),
        program=jailed(server, str(binary("opencode"))),
        env={**opencode_env(home, opencode_config(server, **config)), TAG_NAME: tag or new_tag()},
        spill_dir=tmp_path / "spill",
    )
    return OpencodeBackend(options)


def build_request(cwd: Path, prompt: str = "Create hello.txt containing hi.", **kw: Any) -> StageRequest:
    fields: dict[str, Any] = {"timeout_s": 120.0, "model": f"fake/{FAKE_MODEL}"}
    fields.update(kw)
    return StageRequest(stage=Stage.BUILD, prompt=prompt, cwd=cwd, **fields)


def test_build_stage_edits_a_file_and_reports_calls(
    server: ScriptedModelServer, agent_home: Path, worktree: Path, tmp_path: Path
) -> None:
    server.script(
        Turn(
            tool_calls=(ToolCall("write", {"filePath": str(worktree / "hello.txt"), "content": "hi\n"}),),
            input_tokens=1000,
            output_tokens=50,
        ),
        Turn(text=DONE, input_tokens=1200, output_tokens=40, cached_tokens=300),
    )
    sink = Recorder()
    prompt = "Create hello.txt containing hi. " + "x" * 200_000 + " END-MARKER"
    backend = make_backend(server, agent_home, tmp_path)
    assert all(len(arg) < 1000 for arg in backend.argv(build_request(worktree, prompt=prompt)))
    result = backend.run(build_request(worktree, prompt=prompt), sink)
    assert result.ok, result.detail
    assert "END-MARKER" in server.main_requests[0].text(), "the prompt goes through stdin"
    assert (worktree / "hello.txt").read_text() == "hi\n"
    assert "[RALPH_OUTPUT]" in result.text and '"verdict": "done"' in result.text
    assert result.session_id and result.session_id.startswith("ses_")
    assert len(result.calls) == 2 == len(server.main_requests)
    assert [r.title for r in server.requests] == [False, False], "--title must suppress the title request"
    assert result.usage.input == 1000 + 1200 and result.usage.cached == 300
    assert result.usage.output == 90
    assert result.cost == pytest.approx((2200 * 3 + 90 * 15) / 1e6, rel=0.05)
    tool_calls = sink.of(EventKind.TOOL_CALL)
    assert tool_calls and tool_calls[0].tool == "write"
    assert "SECRET" not in " ".join(server.requests[0].headers)


def test_validation_retry_continues_the_same_session(
    server: ScriptedModelServer, agent_home: Path, worktree: Path, tmp_path: Path
) -> None:
    server.script(Turn(text="I am done (no block)."), Turn(text=DONE))
    backend = make_backend(server, agent_home, tmp_path)
    first = backend.run(build_request(worktree, prompt="Do the FIRST-TASK."), Recorder())
    assert first.ok and first.session_id
    retry = build_request(
        worktree, prompt="Your output had no block; REPAIR-NOW.", session_id=first.session_id
    )
    second = backend.run(retry, Recorder())
    assert second.session_id == first.session_id
    history = server.main_requests[-1].text()
    assert "FIRST-TASK" in history and "I am done (no block)." in history and "REPAIR-NOW" in history


def test_timeout_kills_the_agent_and_its_process_group(
    server: ScriptedModelServer, agent_home: Path, worktree: Path, tmp_path: Path
) -> None:
    server.script(Turn(hang=True))
    tag, clock = new_tag(), ArrivalClock(server)
    backend = make_backend(server, agent_home, tmp_path, tag=tag, clock=clock)
    with Sampler(tag, lambda: bool(server.main_requests)) as sampler:
        result = backend.run(build_request(worktree, timeout_s=10.0), Recorder())
    arrived = clock.arrived_at()
    assert result.failure is KillReason.TIMEOUT, result.detail
    assert server.main_requests and arrived is not None, "the agent never reached the hanging server"
    assert time.time() - arrived < 10.0 + 5.0
    assert sampler.seen, "the sampler never saw the agent waiting on the server"
    assert not tagged_pids(tag), "agent processes survived the stage"


def test_context_size_400_is_infra_and_fast(
    server: ScriptedModelServer, agent_home: Path, worktree: Path, tmp_path: Path
) -> None:
    message = "request (8242 tokens) exceeds the available context size (8192 tokens)"
    server.script(Turn(status=400, error_message=message))
    result = make_backend(server, agent_home, tmp_path).run(build_request(worktree), Recorder())
    assert result.failure is KillReason.INFRA, result.detail
    assert "context size" in result.detail
    assert len(server.main_requests) <= 3, "a context-size 400 is not retried"


def test_auth_failure_is_infra(
    server: ScriptedModelServer, agent_home: Path, worktree: Path, tmp_path: Path
) -> None:
    server.script(Turn(status=401, error_message="invalid api key"))
    result = make_backend(server, agent_home, tmp_path).run(build_request(worktree), Recorder())
    assert result.failure is KillReason.INFRA, result.detail


@pytest.mark.slow
def test_server_down_is_infra_after_opencode_gives_up(
    server: ScriptedModelServer, agent_home: Path, worktree: Path, tmp_path: Path
) -> None:
    server.default = Turn(status=500, error_message="upstream exploded")
    result = make_backend(server, agent_home, tmp_path).run(
        build_request(worktree, timeout_s=240), Recorder()
    )
    assert result.failure is KillReason.INFRA, result.detail


def test_context_pressure_kills_the_stage(
    server: ScriptedModelServer, agent_home: Path, worktree: Path, tmp_path: Path
) -> None:
    write = ToolCall("write", {"filePath": str(worktree / "a.txt"), "content": "a\n"})
    server.script(Turn(tool_calls=(write,), input_tokens=9_700, output_tokens=10), Turn(text=DONE))
    request = build_request(worktree, context_window=10_000, context_kill_pct=95.0)
    result = make_backend(server, agent_home, tmp_path).run(request, Recorder())
    assert result.failure is KillReason.CONTEXT, result.detail
    assert result.context_used >= 9_500 and len(server.main_requests) == 1


def test_empty_step_loop_is_stopped(
    server: ScriptedModelServer, agent_home: Path, worktree: Path, tmp_path: Path
) -> None:
    server.default = Turn(break_stream=True)
    sink = Recorder()
    request = build_request(worktree, max_empty_steps=4, timeout_s=90.0)
    result = make_backend(server, agent_home, tmp_path).run(request, sink)
    assert result.failure is KillReason.EMPTY_STEPS, result.detail
    assert len(sink.of(EventKind.STEP)) == 4
    assert all(call.usage.total == 0 for call in result.calls)
