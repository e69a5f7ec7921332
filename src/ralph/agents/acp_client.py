"""Our side of the Agent Client Protocol: the connection to one agent process, and what the agent may ask
of Ralph while a prompt runs.

``AgentConnection`` starts the protocol (initialize), opens, loads and configures sessions (model through
``session/set_config_option``, else ``session/set_model``; mode likewise) and keeps a stderr tail.

``StageClient`` turns session updates into ``AgentEvent``s for the current stage only (updates for other
sessions, e.g. a cancelled one still draining, are dropped), answers permission requests by policy
(read-only stages may not edit), and serves ``fs/read_text_file`` and ``fs/write_text_file`` inside the
working directory.
"""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any, cast

import acp
from acp import RequestError
from acp.schema import (
    AllowedOutcome,
    ClientCapabilities,
    DeniedOutcome,
    FileSystemCapabilities,
    Implementation,
    PermissionOption,
    ReadTextFileResponse,
    RequestPermissionResponse,
    ToolCallUpdate,
    WriteTextFileResponse,
)

from ralph.agents.base import AgentEvent, EventKind, StageRequest
from ralph.agents.stagerun import StageRun

__all__ = ["READ_ONLY_DENIED_KINDS", "AgentConnection", "StageClient", "permission_choice"]

READ_ONLY_DENIED_KINDS = frozenset({"edit", "delete", "move"})
_QUIET_UPDATES = frozenset(
    {
        "user_message_chunk",
        "plan",
        "available_commands_update",
        "current_mode_update",
        "config_option_update",
        "session_info_update",
    }
)
_DONE = frozenset({"completed", "failed"})
_STDERR_TAIL = 16_000


def permission_choice(options: list[PermissionOption], *, allow: bool) -> str | None:
    """The option id to select: the narrowest allow (once before always) or reject; None = cancel."""
    kinds = ("allow_once", "allow_always") if allow else ("reject_once", "reject_always")
    for kind in kinds:
        for option in options:
            if option.kind == kind:
                return option.option_id
    return None


def _tool_name(update: Any) -> str:
    meta = getattr(update, "field_meta", None) or {}
    claude = meta.get("claudeCode") if isinstance(meta, dict) else None
    if isinstance(claude, dict) and claude.get("toolName"):
        return str(claude["toolName"])
    return str(getattr(update, "title", None) or getattr(update, "kind", None) or "tool")


class _Tool:
    def __init__(self, name: str, kind: str) -> None:
        self.name = name
        self.kind = kind
        self.raw_input: Any = None
        self.announced = False
        self.finished = False


class StageClient:
    """The client side the backend connects with (the ``acp.Client`` methods for the capabilities we
    advertise: fs yes, terminal no); ``stage`` and ``session_id`` are set per prompt.
    ``costs`` holds each session's cumulative reported cost (ACP reports it per session)."""

    def __init__(self, cwd: Path) -> None:
        self.cwd = cwd.resolve()
        self.stage: StageRun | None = None
        self.session_id: str | None = None
        self.costs: dict[str, float] = {}
        self.dropped_updates = 0
        self._tools: dict[str, _Tool] = {}

    def begin(self, stage: StageRun, session_id: str) -> None:
        self.stage = stage
        self.session_id = session_id
        self._tools = {}

    def end(self) -> None:
        self.stage = None
        self.session_id = None

    def _emit(self, event: AgentEvent) -> None:
        if self.stage is not None:
            self.stage.emit(event)

    async def session_update(self, session_id: str, update: Any, **kwargs: Any) -> None:
        if self.stage is None or session_id != self.session_id:
            self.dropped_updates += 1
            return
        self.stage.raw(json.dumps({"sessionId": session_id, "update": update.model_dump(mode="json")}))
        kind = str(getattr(update, "session_update", ""))
        if kind == "agent_message_chunk":
            self._emit(AgentEvent(EventKind.TEXT, text=getattr(update.content, "text", "") or ""))
        elif kind == "agent_thought_chunk":
            self._emit(AgentEvent(EventKind.THOUGHT, text=getattr(update.content, "text", "") or ""))
        elif kind in ("tool_call", "tool_call_update"):
            self._tool_update(update)
        elif kind == "usage_update":
            self._usage(update)
        elif kind not in _QUIET_UPDATES:
            self._emit(AgentEvent(EventKind.UNKNOWN, raw_type=kind, text=update.model_dump_json()[:500]))

    def _tool_update(self, update: Any) -> None:
        tool = self._tools.get(update.tool_call_id)
        if tool is None:
            tool = self._tools[update.tool_call_id] = _Tool(_tool_name(update), str(update.kind or ""))
        if update.raw_input:
            tool.raw_input = update.raw_input
        status = str(update.status or "pending")
        if not tool.announced and (status != "pending" or tool.raw_input):
            tool.announced = True
            canonical = json.dumps(tool.raw_input or {}, sort_keys=True, separators=(",", ":"), default=str)
            self._emit(AgentEvent(EventKind.TOOL_CALL, tool=tool.name, tool_input=canonical))
        if status in _DONE and not tool.finished:
            tool.finished = True
            output = json.dumps(update.raw_output, default=str) if update.raw_output is not None else status
            self._emit(AgentEvent(EventKind.TOOL_RESULT, tool=tool.name, text=output[:2000]))

    def _usage(self, update: Any) -> None:
        if update.cost is not None and self.session_id is not None:
            self.costs[self.session_id] = float(update.cost.amount)
        self._emit(AgentEvent(EventKind.USAGE, context_used=int(update.used), context_size=int(update.size)))

    async def request_permission(
        self, session_id: str, tool_call: ToolCallUpdate, options: list[PermissionOption], **kwargs: Any
    ) -> RequestPermissionResponse:
        stage = self.stage
        if stage is None or session_id != self.session_id:
            return RequestPermissionResponse(outcome=DeniedOutcome(outcome="cancelled"))
        allow = not (stage.request.read_only and str(tool_call.kind or "") in READ_ONLY_DENIED_KINDS)
        choice = permission_choice(options, allow=allow)
        if not allow:
            self._emit(AgentEvent(EventKind.ERROR, text=f"denied {tool_call.kind} in a read-only stage"))
        if choice is None:
            return RequestPermissionResponse(outcome=DeniedOutcome(outcome="cancelled"))
        return RequestPermissionResponse(outcome=AllowedOutcome(outcome="selected", option_id=choice))

    def _inside(self, path: str) -> Path:
        target = (self.cwd / path).resolve()
        if target != self.cwd and self.cwd not in target.parents:
            raise RequestError.invalid_params({"path": path, "reason": "outside the working directory"})
        return target

    async def write_text_file(
        self, session_id: str, path: str, content: str, **kwargs: Any
    ) -> WriteTextFileResponse | None:
        stage = self.stage
        if stage is None or session_id != self.session_id:
            raise RequestError.invalid_params({"sessionId": session_id, "reason": "not the active session"})
        if stage.request.read_only:
            raise RequestError.invalid_params({"path": path, "reason": "read-only stage"})
        target = self._inside(path)
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(content, encoding="utf-8")
        return WriteTextFileResponse()

    async def read_text_file(
        self, session_id: str, path: str, line: int | None = None, limit: int | None = None, **kwargs: Any
    ) -> ReadTextFileResponse:
        target = self._inside(path)
        try:
            lines = target.read_text(encoding="utf-8", errors="replace").splitlines(keepends=True)
        except OSError as exc:
            raise RequestError.invalid_params({"path": path, "reason": str(exc)}) from exc
        start = max(0, (line or 1) - 1)
        end = start + limit if limit else None
        return ReadTextFileResponse(content="".join(lines[start:end]))

    async def ext_method(self, method: str, params: dict[str, Any]) -> dict[str, Any]:
        raise RequestError.method_not_found(method)

    async def ext_notification(self, method: str, params: dict[str, Any]) -> None:
        return None

    def on_connect(self, conn: Any) -> None:
        return None


class AgentConnection:
    """One running agent process, its connection and its sessions (used on the backend's loop thread)."""

    def __init__(
        self, process: asyncio.subprocess.Process, client: StageClient, cwd: Path, tag: str = ""
    ) -> None:
        self.process = process
        self.tag = tag
        """The process's ``RALPH_PROC_TAG``: finds descendants that left its group."""
        self.client = client
        self.cwd = cwd
        self.sessions: dict[str, list[Any]] = {}
        self.models: dict[str, str] = {}
        self.can_load = False
        self.stderr = bytearray()
        self.stderr_task: asyncio.Task[None] | None = None
        peer = cast(acp.Client, client)  # implements the methods of the capabilities we advertise
        self.conn = acp.connect_to_agent(peer, process.stdin, process.stdout, observers=[self._observe])

    def _observe(self, event: Any) -> None:
        stage = self.client.stage
        if stage is not None:
            stage.raw(json.dumps(event.message, default=str))

    async def drain_stderr(self) -> None:
        assert self.process.stderr is not None
        while chunk := await self.process.stderr.read(65536):
            self.stderr += chunk
            del self.stderr[:-_STDERR_TAIL]

    async def initialize(self) -> None:
        fs = FileSystemCapabilities(read_text_file=True, write_text_file=True)
        reply = await self.conn.initialize(
            protocol_version=acp.PROTOCOL_VERSION,
            client_capabilities=ClientCapabilities(fs=fs, terminal=False),
            client_info=Implementation(name="ralph", title="Ralph", version="0.1.0"),
        )
        caps = reply.agent_capabilities
        self.can_load = bool(caps and caps.load_session)

    async def open_session(self, request: StageRequest) -> str:
        if request.session_id is None:
            reply = await self.conn.new_session(cwd=str(self.cwd), mcp_servers=[])
            self.sessions[reply.session_id] = list(reply.config_options or [])
            return str(reply.session_id)
        if request.session_id not in self.sessions:
            if not self.can_load:
                raise acp.RequestError(-32601, f"agent cannot load session {request.session_id}")
            loaded = await self.conn.load_session(
                cwd=str(self.cwd), session_id=request.session_id, mcp_servers=[]
            )
            self.sessions[request.session_id] = list(getattr(loaded, "config_options", None) or [])
        return request.session_id

    async def select(self, session_id: str, request: StageRequest) -> None:
        """Model through ``session/set_config_option`` (else ``session/set_model``); mode likewise."""
        options = self.sessions.get(session_id, [])
        if request.model and self.models.get(session_id) != request.model:
            await self._set(session_id, options, "model", request.model, "session/set_model", "modelId")
            self.models[session_id] = request.model
        if request.agent:
            await self._set(session_id, options, "mode", request.agent, "session/set_mode", "modeId")

    async def _set(
        self, session_id: str, options: list[Any], category: str, value: str, method: str, key: str
    ) -> None:
        option = next(
            (o for o in options if getattr(o, "category", None) == category or o.id == category), None
        )
        if option is not None:
            if getattr(option, "current_value", None) != value:
                await self.conn.set_config_option(config_id=option.id, session_id=session_id, value=value)
            return
        await self.conn._conn.send_request(method, {"sessionId": session_id, key: value})

    async def shutdown(self) -> None:
        """Close the connection and stop reading stderr (the process is already killed)."""
        if self.stderr_task is not None:
            self.stderr_task.cancel()
        await self.conn.close()
        await self.process.wait()

    def stderr_tail(self) -> str:
        return bytes(self.stderr).decode("utf-8", errors="replace").strip()[-2000:]
