"""A direct OpenAI-compatible endpoint (llama-server, vLLM, Ollama) for stages that need no tools.

Chat completions are streamed (SSE) by a reader thread over stdlib ``http.client`` while ``run()`` watches
the deadline; a kill closes the socket. There is no server-side session: a continued ``session_id`` resends
the conversation this backend kept. ``health_check`` asks ``/models`` before a run starts.
"""

from __future__ import annotations

import http.client
import json
import queue
import socket
import threading
import time
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

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

__all__ = ["OpenAIBackend", "OpenAIConfig", "health_check"]

_POLL_S = 0.2


@dataclass(frozen=True)
class OpenAIConfig:
    """Where the endpoint is and how to call it."""

    base_url: str = "http://127.0.0.1:8080/v1"
    """Up to and including ``/v1`` (``options.extra["base_url"]``, or the model's provider)."""
    api_key: str = ""
    max_tokens: int | None = None
    temperature: float | None = None

    @classmethod
    def from_options(cls, options: BackendOptions, model: str = "") -> OpenAIConfig:
        extra = options.extra
        provider = model.split("/", 1)[0] if "/" in model else ""
        providers: Mapping[str, Any] = extra.get("providers", {})
        base = (providers.get(provider) or {}).get("base_url") or extra.get("base_url") or cls.base_url
        return cls(
            base_url=str(base).rstrip("/"),
            api_key=str(extra.get("api_key", "")),
            max_tokens=extra.get("max_tokens"),
            temperature=extra.get("temperature"),
        )


def _connection(url: str, timeout_s: float | None) -> tuple[http.client.HTTPConnection, str]:
    parts = urlsplit(url)
    cls = http.client.HTTPSConnection if parts.scheme == "https" else http.client.HTTPConnection
    return cls(parts.hostname or "127.0.0.1", parts.port, timeout=timeout_s), parts.path or "/"


def health_check(base_url: str, timeout_s: float = 5.0) -> tuple[bool, str]:
    """Is an OpenAI-compatible endpoint up? ``(True, "models: a, b")`` or ``(False, why)``."""
    conn, path = _connection(base_url.rstrip("/") + "/models", timeout_s)
    try:
        conn.request("GET", path)
        response = conn.getresponse()
        body = response.read().decode("utf-8", errors="replace")
    except OSError as exc:
        return False, f"endpoint {base_url} unreachable: {exc}"
    finally:
        conn.close()
    if response.status != 200:
        return False, f"endpoint {base_url} answered HTTP {response.status}: {body[:300]}"
    try:
        names = [str(m.get("id")) for m in json.loads(body).get("data", [])]
    except (ValueError, AttributeError):
        return False, f"endpoint {base_url} sent no model list: {body[:300]}"
    return True, "models: " + ", ".join(names)


class _Reader(threading.Thread):
    """POSTs one streamed chat completion and queues ("line", text), ("error", detail) and ("end", "")."""

    def __init__(self, config: OpenAIConfig, body: Mapping[str, Any], timeout_s: float | None) -> None:
        super().__init__(daemon=True)
        self.items: queue.Queue[tuple[str, str]] = queue.Queue()
        self.retry_after: float | None = None
        self._config = config
        self._body = json.dumps(body).encode()
        # the stage deadline is enforced by run(); a slow local prompt eval may send nothing for minutes
        self._conn, self._path = _connection(config.base_url + "/chat/completions", timeout_s)

    def run(self) -> None:
        headers = {"Content-Type": "application/json", "Accept": "text/event-stream"}
        if self._config.api_key:
            headers["Authorization"] = f"Bearer {self._config.api_key}"
        try:
            self._conn.request("POST", self._path, body=self._body, headers=headers)
            response = self._conn.getresponse()
            if response.status != 200:
                self._refused(response)
                return
            while line := response.readline():
                self.items.put(("line", line.decode("utf-8", errors="replace")))
            self.items.put(("end", ""))
        except (OSError, http.client.HTTPException) as exc:
            self.items.put(("error", f"endpoint {self._config.base_url} failed: {type(exc).__name__}: {exc}"))
        finally:
            self._conn.close()

    def _refused(self, response: http.client.HTTPResponse) -> None:
        body = response.read().decode("utf-8", errors="replace")
        try:
            message = json.loads(body).get("error", {}).get("message", body)
        except (ValueError, AttributeError):
            message = body
        retry = response.getheader("retry-after")
        if retry and retry.replace(".", "", 1).isdigit():
            self.retry_after = float(retry)
        self.items.put(("error", f"endpoint HTTP {response.status}: {str(message)[:500]}"))

    def abort(self) -> None:
        sock = self._conn.sock
        if sock is not None:
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass


class _Turn:
    """Folds SSE chunks into events; remembers the answer, the usage and whether the stream finished."""

    def __init__(self) -> None:
        self.text: list[str] = []
        self.usage = Usage()
        self.finished = False

    def feed(self, line: str) -> list[AgentEvent]:
        data = line.strip().removeprefix("data:").strip()
        if not line.startswith("data:") or not data:
            return []
        if data == "[DONE]":
            self.finished = True
            return []
        try:
            chunk = json.loads(data)
        except ValueError:
            return [AgentEvent(EventKind.UNKNOWN, raw_type="non-json", text=data[:500])]
        events: list[AgentEvent] = []
        if isinstance(chunk.get("usage"), dict):
            self.usage = _usage(chunk["usage"])
        for choice in chunk.get("choices") or []:
            delta = choice.get("delta") or {}
            if delta.get("content"):
                self.text.append(delta["content"])
                events.append(AgentEvent(EventKind.TEXT, text=delta["content"]))
            if delta.get("reasoning_content"):
                events.append(AgentEvent(EventKind.THOUGHT, text=delta["reasoning_content"]))
            self.finished = self.finished or bool(choice.get("finish_reason"))
        return events


def _usage(raw: Mapping[str, Any]) -> Usage:
    cached = int((raw.get("prompt_tokens_details") or {}).get("cached_tokens") or 0)
    prompt = int(raw.get("prompt_tokens") or 0)
    return Usage(input=max(0, prompt - cached), cached=cached, output=int(raw.get("completion_tokens") or 0))


class OpenAIBackend:
    """Chat completions without tools; one HTTP request per stage (plus kept history on a continuation)."""

    name = "openai"

    def __init__(self, options: BackendOptions) -> None:
        self.options = options
        self._history: dict[str, list[dict[str, str]]] = {}

    def health_check(self, model: str = "") -> tuple[bool, str]:
        return health_check(OpenAIConfig.from_options(self.options, model).base_url)

    def _body(
        self, request: StageRequest, config: OpenAIConfig, messages: list[dict[str, str]]
    ) -> dict[str, Any]:
        provider, _, name = request.model.partition("/")
        providers: Mapping[str, Any] = self.options.extra.get("providers", {})
        body: dict[str, Any] = {
            "model": name if name and provider in providers else request.model,
            "messages": messages,
            "stream": True,
            "stream_options": {"include_usage": True},
        }
        if config.max_tokens:
            body["max_tokens"] = config.max_tokens
        if config.temperature is not None:
            body["temperature"] = config.temperature
        return body

    def run(self, request: StageRequest, events: EventSink) -> StageResult:
        stage = StageRun(self.name, request, self.options, events)
        config = OpenAIConfig.from_options(self.options, request.model)
        session = request.session_id or f"chat_{uuid.uuid4().hex[:12]}"
        messages = [*self._history.get(session, []), {"role": "user", "content": request.prompt}]
        stage.emit(AgentEvent(EventKind.SESSION, text=session))
        started = time.monotonic()
        socket_timeout = request.timeout_s + 5.0 if request.timeout_s > 0 else None
        reader = _Reader(config, self._body(request, config, messages), socket_timeout)
        reader.start()
        turn = _Turn()
        error = self._pump(stage, reader, turn)
        if reader.retry_after is not None:
            stage.emit(
                AgentEvent(EventKind.RATE_LIMIT, text=error or "rate limited", reset_s=reader.retry_after)
            )
        if error is None and stage.watch.reason is None:
            self._history[session] = [*messages, {"role": "assistant", "content": "".join(turn.text)}]
            self._book(stage, request, config, turn, time.monotonic() - started)
        return stage.result(error)

    def _pump(self, stage: StageRun, reader: _Reader, turn: _Turn) -> str | None:
        while True:
            try:
                kind, payload = reader.items.get(timeout=_POLL_S)
            except queue.Empty:
                kind, payload = "idle", ""
            if stage.check_deadline() is not None or stage.watch.reason is not None:
                reader.abort()
                return None
            if kind == "error":
                return payload
            if kind == "end":
                return None if turn.finished else "endpoint stream ended before the answer finished"
            if kind == "line":
                stage.raw(payload)
                for event in turn.feed(payload):
                    stage.emit(event)

    def _book(
        self, stage: StageRun, request: StageRequest, config: OpenAIConfig, turn: _Turn, latency: float
    ) -> None:
        usage = turn.usage
        call = ModelCall(
            backend=self.name,
            model=request.model,
            is_local=request.is_local,
            usage=usage,
            cost=price_call(usage, reported_cost=None, is_local=request.is_local, price=request.price),
            latency_s=latency,
            endpoint=config.base_url,
        )
        stage.emit(AgentEvent(EventKind.STEP, call=call))
        stage.emit(AgentEvent(EventKind.USAGE, context_used=usage.total))

    def close(self) -> None:
        self._history.clear()
