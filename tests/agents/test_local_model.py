"""A real local model end to end: llama-server (built from the llama-cpp-python sdist) serving
SmolLM2-135M-Instruct, with the real opencode as the BUILD agent. Only the plumbing is asserted: the calls
are local, with tokens and cost 0, and the model's unusable answers end in validation retries and a clean
stop. Runs when ``make test-local-model`` has built the cache (scripts/build-llama-server.sh).
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from tests.agents.recording import Recorder
from tests.fakes.agent_env import binary, home_env, opencode_env, write_wrapper
from tests.fakes.netjail import UnixBridge, jail_prefix

from ralph.agents.base import BackendOptions, StageRequest
from ralph.agents.opencode import OpencodeBackend
from ralph.output import parse_output
from ralph.proc import kill_group
from ralph.stage import Stage
from ralph.tix import TicketStore

pytestmark = [pytest.mark.localmodel, pytest.mark.realcli]

CACHE = Path(os.environ.get("RALPH_LLAMA_CACHE", str(Path.home() / ".cache" / "ralph" / "llama-server")))
SERVER = CACHE / "bin" / "llama-server"
GGUF = CACHE / "models" / "SmolLM2-135M-Instruct.Q4_1.gguf"
MODEL = "llamacpp/local-model"
PROMPT = (
    "Create hello.txt containing hi. When done, answer exactly:\n"
    '[RALPH_OUTPUT]\n{"verdict": "done", "summary": "..."}\n[/RALPH_OUTPUT]'
)


@dataclass(frozen=True)
class LocalModel:
    port: int
    unix_path: str

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    def prefix(self, *argv: str) -> tuple[str, ...]:
        return (*jail_prefix({self.port: self.unix_path}), *argv)

    def opencode_env(self, home: Path) -> dict[str, str]:
        model = {"name": "SmolLM2 135M", "limit": {"context": 8192, "output": 64}}
        provider = {
            "npm": "@ai-sdk/openai-compatible",
            "name": "llama.cpp",
            "options": {"baseURL": self.base_url, "apiKey": "none"},
            "models": {"local-model": model},
        }
        config = {
            "provider": {"llamacpp": provider},
            "model": MODEL,
            "small_model": MODEL,
            "autoupdate": False,
        }
        return opencode_env(home, config)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _wait_healthy(port: int, proc: subprocess.Popen[bytes], timeout_s: float = 120.0) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise AssertionError(f"llama-server exited with {proc.returncode}")
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.5)
    raise AssertionError("llama-server did not become healthy")


@pytest.fixture(scope="module")
def llama(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalModel]:
    if not (SERVER.exists() and GGUF.exists()):
        pytest.skip(f"no llama-server cache in {CACHE}; run `make test-local-model`")
    port = _free_port()
    argv = [str(SERVER), "-m", str(GGUF), "--host", "127.0.0.1", "--port", str(port), "-c", "8192", "--jinja"]
    argv += ["-a", "local-model", "-t", "2", "-n", "64"]
    log = tmp_path_factory.mktemp("llama") / "server.log"
    with log.open("wb") as out:
        proc = subprocess.Popen(argv, stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
    bridge = UnixBridge(str(log.parent / "llama.sock"), port)
    try:
        _wait_healthy(port, proc)
        yield LocalModel(port, bridge.unix_path)
    finally:
        bridge.close()
        kill_group(proc.pid)
        proc.wait()


@pytest.mark.timeout(2400)
def test_build_stage_on_the_local_model_is_recorded_local(
    llama: LocalModel, agent_home: Path, worktree: Path
) -> None:
    options = BackendOptions(
        program=llama.prefix(str(binary("opencode"))), env=llama.opencode_env(agent_home)
    )
    backend = OpencodeBackend(options)
    request = StageRequest(Stage.BUILD, PROMPT, MODEL, worktree, 900.0, is_local=True, context_window=8192)
    first = backend.run(request, Recorder())
    assert first.calls, first.detail
    assert all(c.is_local for c in first.calls) and first.cost == 0.0
    assert first.usage.input > 0, "llama-server reports usage in streams"
    parsed = parse_output(Stage.BUILD, first.text)
    if not parsed.ok:
        repair = StageRequest(
            Stage.BUILD,
            "Answer only with the [RALPH_OUTPUT] block.",
            MODEL,
            worktree,
            900.0,
            is_local=True,
            context_window=8192,
            session_id=first.session_id,
        )
        second = backend.run(repair, Recorder())
        assert second.session_id == first.session_id
        assert all(c.is_local for c in second.calls) and second.cost == 0.0


@pytest.mark.timeout(5400)
def test_construct_iteration_on_the_local_model_stops_cleanly(
    llama: LocalModel, agent_home: Path, git_repo: Path, tmp_path: Path
) -> None:
    ralph = [sys.executable, "-c", "from ralph.cli.main import main; main()"]
    assert (
        subprocess.run([*ralph, "init", "--branch", "ralph/work"], cwd=git_repo, check=False).returncode == 0
    )
    (git_repo / "ralph" / "specs" / "hello.md").write_text("# Hello\n\nA file hello.txt contains hi.\n")
    task = TicketStore.open(git_repo).add_task(
        {
            "name": "Create hello.txt",
            "spec": "hello.md",
            "notes": "Create hello.txt with hi.",
            "accept": "hello.txt is hi",
        }
    )
    subprocess.run(["git", "-C", str(git_repo), "add", "-A"], check=True)
    subprocess.run(["git", "-C", str(git_repo), "commit", "-q", "-m", "spec"], check=True)
    wrapper = write_wrapper(
        tmp_path / "opencode", llama.prefix(str(binary("opencode"))), llama.opencode_env(agent_home)
    )
    (git_repo / "ralph" / "config.toml").write_text(
        f'backend = "opencode"\nmodel = "{MODEL}"\nopencode_bin = "{wrapper}"\nmax_validation_retries = 1\n'
        f'[providers.llamacpp]\nbase_url = "{llama.base_url}"\nlocal = true\n'
    )
    logs = tmp_path / "logs"
    env = {**os.environ, **home_env(tmp_path / "home")}
    done = subprocess.run(
        [
            *ralph,
            "construct",
            "--spec",
            "hello.md",
            "--max-iterations",
            "1",
            "--log-dir",
            str(logs),
            "--allow-dirty",
            "--stage-timeout",
            "900",
        ],
        cwd=git_repo,
        env=env,
        capture_output=True,
        text=True,
        timeout=5000,
        check=False,
    )
    assert done.returncode in (0, 3, 4), done.stdout[-3000:] + done.stderr[-3000:]
    calls = [json.loads(line) for line in (logs / "calls.jsonl").read_text().splitlines()]
    assert calls and all(c["is_local"] and c["cost"] == 0 for c in calls)
    assert sum(c["tokens"]["input"] for c in calls) > 0
    build = [r for r in _lines(logs / "iterations.jsonl") if r["stage"] == "BUILD"]
    assert build and (build[0].get("validation_retries", 0) >= 1 or build[0]["outcome"] == "success")
    final = _lines(logs / "runs.jsonl")[-1]
    assert final["exit_reason"] != "error" and final["api_calls"]["remote"] == 0
    assert final["api_calls"]["local"] == len(calls) and final["cost"] == 0
    assert TicketStore.open(git_repo).get(task.id).status.label in ("pending", "done", "accepted")


def _lines(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text().splitlines()]
