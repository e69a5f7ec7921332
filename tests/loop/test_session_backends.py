"""Opening a run's backends: agent credentials pass through, checks never see them, endpoints are checked."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from ralph.errors import AgentError
from ralph.loop.session import build_backends
from ralph.proc import scrubbed_env
from ralph.settings import agent_environment, load_settings
from ralph.stage import Stage

PLANTED = "sk-ant-PLANTED-0123456789abcdef"


def test_agent_credentials_reach_agents_but_not_checks(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ANTHROPIC_API_KEY", PLANTED)
    monkeypatch.setenv("UNRELATED_TOKEN", "not-for-agents")
    settings = load_settings(None, overrides={"backend": "opencode"})
    backends, _, simulated = build_backends(settings, [Stage.BUILD], "run-1")
    env = backends["opencode"].options.env  # type: ignore[attr-defined]
    assert not simulated
    assert env["ANTHROPIC_API_KEY"] == PLANTED
    assert "UNRELATED_TOKEN" not in env
    assert "ANTHROPIC_API_KEY" not in scrubbed_env()


def test_agent_env_patterns_are_configurable() -> None:
    environ = {"ANTHROPIC_API_KEY": "a", "MY_GATEWAY_KEY": "b", "PATH": "/bin"}
    assert agent_environment(["MY_GATEWAY_*"], environ) == {"MY_GATEWAY_KEY": "b"}
    assert agent_environment([], environ) == {}


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_a_down_endpoint_stops_the_run_before_it_starts() -> None:
    url = f"http://127.0.0.1:{_closed_port()}/v1"
    overrides = {
        "backend": "opencode",
        "model_build": "llamacpp/devstral",
        "providers": {"llamacpp": {"base_url": url}},
    }
    settings = load_settings(None, overrides=overrides)
    with pytest.raises(AgentError, match="unreachable"):
        build_backends(settings, [Stage.BUILD], "run-2")


class _Models(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        body = b'{"data":[{"id":"devstral"}]}'
        self.send_response(200 if self.path.endswith("/models") else 404)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        return None


@pytest.fixture
def models_server() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Models)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/v1"
    server.shutdown()
    server.server_close()


def test_a_live_endpoint_is_passed_to_the_backends(models_server: str, tmp_path: Path) -> None:
    providers = {"llamacpp": {"base_url": models_server}}
    settings = load_settings(
        None, overrides={"backend": "openai", "model": "llamacpp/devstral", "providers": providers}
    )
    backends, _, _ = build_backends(settings, [Stage.DEDUP], "run-3")
    assert backends["openai"].options.extra["providers"] == {"llamacpp": {"base_url": models_server}}  # type: ignore[attr-defined]
