"""A scripted model server on 127.0.0.1: OpenAI chat-completions and Anthropic messages, streamed or whole.

Each test scripts its turns; every request is recorded (body and headers) so a test can check what the agent
really sent. opencode's title request (no tools, a "title" system prompt) is answered with a short text
without consuming the script. The server also listens on a Unix socket, which ``netjail`` forwards into a
network namespace that has only a loopback device.
"""

from __future__ import annotations

import json
import os
import socket
import socketserver
import tempfile
import threading
import time
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from tests.fakes import wire
from tests.fakes.wire import ToolCall, Turn

__all__ = ["Recorded", "ScriptedModelServer", "ToolCall", "Turn"]


@dataclass(frozen=True)
class Recorded:
    """One request the server received."""

    api: str  # "openai" | "anthropic" | "other"
    path: str
    body: Mapping[str, Any]
    headers: Mapping[str, str]
    title: bool
    at: float

    def text(self) -> str:
        """Everything the request carried, as one JSON string (for 'did the history arrive' checks)."""
        return json.dumps(self.body)


def _system_text(body: Mapping[str, Any]) -> str:
    system = body.get("system", "")
    parts = [json.dumps(system)]
    for message in body.get("messages", []):
        if isinstance(message, dict) and message.get("role") == "system":
            parts.append(json.dumps(message.get("content", "")))
    return " ".join(parts).lower()


def is_title_request(body: Mapping[str, Any]) -> bool:
    """opencode names each new session with a tool-less request whose system prompt asks for a title."""
    return not body.get("tools") and "title" in _system_text(body)


class ScriptedModelServer:
    """``with ScriptedModelServer([Turn(...), ...]) as server:``; ``server.base_url`` for the agent."""

    def __init__(
        self, turns: Iterable[Turn] = (), *, default: Turn | None = None, title_text: str = "Ralph stage"
    ) -> None:
        self._turns: list[Turn] = list(turns)
        self.default = default or Turn(text="(script exhausted)")
        self.title_text = title_text
        self.requests: list[Recorded] = []
        self._lock = threading.Lock()
        self.stopping = threading.Event()
        self._dir = Path(tempfile.mkdtemp(prefix="ralph-fake-"))
        self.unix_path = self._dir / "model.sock"
        self._tcp = _TcpServer(("127.0.0.1", 0), _Handler)
        self._unix = _UnixServer(str(self.unix_path), _Handler)
        for server in (self._tcp, self._unix):
            server.owner = self
        self._threads = [
            threading.Thread(target=s.serve_forever, daemon=True) for s in (self._tcp, self._unix)
        ]

    @property
    def port(self) -> int:
        return int(self._tcp.server_address[1])

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def script(self, *turns: Turn) -> None:
        with self._lock:
            self._turns.extend(turns)

    def next_turn(self, body: Mapping[str, Any]) -> tuple[Turn, bool]:
        title = is_title_request(body)
        with self._lock:
            if title:
                return Turn(text=self.title_text, input_tokens=40, output_tokens=4), True
            return (self._turns.pop(0) if self._turns else self.default), False

    def record(self, entry: Recorded) -> None:
        with self._lock:
            self.requests.append(entry)

    @property
    def main_requests(self) -> list[Recorded]:
        """Requests other than title requests and token counting."""
        return [r for r in list(self.requests) if not r.title and r.api != "other"]

    def wait_for_requests(self, count: int, timeout_s: float = 30.0) -> bool:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if len(self.main_requests) >= count:
                return True
            time.sleep(0.05)
        return False

    def start(self) -> ScriptedModelServer:
        for thread in self._threads:
            thread.start()
        return self

    def stop(self) -> None:
        self.stopping.set()
        for server in (self._tcp, self._unix):
            server.shutdown()
            server.server_close()
        try:
            os.unlink(self.unix_path)
            self._dir.rmdir()
        except OSError:
            pass

    def __enter__(self) -> ScriptedModelServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


class _TcpServer(ThreadingHTTPServer):
    daemon_threads = True
    owner: ScriptedModelServer

    def handle_error(self, request: Any, client_address: Any) -> None:
        """A client that went away (a killed agent) is normal here; print no traceback."""


class _UnixServer(socketserver.ThreadingUnixStreamServer):
    daemon_threads = True
    owner: ScriptedModelServer

    def handle_error(self, request: Any, client_address: Any) -> None:
        """A client that went away (a killed agent) is normal here; print no traceback."""


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _TcpServer | _UnixServer

    def log_message(self, format: str, *args: Any) -> None:
        return None

    def address_string(self) -> str:
        return "local"

    def do_GET(self) -> None:
        if self.path.startswith("/health"):
            self._json(200, {"status": "ok"})
        elif self.path.startswith("/v1/models"):
            self._json(200, {"object": "list", "data": [{"id": "fake-model", "object": "model"}]})
        else:
            self._json(404, {"error": {"message": f"no route {self.path}"}})

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b"{}"
        try:
            body = json.loads(raw or b"{}")
        except json.JSONDecodeError:
            body = {"_raw": raw.decode("utf-8", "replace")}
        path = self.path.split("?")[0]
        if path.endswith("/count_tokens"):
            self._json(200, {"input_tokens": 100})
            return
        api = (
            "openai"
            if path.endswith("/chat/completions")
            else "anthropic"
            if path.endswith("/messages")
            else ""
        )
        owner = self.server.owner
        turn, title = owner.next_turn(body) if api else (Turn(status=404), False)
        owner.record(Recorded(api or "other", path, body, dict(self.headers.items()), title, time.time()))
        self._answer(api, turn, body)

    def _answer(self, api: str, turn: Turn, body: Mapping[str, Any]) -> None:
        owner = self.server.owner
        if turn.delay_s:
            owner.stopping.wait(turn.delay_s)
        if turn.hang:
            owner.stopping.wait()
            self.close_connection = True
            return
        if turn.status != 200:
            error = wire.openai_error(turn) if api == "openai" else wire.anthropic_error(turn)
            self._json(turn.status, error, turn.headers)
            return
        model = str(body.get("model", "fake-model"))
        if not body.get("stream"):
            whole = wire.openai_whole(turn, model) if api == "openai" else wire.anthropic_whole(turn, model)
            self._json(200, whole, turn.headers)
            return
        chunks = wire.openai_stream(turn, model) if api == "openai" else wire.anthropic_stream(turn, model)
        self._stream(chunks, turn)

    def _json(self, status: int, data: Mapping[str, Any], headers: Mapping[str, str] | None = None) -> None:
        payload = json.dumps(data).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        for key, value in (headers or {}).items():
            self.send_header(key, value)
        self.end_headers()
        self.wfile.write(payload)

    def _stream(self, chunks: Iterator[bytes], turn: Turn) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.send_header("Cache-Control", "no-cache")
        self.send_header("Transfer-Encoding", "chunked")
        for key, value in turn.headers.items():
            self.send_header(key, value)
        self.end_headers()
        try:
            for index, data in enumerate(chunks):
                self.wfile.write(b"%x\r\n%s\r\n" % (len(data), data))
                self.wfile.flush()
                if turn.drop_connection and index == 0:
                    self._drop()
                    return
                if turn.break_stream and index == 0:
                    break
            self.wfile.write(b"0\r\n\r\n")
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True

    def _drop(self) -> None:
        """Cut the connection mid-stream, as a server that crashes after sending its 200 header does."""
        self.close_connection = True
        try:
            self.connection.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
