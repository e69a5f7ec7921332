"""An agent that forks background children (in its group, and a setsid daemon that leaves it) is cleaned up
completely when its stage ends, whether it exited on its own or was killed at the stage timeout. Checked
while Ralph still runs (its next BUILD hangs), so no other process's clean-up can be what removed them."""

from __future__ import annotations

import signal
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
    start_construct,
    wait_for,
)

BLOCKED = '[RALPH_OUTPUT]\n{"verdict": "blocked", "summary": "stuck", "reason": "stuck"}\n[/RALPH_OUTPUT]\n'
FORKS = {"children": 2, "daemon": True}


@pytest.mark.parametrize(
    ("first", "flags"),
    [
        pytest.param({**FORKS, "text": BLOCKED}, [], id="agent-exits-leaving-children"),
        pytest.param({**FORKS, "text": "thinking\n", "hang": True}, ["--stage-timeout", "4"], id="timeout"),
    ],
)
def test_children_of_an_agent_die_with_its_stage(
    planned_repo: Callable[..., Path], tmp_path: Path, first: dict[str, object], flags: list[str]
) -> None:
    agent = tmp_path / "agent"
    program = fake_opencode(agent, [first, {"text": "thinking\n", "hang": True}])
    proc = start_construct(
        planned_repo("opus"), *flags, env=build_by(program, RALPH_STAGE_TIMEOUT_MS="600000")
    )
    try:
        wait_for(lambda: bool(agent_pids(agent, turn=1)) or proc.poll() is not None, what="second BUILD")
        assert proc.poll() is None, finish(proc)[1]
        left = agent_pids(agent, turn=0)
        assert len(left["child"]) == 2 and len(left["daemon"]) == 1
        assert not [pid for pids in left.values() for pid in pids if alive(pid)]
        assert not group_pids(left["agent"][0])
    finally:
        proc.send_signal(signal.SIGTERM)
        finish(proc, timeout=60)
