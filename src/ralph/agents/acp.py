"""Any Agent Client Protocol agent over stdio (``opencode acp``, Claude's ACP adapter, a user's own).

asyncio stays inside: an event loop runs in a daemon thread, ``run()`` submits one prompt turn and waits,
checking the watch. One agent process serves consecutive stages in the same working directory; each stage
gets a fresh session unless it continues one. On a kill the session is cancelled (``session/cancel``) and,
for a timeout or an agent that does not stop, the agent's whole process group is killed.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import json
import threading
import time
from collections.abc import Coroutine
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import acp
from acp.schema import PromptResponse

from ralph.agents.acp_client import AgentConnection, StageClient
from ralph.agents.base import (
    AgentEvent,
    BackendOptions,
    EventKind,
    EventSink,
    ModelCall,
    StageRequest,
    StageResult,
    Usage,
    price_call,
)
from ralph.agents.stagerun import StageRun
from ralph.errors import KillReason
from ralph.proc import TAG_VAR, kill_group, kill_tagged, new_tag, scrubbed_env

__all__ = ["AcpBackend", "AcpConfig"]

T = TypeVar("T")
_POLL_S = 0.2


@dataclass(frozen=True)
class AcpConfig:
    """How the ACP agent is started."""

    command: tuple[str, ...] = ("opencode", "acp")
    """argv of the agent (``acp_command``)."""
    cancel_grace_s: float = 3.0
    """How long a cancelled prompt may take to stop before the agent is killed."""

    @classmethod
    def from_options(cls, options: BackendOptions) -> AcpConfig:
        grace = float(options.extra.get("cancel_grace_s", cls.cancel_grace_s))
        return cls(command=tuple(options.program) or cls.command, cancel_grace_s=grace)


class _LoopThread:
    """An asyncio loop on a daemon thread; ``submit`` returns a concurrent Future."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self.loop.run_forever, name="ralph-acp", daemon=True)
        self._thread.start()

    def submit(self, coro: Coroutine[Any, Any, T]) -> concurrent.futures.Future[T]:
        return asyncio.run_coroutine_threadsafe(coro, self.loop)

    def stop(self) -> None:
        self.submit(_cancel_pending()).result(timeout=5)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self._thread.join(timeout=5)
        if not self._thread.is_alive():
            self.loop.close()


async def _cancel_pending() -> None:
    current = asyncio.current_task()
    pending = [t for t in asyncio.all_tasks() if t is not current]
    for task in pending:
        task.cancel()
    await asyncio.gather(*pending, return_exceptions=True)


def _turn_usage(response: PromptResponse | None) -> Usage:
    usage = response.usage if response is not None else None
    if usage is None:
        return Usage()
    return Usage(
        input=usage.input_tokens + (usage.cached_write_tokens or 0),
        cached=usage.cached_read_tokens or 0,
        output=usage.output_tokens + (usage.thought_tokens or 0),
    )


@dataclass(frozen=True)
class _Outcome:
    response: PromptResponse
    cost_before: float | None
    cost_after: float | None
    latency_s: float


class AcpBackend:
    """An ACP agent over stdio; one process is reused while the working directory stays the same."""

    name = "acp"

    def __init__(self, options: BackendOptions) -> None:
        self.options = options
        self.config = AcpConfig.from_options(options)
        self._loop: _LoopThread | None = None
        self._agent: AgentConnection | None = None

    def run(self, request: StageRequest, events: EventSink) -> StageResult:
        stage = StageRun(self.name, request, self.options, events)
        if self._loop is None:
            self._loop = _LoopThread()
        future = self._loop.submit(self._turn(request, stage))
        outcome, error = self._wait(future, stage)
        if outcome is not None:
            error = self._book(stage, outcome)
        elif error is not None and self._agent is not None and self._agent.process.returncode is not None:
            error = f"{error}; agent exited ({self._agent.process.returncode}): {self._agent.stderr_tail()}"
        return stage.result(error)

    def _wait(
        self, future: concurrent.futures.Future[_Outcome], stage: StageRun
    ) -> tuple[_Outcome | None, str | None]:
        while True:
            try:
                return future.result(timeout=_POLL_S), None
            except concurrent.futures.TimeoutError:
                if stage.check_deadline() is not None or stage.watch.reason is not None:
                    self._abort(future, stage.watch.reason)
                    return None, None
            except Exception as exc:  # the agent's JSON-RPC error or a dead connection
                return None, _describe(exc)

    def _abort(self, future: concurrent.futures.Future[_Outcome], reason: KillReason | None) -> None:
        """``session/cancel``; if the turn does not end within the grace (or on timeout), kill the agent."""
        agent, loop = self._agent, self._loop
        assert loop is not None
        if agent is not None and agent.client.session_id is not None:
            cancel = loop.submit(agent.conn.cancel(session_id=agent.client.session_id))
            try:
                cancel.result(timeout=1.0)
                future.result(timeout=self.config.cancel_grace_s)
            except Exception:
                pass
        if reason is KillReason.TIMEOUT or not future.done():
            future.cancel()
            if agent is not None:
                self._retire(agent)

    def _retire(self, agent: AgentConnection) -> None:
        """Kill the agent's whole process group and forget it (the next stage starts a new one)."""
        kill_group(agent.process.pid, grace_s=2.0)
        if agent.tag:
            kill_tagged(agent.tag)
        agent.client.end()
        if self._agent is agent:
            self._agent = None
        if self._loop is not None:
            try:
                self._loop.submit(agent.shutdown()).result(timeout=5)
            except Exception:
                pass

    def _book(self, stage: StageRun, outcome: _Outcome) -> str | None:
        request = stage.request
        usage = _turn_usage(outcome.response)
        reported = None
        if outcome.cost_after is not None:
            reported = outcome.cost_after - (outcome.cost_before or 0.0)
        call = ModelCall(
            backend=self.name,
            model=request.model,
            is_local=request.is_local,
            usage=usage,
            cost=price_call(usage, reported_cost=reported, is_local=request.is_local, price=request.price),
            latency_s=outcome.latency_s,
        )
        stage.emit(AgentEvent(EventKind.STEP, call=call, text=str(outcome.response.stop_reason)))
        if outcome.response.stop_reason == "refusal":
            return "the agent refused the prompt"
        return None

    async def _ensure_agent(self, cwd: Path) -> AgentConnection:
        agent = self._agent
        if agent is not None and agent.process.returncode is None and agent.cwd == cwd:
            return agent
        if agent is not None:
            await asyncio.to_thread(self._retire, agent)
        tag = new_tag()
        env = scrubbed_env(extra={"PWD": str(cwd), **self.options.env, TAG_VAR: tag})
        process = await asyncio.create_subprocess_exec(
            *self.config.command,
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
            cwd=str(cwd),
            env=env,
            start_new_session=True,
            limit=acp.core.DEFAULT_STDIO_BUFFER_LIMIT_BYTES,
        )
        agent = self._agent = AgentConnection(process, StageClient(cwd), cwd, tag)
        agent.stderr_task = asyncio.get_running_loop().create_task(agent.drain_stderr())
        await agent.initialize()
        return agent

    async def _turn(self, request: StageRequest, stage: StageRun) -> _Outcome:
        agent = await self._ensure_agent(request.cwd.resolve())
        session_id = await agent.open_session(request)
        stage.emit(AgentEvent(EventKind.SESSION, text=session_id))
        await agent.select(session_id, request)
        cost_before = agent.client.costs.get(session_id)
        agent.client.begin(stage, session_id)
        started = time.monotonic()
        try:
            response = await agent.conn.prompt(session_id=session_id, prompt=[acp.text_block(request.prompt)])
        finally:
            agent.client.end()
        return _Outcome(response, cost_before, agent.client.costs.get(session_id), time.monotonic() - started)

    def close(self) -> None:
        """Stop the agent process (its whole group) and the loop thread."""
        if self._agent is not None:
            self._retire(self._agent)
        if self._loop is not None:
            self._loop.stop()
            self._loop = None


def _describe(exc: BaseException) -> str:
    if isinstance(exc, acp.RequestError):
        data = f" {json.dumps(exc.data, default=str)}" if exc.data else ""
        return f"ACP error {exc.code}: {exc}{data}"
    return f"{type(exc).__name__}: {exc}"
