"""A scripted ACP agent built on the SDK's agent side; run it as a subprocess: ``python acp_agent.py``.

The prompt text picks the behaviour (words may be combined):
  (default)        echo the prompt and the session's earlier prompts, then a usage_update
  TOOLTEST <path>  tool_call -> session/request_permission -> fs/write_text_file -> tool_call_update
  RALPH            answer with a [RALPH_OUTPUT] block
  CONTEXT <n>      usage_update with used=<n> of size 1000
  LOOP             the same tool call five times
  OTHER-SESSION    first an update for a session that is not this one
  HANG             wait until cancelled;  HANGHARD: ignore the cancel too
  FAIL             answer the prompt with a JSON-RPC error naming a refused connection
  STDERR-FLOOD     write 1 MB to stderr first
Each prompt also writes one line to stderr. Agent-to-client request ids start at 0.
"""

from __future__ import annotations

import asyncio
import os
import sys
import uuid
from typing import Any

import acp
from acp.schema import (
    AgentCapabilities,
    Cost,
    InitializeResponse,
    LoadSessionResponse,
    NewSessionResponse,
    PermissionOption,
    PromptResponse,
    SessionConfigOptionSelect,
    SessionConfigSelectOption,
    SetSessionConfigOptionResponse,
    ToolCallUpdate,
    Usage,
    UsageUpdate,
)

MODELS = ("fake/alpha", "fake/beta")


class ScriptedAgent:
    def __init__(self) -> None:
        self._conn: Any = None
        self.history: dict[str, list[str]] = {}
        self.models: dict[str, str] = {}
        self.cost: dict[str, float] = {}
        self.cancelled: dict[str, asyncio.Event] = {}

    def on_connect(self, conn: Any) -> None:
        self._conn = conn

    async def initialize(self, protocol_version: int, **kwargs: Any) -> InitializeResponse:
        caps = AgentCapabilities(load_session=True)
        return InitializeResponse(protocol_version=acp.PROTOCOL_VERSION, agent_capabilities=caps)

    def _config(self, session_id: str) -> list[Any]:
        choices = [SessionConfigSelectOption(value=m, name=m) for m in MODELS]
        current = self.models[session_id]
        return [
            SessionConfigOptionSelect(
                id="model",
                name="Model",
                category="model",
                type="select",
                current_value=current,
                options=choices,
            )
        ]

    async def new_session(self, cwd: str, **kwargs: Any) -> NewSessionResponse:
        session_id = f"sess_{uuid.uuid4().hex[:10]}"
        self.history[session_id] = []
        self.models[session_id] = MODELS[0]
        return NewSessionResponse(session_id=session_id, config_options=self._config(session_id))

    async def load_session(self, cwd: str, session_id: str, **kwargs: Any) -> LoadSessionResponse:
        for text in self.history.get(session_id, []):
            await self._conn.session_update(session_id=session_id, update=acp.update_user_message_text(text))
        return LoadSessionResponse()

    async def set_config_option(
        self, config_id: str, session_id: str, value: Any, **kwargs: Any
    ) -> SetSessionConfigOptionResponse:
        if config_id != "model" or value not in MODELS:
            raise acp.RequestError.invalid_params({"configId": config_id, "value": value})
        self.models[session_id] = value
        return SetSessionConfigOptionResponse(config_options=self._config(session_id))

    async def cancel(self, session_id: str, **kwargs: Any) -> None:
        self.cancelled.setdefault(session_id, asyncio.Event()).set()

    async def _say(self, session_id: str, text: str) -> None:
        await self._conn.session_update(session_id=session_id, update=acp.update_agent_message_text(text))

    async def _usage(self, session_id: str, used: int) -> None:
        self.cost[session_id] = self.cost.get(session_id, 0.0) + 0.01
        update = UsageUpdate(
            session_update="usage_update",
            used=used,
            size=1000,
            cost=Cost(amount=self.cost[session_id], currency="USD"),
        )
        await self._conn.session_update(session_id=session_id, update=update)

    async def _tool(self, session_id: str, path: str) -> None:
        call_id = f"call_{uuid.uuid4().hex[:8]}"
        raw = {"path": path, "content": "written by the fake agent\n"}
        start = acp.start_tool_call(call_id, f"write {path}", kind="edit", status="pending", raw_input=raw)
        await self._conn.session_update(session_id=session_id, update=start)
        options = [
            PermissionOption(option_id="allow", name="Allow once", kind="allow_once"),
            PermissionOption(option_id="reject", name="Reject", kind="reject_once"),
        ]
        tool_call = ToolCallUpdate(tool_call_id=call_id, title=f"write {path}", kind="edit", raw_input=raw)
        answer = await self._conn.request_permission(
            session_id=session_id, tool_call=tool_call, options=options
        )
        allowed = getattr(answer.outcome, "option_id", None) == "allow"
        status = "failed"
        if allowed:
            try:
                await self._conn.write_text_file(session_id=session_id, path=path, content=raw["content"])
                status = "completed"
            except acp.RequestError:
                status = "failed"
        update = acp.update_tool_call(call_id, status=status, raw_output={"allowed": allowed})
        await self._conn.session_update(session_id=session_id, update=update)

    async def prompt(self, prompt: list[Any], session_id: str, **kwargs: Any) -> PromptResponse:
        text = " ".join(getattr(block, "text", "") for block in prompt)
        words = text.split()
        print(f"fake agent: prompt in {session_id}", file=sys.stderr, flush=True)
        if "STDERR-FLOOD" in words:
            sys.stderr.write("x" * 1_000_000 + "\n")
            sys.stderr.flush()
        if "FAIL" in words:
            raise acp.RequestError(-32603, "Cannot connect to API: connection refused (ECONNREFUSED)")
        if "OTHER-SESSION" in words:
            await self._say("sess_somebody_else", "LEAKED-UPDATE")
        earlier = list(self.history[session_id])
        self.history[session_id].append(text)
        await self._say(
            session_id, f"pid={os.getpid()} model={self.models[session_id]} earlier={earlier!r}\n"
        )
        if "TOOLTEST" in words:
            await self._tool(session_id, words[words.index("TOOLTEST") + 1])
        if "LOOP" in words:
            for _ in range(5):
                start = acp.start_tool_call(
                    f"call_{uuid.uuid4().hex[:8]}", "read", kind="read", raw_input={"path": "x"}
                )
                await self._conn.session_update(session_id=session_id, update=start)
        if "CONTEXT" in words:
            await self._usage(session_id, int(words[words.index("CONTEXT") + 1]))
        else:
            await self._usage(session_id, 100 + 10 * len(earlier))
        if "HANG" in words or "HANGHARD" in words:
            return await self._hang(session_id, hard="HANGHARD" in words)
        if "RALPH" in words:
            await self._say(
                session_id, '[RALPH_OUTPUT]\n{"verdict": "done", "summary": "ok"}\n[/RALPH_OUTPUT]\n'
            )
        usage = Usage(input_tokens=400, output_tokens=50, cached_read_tokens=100, total_tokens=550)
        return PromptResponse(stop_reason="end_turn", usage=usage)

    async def _hang(self, session_id: str, *, hard: bool) -> PromptResponse:
        event = self.cancelled.setdefault(session_id, asyncio.Event())
        event.clear()
        if hard:
            await asyncio.Event().wait()
        await event.wait()
        return PromptResponse(stop_reason="cancelled")


def main() -> None:
    asyncio.run(acp.run_agent(ScriptedAgent()))


if __name__ == "__main__":
    main()
