"""Claude Code through ``claude -p --output-format stream-json --verbose --include-partial-messages``.

The prompt goes on stdin. Assistant lines repeat a message id once per content block, so content is
deduplicated by message id; exact per-call usage comes from the partial ``message_start``/``message_delta``
events. Failure is ``is_error`` on the result (its ``subtype`` says "success" even then).
``total_cost_usd`` is trusted only for Anthropic models and is spread over the calls by token weight; local
and configured-price models are priced by ``price_call``.
"""

from __future__ import annotations

import json
import time
from collections.abc import Mapping
from dataclasses import dataclass, replace
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

__all__ = ["ClaudeBackend", "ClaudeConfig"]

_READ_ONLY_DENY = "Write,Edit,NotebookEdit"
_QUIET_TYPES = frozenset(
    {"tool_progress", "tool_use_summary", "prompt_suggestion", "keep_alive", "command_lifecycle"}
)


@dataclass(frozen=True)
class ClaudeConfig:
    """How Claude Code is started."""

    program: tuple[str, ...] = ("claude",)
    """argv prefix (``claude_bin``)."""
    permission_mode: str = "acceptEdits"
    """``--permission-mode`` (``claude_permission_mode``); bypassPermissions as root needs IS_SANDBOX=1."""

    @classmethod
    def from_options(cls, options: BackendOptions) -> ClaudeConfig:
        return cls(
            program=tuple(options.program) or cls.program,
            permission_mode=options.permission_mode or cls.permission_mode,
        )


def is_anthropic_model(model: str) -> bool:
    """Claude's own price table only knows Anthropic models (it prices unknown names too, wrongly)."""
    name = model.lower().split("/")[-1]
    return name.startswith("claude") or name in {"opus", "sonnet", "haiku", "opusplan", "default"}


@dataclass
class _Call:
    model: str
    usage: Usage
    started: float
    done: bool = False


def _usage(raw: Mapping[str, Any]) -> Usage:
    return Usage(
        input=int(raw.get("input_tokens") or 0) + int(raw.get("cache_creation_input_tokens") or 0),
        cached=int(raw.get("cache_read_input_tokens") or 0),
        output=int(raw.get("output_tokens") or 0),
    )


class _Parser:
    """stream-json lines -> AgentEvents; one model call per assistant message id."""

    def __init__(self, request: StageRequest) -> None:
        self._request = request
        self._calls: dict[str, _Call] = {}
        self._current = ""
        self._blocks: set[tuple[str, str]] = set()
        self.result: Mapping[str, Any] | None = None
        self._error: str | None = None
        self.fatal: str | None = None

    def feed(self, obj: Mapping[str, Any]) -> list[AgentEvent]:
        kind = str(obj.get("type"))
        if kind == "system":
            sid = obj.get("session_id")
            return [AgentEvent(EventKind.SESSION, text=sid)] if obj.get("subtype") == "init" and sid else []
        if kind in _QUIET_TYPES:
            return []
        handler = {
            "stream_event": self._stream_event,
            "assistant": self._assistant,
            "user": self._user,
            "rate_limit_event": self._rate_limit,
            "result": self._result,
        }.get(kind)
        if handler is None:
            return [AgentEvent(EventKind.UNKNOWN, raw_type=kind, text=json.dumps(obj)[:500])]
        return handler(obj)

    def _stream_event(self, obj: Mapping[str, Any]) -> list[AgentEvent]:
        event = obj.get("event") or {}
        kind = event.get("type")
        if kind == "message_start":
            message = event.get("message") or {}
            self._current = str(message.get("id", ""))
            usage = _usage(message.get("usage") or {})
            self._calls[self._current] = _Call(str(message.get("model", "")), usage, time.monotonic())
            return [AgentEvent(EventKind.USAGE, context_used=usage.input + usage.cached)]
        call = self._calls.get(self._current)
        if call is None:
            return []
        if kind == "message_delta":
            output = (event.get("usage") or {}).get("output_tokens")
            if output is not None:
                call.usage = replace(call.usage, output=int(output))
        elif kind == "message_stop":
            return self._finish_call(call)
        return []

    def _finish_call(self, call: _Call) -> list[AgentEvent]:
        if call.done:
            return []
        call.done = True
        request = self._request
        cost = price_call(call.usage, reported_cost=None, is_local=request.is_local, price=request.price)
        model_call = ModelCall(
            backend="claude",
            model=request.model or call.model,
            is_local=request.is_local,
            usage=call.usage,
            cost=cost,
            latency_s=time.monotonic() - call.started,
        )
        return [AgentEvent(EventKind.STEP, call=model_call)]

    def _assistant(self, obj: Mapping[str, Any]) -> list[AgentEvent]:
        message = obj.get("message") or {}
        content = message.get("content") or []
        if message.get("model") == "<synthetic>":
            return []
        msg_id = str(message.get("id", ""))
        if msg_id not in self._calls:
            usage = _usage(message.get("usage") or {})
            self._calls[msg_id] = _Call(str(message.get("model", "")), usage, time.monotonic())
        events: list[AgentEvent] = []
        for block in content:
            if isinstance(block, dict):
                events += self._block(msg_id, block)
        return events

    def _block(self, msg_id: str, block: Mapping[str, Any]) -> list[AgentEvent]:
        kind = block.get("type")
        key = (msg_id, str(block.get("id") or json.dumps(block, sort_keys=True)))
        if key in self._blocks:
            return []
        self._blocks.add(key)
        if kind == "text":
            return [AgentEvent(EventKind.TEXT, text=str(block.get("text", "")) + "\n")]
        if kind == "thinking":
            return [AgentEvent(EventKind.THOUGHT, text=str(block.get("thinking", "")))]
        if kind == "tool_use":
            tool_input = json.dumps(block.get("input", {}), sort_keys=True, separators=(",", ":"))
            return [AgentEvent(EventKind.TOOL_CALL, tool=str(block.get("name", "")), tool_input=tool_input)]
        return []

    def _user(self, obj: Mapping[str, Any]) -> list[AgentEvent]:
        content = (obj.get("message") or {}).get("content") or []
        results = [b for b in content if isinstance(b, dict) and b.get("type") == "tool_result"]
        return [AgentEvent(EventKind.TOOL_RESULT, text=str(b.get("content", ""))[:2000]) for b in results]

    def _rate_limit(self, obj: Mapping[str, Any]) -> list[AgentEvent]:
        info = obj.get("rate_limit_info") or {}
        status = str(info.get("status", ""))
        resets = info.get("resetsAt")
        reset_s = max(0.0, float(resets) - time.time()) if resets and status == "rejected" else None
        detail = f"rate limit {status} ({info.get('rateLimitType') or 'unknown window'})"
        return [AgentEvent(EventKind.RATE_LIMIT, text=detail, reset_s=reset_s)]

    def _result(self, obj: Mapping[str, Any]) -> list[AgentEvent]:
        self.result = obj
        events: list[AgentEvent] = []
        for call in self._calls.values():
            events += self._finish_call(call)
        sid = obj.get("session_id")
        if sid:
            events.append(AgentEvent(EventKind.SESSION, text=str(sid)))
        if not obj.get("is_error"):
            return events
        status = obj.get("api_error_status")
        detail = str(obj.get("result") or obj.get("subtype") or "error")
        if status:
            detail = f"API error {status} ({obj.get('api_error_type') or 'unknown'}): {detail}"
            if int(status) == 429:
                events.append(AgentEvent(EventKind.RATE_LIMIT, text=detail))
        self._error = detail
        return [*events, AgentEvent(EventKind.ERROR, text=detail)]

    def finish(self, returncode: int, stderr: str) -> str | None:
        """``is_error`` on the result decides; without a result, the exit code does."""
        if self.result is not None:
            return self._error
        if returncode == 0:
            return None
        return f"claude exited with code {returncode} without a result: {stderr.strip()[-1000:]}"


def _weight(usage: Usage) -> float:
    return usage.input + 0.1 * usage.cached + 5.0 * usage.output


def spread_cost(calls: list[ModelCall], total: float) -> list[ModelCall]:
    """Share Claude's reported total over the calls by approximate price weight (sums exactly)."""
    weights = [_weight(c.usage) for c in calls]
    whole = sum(weights)
    if not calls or whole <= 0:
        return calls
    return [replace(c, cost=total * w / whole) for c, w in zip(calls, weights, strict=True)]


class ClaudeBackend:
    """``claude -p`` with stream-json, one process per stage; ``--resume`` continues a session."""

    name = "claude"

    def __init__(self, options: BackendOptions) -> None:
        self.options = options
        self.config = ClaudeConfig.from_options(options)

    def argv(self, request: StageRequest) -> list[str]:
        argv = [*self.config.program, "-p", "--output-format", "stream-json", "--verbose"]
        argv += ["--include-partial-messages", "--permission-mode", self.config.permission_mode]
        if request.model:
            argv += ["--model", request.model]
        if request.agent:
            argv += ["--agent", request.agent]
        if request.session_id:
            argv += ["--resume", request.session_id]
        if request.read_only:
            argv += ["--disallowedTools", _READ_ONLY_DENY]
        return argv

    def env(self, request: StageRequest) -> dict[str, str]:
        base = {"DISABLE_AUTOUPDATER": "1", "PWD": str(request.cwd.resolve())}
        return scrubbed_env(extra={**base, **self.options.env})

    def run(self, request: StageRequest, events: EventSink) -> StageResult:
        stage = StageRun(self.name, request, self.options, events)
        parser = _Parser(request)
        error = run_lines(
            stage, self.argv(request), env=self.env(request), stdin_text=request.prompt, parser=parser
        )
        reported = (parser.result or {}).get("total_cost_usd")
        model = request.model or (stage.calls[0].model if stage.calls else "")
        trusted = not request.is_local and request.price is None and is_anthropic_model(model)
        if trusted and reported:
            stage.calls = spread_cost(stage.calls, float(reported))
        return stage.result(error)

    def close(self) -> None:
        return None
