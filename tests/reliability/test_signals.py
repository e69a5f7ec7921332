"""SIGINT/SIGTERM while an agent with children runs: the whole process group (and a setsid daemon that left
it) is stopped, the end record says ``interrupted``, the state is saved, exit 130; a second SIGINT while the
agent refuses to die forces the exit at once, and still leaves nothing running."""

from __future__ import annotations

import signal
import subprocess
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from tests.reliability.harness import (
    agent_pids,
    alive,
    build_by,
    fake_opencode,
    finish,
    group_pids,
    json_lines,
    read_state,
    start_construct,
    tagged_by,
    wait_for,
)

HANGING = {"text": "working...\n", "children": 2, "daemon": True, "hang": True}


def _started(
    planned_repo: Callable[..., Path], tmp_path: Path, turn: dict[str, object]
) -> tuple[subprocess.Popen[str], Path, Path]:
    repo = planned_repo("opus")
    agent = tmp_path / "agent"
    logs = tmp_path / "logs"
    proc = start_construct(repo, env=build_by(fake_opencode(agent, [turn]), RALPH_LOG_DIR=str(logs)))
    wait_for(lambda: "daemon" in agent_pids(agent) or proc.poll() is not None, what="agent with children")
    assert proc.poll() is None, finish(proc)[1]
    return proc, repo, logs


def _nothing_left(proc: subprocess.Popen[str], agent: Path) -> None:
    """Nothing the agent started runs once ralph has exited (another ralph's orphan reaping excluded: the
    check is made at once)."""
    pids = agent_pids(agent)
    wait_for(lambda: not any(alive(p) for ps in pids.values() for p in ps), timeout=0.5, what="agent gone")
    assert not group_pids(pids["agent"][0])
    assert not tagged_by(proc.pid)


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM])
def test_signal_stops_the_agent_group_records_the_end_and_exits_130(
    planned_repo: Callable[..., Path], tmp_path: Path, sig: signal.Signals
) -> None:
    proc, repo, logs = _started(planned_repo, tmp_path, HANGING)
    proc.send_signal(sig)
    code, out = finish(proc, timeout=60)
    assert code == 130, out
    assert f"exit: interrupted (stopped by {sig.name})" in out
    _nothing_left(proc, tmp_path / "agent")
    end = [r for r in json_lines(logs / "runs.jsonl") if r["record"] == "end"]
    assert [r["exit_reason"] for r in end] == ["interrupted"]
    state = read_state(repo)
    assert state["run_id"] == end[0]["run_id"] and state["pid"] == proc.pid
    assert state["stage"] == "BUILD" and state["attempt"]["task_id"] == state["task_id"]


def test_second_sigint_forces_exit_and_kills_what_the_agent_left(
    planned_repo: Callable[..., Path], tmp_path: Path
) -> None:
    proc, _, logs = _started(planned_repo, tmp_path, {**HANGING, "ignore_term": True})
    proc.send_signal(signal.SIGINT)
    time.sleep(0.5)
    assert proc.poll() is None, "the first SIGINT must wait for the agent's group to stop"
    forced_at = time.monotonic()
    proc.send_signal(signal.SIGINT)
    code, out = finish(proc, timeout=60)
    assert code == 130, out
    assert time.monotonic() - forced_at < 1.5
    _nothing_left(proc, tmp_path / "agent")
    assert [r["record"] for r in json_lines(logs / "runs.jsonl")] == ["start"]
