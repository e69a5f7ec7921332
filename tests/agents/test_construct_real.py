"""`ralph construct` with the real opencode as the backend of every stage, against the scripted server.

One iteration: BUILD (the agent writes a file through its own tool and answers a valid block), VERIFY
(accepts), commit. The ledger must show each model call with the tokens the server reported and opencode's
cost. The CLI runs as a subprocess; opencode_bin is a wrapper that puts opencode in the loopback-only jail
with the offline environment (the loop passes no per-backend environment).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from tests.fakes.agent_env import FAKE_MODEL, binary, jailed, opencode_config, opencode_env, write_wrapper
from tests.fakes.model_server import ScriptedModelServer, ToolCall, Turn

from ralph.tix import TaskStatus, TicketStore

pytestmark = pytest.mark.realcli

RALPH = [sys.executable, "-c", "from ralph.cli.main import main; main()"]
SPEC = "# Hello\n\nThe repository has a file `hello.txt` that contains `hi`.\n"


def ralph(repo: Path, *args: str, timeout: float = 1200) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*RALPH, *args],
        cwd=repo,
        env=dict(os.environ),
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def records(log_dir: Path, name: str) -> list[dict[str, Any]]:
    path = log_dir / name
    return [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []


@pytest.fixture
def project(git_repo: Path) -> tuple[Path, str]:
    done = ralph(git_repo, "init", "--branch", "ralph/work")
    assert done.returncode == 0, done.stderr
    (git_repo / "ralph" / "specs" / "hello.md").write_text(SPEC)
    task = TicketStore.open(git_repo).add_task(
        {
            "name": "Create hello.txt",
            "spec": "hello.md",
            "notes": "Create hello.txt at the repository root containing the line hi.",
            "accept": "hello.txt exists and contains exactly 'hi'",
        }
    )
    subprocess.run(["git", "-C", str(git_repo), "add", "-A"], check=True)
    subprocess.run(["git", "-C", str(git_repo), "commit", "-q", "-m", "spec and task"], check=True)
    return git_repo, task.id


@pytest.mark.timeout(1800)
def test_one_construct_iteration_with_real_opencode(
    project: tuple[Path, str], server: ScriptedModelServer, agent_home: Path, tmp_path: Path
) -> None:
    repo, task_id = project
    verdict = {"verdict": "done", "summary": "created hello.txt"}
    review = {"results": [{"task_id": task_id, "passed": True, "reason": "hello.txt contains hi"}]}
    server.script(
        Turn(
            tool_calls=(ToolCall("write", {"filePath": str(repo / "hello.txt"), "content": "hi\n"}),),
            input_tokens=1500,
            output_tokens=60,
        ),
        Turn(
            text=f"[RALPH_OUTPUT]\n{json.dumps(verdict)}\n[/RALPH_OUTPUT]",
            input_tokens=1700,
            output_tokens=40,
        ),
        Turn(
            text=f"[RALPH_OUTPUT]\n{json.dumps(review)}\n[/RALPH_OUTPUT]", input_tokens=2000, output_tokens=30
        ),
    )
    env = opencode_env(agent_home, opencode_config(server))
    wrapper = write_wrapper(tmp_path / "opencode", jailed(server, str(binary("opencode"))), env)
    (repo / "ralph" / "config.toml").write_text(
        f'backend = "opencode"\nmodel = "fake/{FAKE_MODEL}"\nopencode_bin = "{wrapper}"\n'
    )
    log_dir = tmp_path / "logs"
    done = ralph(
        repo,
        "construct",
        "--spec",
        "hello.md",
        "--max-iterations",
        "1",
        "--log-dir",
        str(log_dir),
        "--allow-dirty",
    )
    assert done.returncode in (0, 3), done.stdout + done.stderr
    calls = records(log_dir, "calls.jsonl")
    assert [(c["stage"], c["backend"]) for c in calls] == [("BUILD", "opencode")] * 2 + [
        ("VERIFY", "opencode")
    ]
    assert [c["tokens"]["input"] for c in calls] == [1500, 1700, 2000]
    assert all(c["is_local"] is False and c["cost"] > 0 for c in calls)
    build = next(r for r in records(log_dir, "iterations.jsonl") if r["stage"] == "BUILD")
    assert build["outcome"] == "success" and build["api_calls"] == 2
    assert build.get("validation_retries", 0) == 0 and "kill_reason" not in build
    assert build["tokens"] == {"input": 3200, "cached": 0, "output": 100}
    assert TicketStore.open(repo).get(task_id).status is TaskStatus.ACCEPTED
    assert (repo / "hello.txt").read_text() == "hi\n"
