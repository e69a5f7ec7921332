"""Crash safety: stale and held lock files, a git killed at its timeout, leftover private index files."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from tests.gitops.repos import write

from ralph.errors import GitError
from ralph.gitops import commit_all, find_locks, recover, snapshot_attempt
from ralph.gitops import commits as commits_module
from ralph.proc import reap_orphans


def age(path: Path, seconds: float) -> None:
    past = time.time() - seconds
    os.utime(path, (past, past))


def test_stale_index_lock_is_named_then_recovered(git_repo: Path) -> None:
    lock = git_repo / ".git" / "index.lock"
    lock.write_text("")
    age(lock, 60)
    write(git_repo, "x.txt", "x\n")
    with pytest.raises(GitError, match=r"index\.lock exists but no process holds it"):
        commit_all(git_repo, "blocked")
    found = recover(git_repo)
    assert found.removed_locks == (lock,)
    assert any("removed stale lock" in line for line in found.lines())
    assert not lock.exists()
    assert commit_all(git_repo, "works now") is not None


def test_a_lock_held_by_a_live_process_is_left_alone(git_repo: Path) -> None:
    lock = git_repo / ".git" / "index.lock"
    with open(lock, "w"):
        age(lock, 60)
        (held,) = find_locks(git_repo)
        assert held.holder_pid == os.getpid()
        found = recover(git_repo)
        assert found.removed_locks == ()
        assert f"held by running process {os.getpid()}" in found.held_locks[0]
    lock.unlink()


def test_a_fresh_lock_is_not_removed(git_repo: Path) -> None:
    lock = git_repo / ".git" / "index.lock"
    lock.write_text("")
    assert recover(git_repo).removed_locks == ()
    assert lock.exists()


def test_git_killed_at_timeout_leaves_no_lock_and_no_hook_process(
    git_repo: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    marker = f"{time.time_ns() % 10**6}.25"
    hook = git_repo / ".git" / "hooks" / "pre-commit"
    hook.write_text(f"#!/bin/sh\nsleep {marker}\n")
    hook.chmod(0o755)
    monkeypatch.setattr(commits_module, "COMMIT_TIMEOUT_S", 1.0)
    write(git_repo, "x.txt", "x\n")
    with pytest.raises(GitError, match="timed out after 1s"):
        commit_all(git_repo, "slow hook")
    assert not (git_repo / ".git" / "index.lock").exists()
    assert not _running(marker)
    hook.unlink()
    assert commit_all(git_repo, "no hook") is not None


def test_a_git_left_running_by_a_killed_ralph_is_stopped_at_the_next_start(git_repo: Path) -> None:
    """A kill -9 of Ralph does not stop its git (nor git's hooks): the next run reaps them before it
    repairs the tree, so nothing keeps writing under the repair."""
    marker = f"{time.time_ns() % 10**6}.75"
    hook = git_repo / ".git" / "hooks" / "pre-commit"
    hook.write_text(f"#!/bin/sh\nsleep 1{marker}\n")
    hook.chmod(0o755)
    write(git_repo, "x.txt", "x\n")
    code = (
        "import sys; from pathlib import Path; from ralph.gitops import commit_all;"
        "commit_all(Path(sys.argv[1]), 'm')"
    )
    child = subprocess.Popen([sys.executable, "-c", code, str(git_repo)])
    deadline = time.monotonic() + 60
    while not _running(marker) and time.monotonic() < deadline:
        time.sleep(0.02)
    assert _running(marker), "the hook never started"
    child.kill()
    child.wait()
    assert _running(marker), "the hook stopped with Ralph: nothing to reap"
    reap_orphans()
    assert not _running(marker)
    recover(git_repo, min_lock_age_s=0.0)
    hook.unlink()
    assert commit_all(git_repo, "after the restart") is not None


def _running(marker: str) -> list[str]:
    return [pid for pid in os.listdir("/proc") if pid.isdigit() and marker in _cmdline(pid)]


def _cmdline(pid: str) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().decode(errors="replace")
    except OSError:
        return ""


def test_recover_removes_private_index_files_of_dead_processes(git_repo: Path) -> None:
    folder = git_repo / ".git" / "ralph"
    folder.mkdir()
    dead = folder / "index-999999999-abcd"
    alive = folder / f"index-{os.getpid()}-abcd"
    dead.write_bytes(b"x")
    alive.write_bytes(b"x")
    found = recover(git_repo)
    assert found.removed_temp_files == (dead,)
    assert alive.exists() and not dead.exists()


def test_recover_reports_a_pending_snapshot(git_repo: Path) -> None:
    assert recover(git_repo).lines() == []
    snap = snapshot_attempt(git_repo)
    found = recover(git_repo)
    assert found.pending_snapshot == snap
    assert "snapshot is pending" in found.lines()[0]
