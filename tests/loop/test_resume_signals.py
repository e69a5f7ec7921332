"""Signals and crashes: SIGINT/SIGTERM end the run with exit 130 and an end record; after kill -9 a second
`ralph construct` resumes and finishes exactly as an uninterrupted run with the same seed."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
from pathlib import Path

import pytest
from tests.loop.e2e import RALPH, SPEC, create, end_records, lines, log_dir, ralph, tree_state

from ralph.tix import TaskStatus, TicketStore


def _planned(path: Path) -> Path:
    repo = create(path)
    done = ralph(repo, "plan", SPEC, env={"RALPH_PROFILE": "opus"})
    assert done.returncode == 0, done.stderr
    return repo


def _start(repo: Path, *args: str) -> subprocess.Popen[str]:
    env = {**os.environ, "RALPH_PROFILE": "opus"}
    return subprocess.Popen(
        [*RALPH, "construct", *args],
        cwd=repo,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _wait_for(predicate: object, timeout: float = 120.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():  # type: ignore[operator]
            return
        time.sleep(0.05)
    raise AssertionError("condition not reached")


def _running_stage(repo: Path) -> bool:
    try:
        state = json.loads((repo / ".tix" / "ralph-state.json").read_text())
    except (OSError, ValueError):
        return False
    return bool(state.get("running"))


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM])
def test_signal_stops_the_run_with_130_and_an_end_record(
    tmp_path: Path, isolated_home: Path, sig: signal.Signals
) -> None:
    repo = _planned(tmp_path / "repo")
    proc = _start(repo)
    _wait_for(lambda: _running_stage(repo))
    proc.send_signal(sig)
    out, err = proc.communicate(timeout=120)
    assert proc.returncode == 130, out + err
    end = end_records(isolated_home)[-1]
    assert end["exit_reason"] == "interrupted"
    assert "exit: interrupted" in out


def _outcome(repo: Path) -> tuple[list[str], dict[str, str]]:
    store = TicketStore.open(repo)
    accepted = sorted(t.name for t in store.tasks(status=TaskStatus.ACCEPTED))
    return accepted, tree_state(repo)


def test_resume_after_kill_9_matches_an_uninterrupted_run(tmp_path: Path, isolated_home: Path) -> None:
    reference = _planned(tmp_path / "reference")
    done = ralph(reference, "construct", env={"RALPH_PROFILE": "opus"})
    assert done.returncode == 0, done.stdout + done.stderr
    expected = _outcome(reference)
    calls_file = log_dir(isolated_home) / "calls.jsonl"
    repo = _planned(tmp_path / "repo")
    for kill_after in (4, 13):
        proc = _start(repo)
        seen = len(lines(calls_file))
        _wait_for(
            lambda seen=seen, k=kill_after, p=proc: len(lines(calls_file)) >= seen + k or p.poll() is not None
        )
        if proc.poll() is None:
            proc.kill()
        proc.communicate(timeout=60)
    done = ralph(repo, "construct", env={"RALPH_PROFILE": "opus"})
    assert done.returncode == 0, done.stdout + done.stderr
    names = [
        t.name for t in TicketStore.open(repo).tasks(status=tuple(TaskStatus)) if t.status.label != "deleted"
    ]
    assert len(names) == len(set(names))
    assert _outcome(repo)[0] == expected[0]
    assert _outcome(repo)[1] == expected[1]
    for name in ("runs.jsonl", "iterations.jsonl", "calls.jsonl"):
        text = (log_dir(isolated_home) / name).read_text()
        assert all(json.loads(line) for line in text.splitlines())
