"""opencode through ``opencode run --format json``: argv, environment and the event parser.

The prompt goes on stdin (never on argv, which Linux caps at 128 KiB per argument); ``--title`` names the
session so opencode makes no extra title request. Tokens and cost arrive per step in ``step_finish``; one
step is one model call. There is no final event: the stage ends when the process exits.
"""

from __future__ import annotations

import json
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

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
from ralph.agents.linerun import run_lines
from ralph.agents.stagerun import StageRun
from ralph.proc import scrubbed_env

__all__ = ["OpencodeBackend", "OpencodeConfig"]


def _default_permission() -> dict[str, str]:
    return {"external_directory": "deny", "doom_loop": "deny"}


@dataclass(frozen=True)
class OpencodeConfig:
    """How opencode is started."""

    program: tuple[str, ...] = ("opencode",)
    """argv prefix (``opencode_bin``)."""
    permission: Mapping[str, str] = field(default_factory=_default_permission)
    """``OPENCODE_PERMISSION`` for every stage; read-only stages add ``edit: deny``."""

    @classmethod
    def from_options(cls, options: BackendOptions) -> OpencodeConfig:
        permission = {**_default_permission(), **options.extra.get("opencode_permission", {})}
        return cls(program=tuple(options.program) or cls.program, permission=permission)


def _canonical(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"))


class _Parser:
    """opencode ``--format json`` events -> AgentEvents; keeps per-step timing."""

    def __init__(self, request: StageRequest) -> None:
        self._request = request
        self._session: str | None = None
        self._step_started = time.monotonic()
        self._last_error: str | None = None
        self.fatal: str | None = None

    def feed(self, obj: Mapping[str, Any]) -> list[AgentEvent]:
        events: list[AgentEvent] = []
        session = obj.get("sessionID")
        if isinstance(session, str) and session and session != self._session:
            self._session = session
            events.append(AgentEvent(EventKind.SESSION, text=session))
        kind = obj.get("type")
        raw_part = obj.get("part")
        part: Mapping[str, Any] = raw_part if isinstance(raw_part, dict) else {}
        handler = self._handlers.get(str(kind))
        if handler is None:
            return [*events, AgentEvent(EventKind.UNKNOWN, raw_type=str(kind), text=_canonical(obj)[:500])]
        return events + handler(self, part, obj)

    def _step_start(self, part: Mapping[str, Any], obj: Mapping[str, Any]) -> list[AgentEvent]:
        self._step_started = time.monotonic()
        return []

    def _text(self, part: Mapping[str, Any], obj: Mapping[str, Any]) -> list[AgentEvent]:
        text = str(part.get("text", ""))
        return [AgentEvent(EventKind.TEXT, text=text if text.endswith("\n") else text + "\n")]

    def _reasoning(self, part: Mapping[str, Any], obj: Mapping[str, Any]) -> list[AgentEvent]:
        return [AgentEvent(EventKind.THOUGHT, text=str(part.get("text", "")))]

    def _tool(self, part: Mapping[str, Any], obj: Mapping[str, Any]) -> list[AgentEvent]:
        state = part.get("state") or {}
        tool = str(part.get("tool", ""))
        events = [AgentEvent(EventKind.TOOL_CALL, tool=tool, tool_input=_canonical(state.get("input", {})))]
        if state.get("status") in ("completed", "error"):
            output = state.get("output") if state.get("status") == "completed" else state.get("error")
            events.append(AgentEvent(EventKind.TOOL_RESULT, tool=tool, text=str(output or "")[:2000]))
        return events

    def _step_finish(self, part: Mapping[str, Any], obj: Mapping[str, Any]) -> list[AgentEvent]:
        self._last_error = None
        tokens = part.get("tokens") or {}
        cache = tokens.get("cache") or {}
        usage = Usage(
            input=int(tokens.get("input", 0)) + int(cache.get("write", 0)),
            cached=int(cache.get("read", 0)),
            output=int(tokens.get("output", 0)) + int(tokens.get("reasoning", 0)),
        )
        request = self._request
        cost = price_call(
            usage, reported_cost=part.get("cost"), is_local=request.is_local, price=request.price
        )
        call = ModelCall(
            backend="opencode",
            model=request.model,
            is_local=request.is_local,
            usage=usage,
            cost=cost,
            latency_s=time.monotonic() - self._step_started,
        )
        return [
            AgentEvent(EventKind.STEP, call=call, text=str(part.get("reason", ""))),
            AgentEvent(EventKind.USAGE, context_used=usage.total),
        ]

    def _error(self, part: Mapping[str, Any], obj: Mapping[str, Any]) -> list[AgentEvent]:
        error = obj.get("error") or {}
        data = error.get("data") or {}
        status = data.get("statusCode")
        detail = f"{error.get('name', 'error')}: {data.get('message', '') or _canonical(error)}"
        if status:
            detail += f" (HTTP {status})"
        self._last_error = detail
        if error.get("name") == "ContextOverflowError":
            self.fatal = detail  # Ralph decides on context pressure, not opencode's own compaction
        return [AgentEvent(EventKind.ERROR, text=detail)]

    def finish(self, returncode: int, stderr: str) -> str | None:
        """An error not followed by a finished step is the failure (opencode may exit 0 after one); else a
        non-zero exit code is."""
        if self._last_error is not None:
            return self._last_error
        if returncode == 0:
            return None
        return f"opencode exited with code {returncode}: {stderr.strip()[-1000:]}"

    _handlers = {
        "step_start": _step_start,
        "text": _text,
        "reasoning": _reasoning,
        "tool_use": _tool,
        "step_finish": _step_finish,
        "error": _error,
    }


class OpencodeBackend:
    """``opencode run --format json``, one process per stage; ``--session`` continues a session."""

    name = "opencode"

    def __init__(self, options: BackendOptions) -> None:
        self.options = options
        self.config = OpencodeConfig.from_options(options)

    def argv(self, request: StageRequest) -> list[str]:
        argv = [*self.config.program, "run", "--format", "json", "--title", f"ralph {request.stage.key}"]
        if request.model:
            argv += ["--model", request.model]
        if request.agent:
            argv += ["--agent", request.agent]
        if request.session_id:
            argv += ["--session", request.session_id]
        return argv

    def env(self, request: StageRequest) -> dict[str, str]:
        permission = dict(self.config.permission)
        if request.read_only:
            permission["edit"] = "deny"
        base = {
            "OPENCODE_DISABLE_AUTOUPDATE": "1",
            "OPENCODE_PERMISSION": json.dumps(permission),
            "PWD": str(request.cwd.resolve()),
        }
        return scrubbed_env(extra={**base, **self.options.env})

    def run(self, request: StageRequest, events: EventSink) -> StageResult:
        stage = StageRun(self.name, request, self.options, events)
        argv, env = self.argv(request), self.env(request)
        error = run_lines(stage, argv, env=env, stdin_text=request.prompt, parser=_Parser(request))
        return stage.result(error)

    def close(self) -> None:
        return None
