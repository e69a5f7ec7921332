"""AcpBackend driving the real ACP agents (pinned): ``opencode acp`` and Zed's Claude adapter, offline."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from tests.agents.clocks import ArrivalClock
from tests.agents.procs import TAG_NAME, Sampler, new_tag, tagged_pids
from tests.agents.recording import Recorder
from tests.fakes import agent_env
from tests.fakes.model_server import ScriptedModelServer, ToolCall, Turn

from ralph.agents.acp import AcpBackend
from ralph.agents.base import BackendOptions, EventKind, StageRequest
from ralph.clock import Clock, SystemClock
from ralph.errors import KillReason
from ralph.stage import Stage

pytestmark = pytest.mark.realcli

DONE = '[RALPH_OUTPUT]\n{"verdict": "done", "summary": "wrote hello.txt"}\n[/RALPH_OUTPUT]'


class Agent:
    """One of the two real ACP agents, with its model name and its write tool."""

    def __init__(
        self, name: str, model: str, tool: str, key: str, window: int, build: Callable[..., AcpBackend]
    ) -> None:
        self.name, self.model, self.tool, self.key, self.build = name, model, tool, key, build
        self.window = window
        """The context size the agent reports in usage_update."""

    def write(self, path: Path, **kw: Any) -> Turn:
        call = ToolCall(self.tool, {self.key: str(path), "content": "hi\n"})
        return Turn(text="Writing.", tool_calls=(call,), **kw)


def _opencode(server: ScriptedModelServer, home: Path, tag: str, clock: Clock) -> AcpBackend:
    env = {**agent_env.opencode_env(home, agent_env.opencode_config(server)), TAG_NAME: tag}
    program = agent_env.jailed(server, str(agent_env.binary("opencode")), "acp")
    return AcpBackend(BackendOptions(clock=clock, program=program, env=env))


def _claude(server: ScriptedModelServer, home: Path, tag: str, clock: Clock) -> AcpBackend:
    env = {**agent_env.claude_env(home, server), TAG_NAME: tag}
    program = agent_env.jailed(server, "node", str(agent_env.binary("claude-agent-acp")))
    return AcpBackend(BackendOptions(clock=clock, program=program, env=env))


AGENTS = {
    "opencode": Agent("opencode", "fake/m2", "write", "filePath", 32_768, _opencode),
    "claude": Agent("claude", "", "Write", "file_path", 200_000, _claude),
}


@pytest.fixture(params=sorted(AGENTS))
def agent(request: pytest.FixtureRequest) -> Agent:
    return AGENTS[request.param]


@pytest.fixture
def tag() -> str:
    return new_tag()


@pytest.fixture
def backend(agent: Agent, server: ScriptedModelServer, agent_home: Path, tag: str) -> Iterator[AcpBackend]:
    backend = agent.build(server, agent_home / f"acp-{agent.name}", tag, SystemClock())
    yield backend
    backend.close()
    assert not tagged_pids(tag), "close() left agent processes behind"


def ask(agent: Agent, cwd: Path, prompt: str = "Create hello.txt containing hi.", **kw: Any) -> StageRequest:
    fields: dict[str, Any] = {"stage": Stage.BUILD, "timeout_s": 120.0, "model": agent.model}
    fields.update(kw)
    return StageRequest(prompt=prompt, cwd=cwd, **fields)


def test_build_stage_edits_a_file(
    agent: Agent, backend: AcpBackend, server: ScriptedModelServer, worktree: Path
) -> None:
    server.script(agent.write(worktree / "hello.txt", input_tokens=1000), Turn(text=DONE, input_tokens=1100))
    sink = Recorder()
    result = backend.run(ask(agent, worktree), sink)
    assert result.ok, result.detail
    assert (worktree / "hello.txt").read_text() == "hi\n"
    assert "[RALPH_OUTPUT]" in result.text and result.session_id
    assert len(result.calls) == 1, "ACP reports one call per prompt turn"
    assert result.usage.total > 0 and result.context_used > 0 and result.context_size
    assert result.cost > 0
    assert any(agent.tool.lower() in e.tool.lower() for e in sink.of(EventKind.TOOL_CALL))
    if agent.model:
        wire = agent.model.split("/", 1)[1]
        assert all(r.body["model"] == wire for r in server.main_requests), "session/set_config_option took"


def test_validation_retry_continues_the_session(
    agent: Agent, backend: AcpBackend, server: ScriptedModelServer, worktree: Path
) -> None:
    server.script(Turn(text="Done, no block."), Turn(text=DONE))
    first = backend.run(ask(agent, worktree, "Do the FIRST-TASK."), Recorder())
    assert first.ok, first.detail
    second = backend.run(ask(agent, worktree, "REPAIR-NOW", session_id=first.session_id), Recorder())
    assert second.ok and second.session_id == first.session_id
    history = server.main_requests[-1].text()
    assert "FIRST-TASK" in history and "Done, no block." in history and "REPAIR-NOW" in history


def test_timeout_cancels_and_kills_the_agent_group(
    agent: Agent, server: ScriptedModelServer, agent_home: Path, worktree: Path, tag: str
) -> None:
    server.script(Turn(hang=True))
    clock = ArrivalClock(server)
    backend = agent.build(server, agent_home / f"acp-{agent.name}", tag, clock)
    try:
        with Sampler(tag, lambda: bool(server.main_requests)) as sampler:
            result = backend.run(ask(agent, worktree, timeout_s=10.0), Recorder())
        arrived = clock.arrived_at()
        assert result.failure is KillReason.TIMEOUT
        assert server.main_requests and arrived is not None, "the agent never reached the hanging server"
        assert time.time() - arrived < 10.0 + 5.0
        assert sampler.seen and not tagged_pids(tag)
    finally:
        backend.close()


def test_endpoint_failure_is_infra(
    agent: Agent, backend: AcpBackend, server: ScriptedModelServer, worktree: Path
) -> None:
    server.script(Turn(status=401, error_message="invalid api key"))
    result = backend.run(ask(agent, worktree), Recorder())
    assert result.failure is KillReason.INFRA, (result.detail, result.text)


def test_context_pressure_from_usage_updates(
    agent: Agent, backend: AcpBackend, server: ScriptedModelServer, worktree: Path
) -> None:
    near_full = int(agent.window * 0.6)  # below Claude Code's own auto-compaction, above our kill line
    server.script(
        agent.write(worktree / "a.txt", input_tokens=near_full), Turn(text=DONE, input_tokens=near_full)
    )
    result = backend.run(ask(agent, worktree, context_kill_pct=50.0), Recorder())
    assert result.failure is KillReason.CONTEXT, result.detail
