"""Two `ralph construct` in the same worktree at once (a cron job firing while last night's run still goes)
would edit, revert and commit the same files: the second must refuse at once and change nothing."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from tests.reliability.harness import finish, git, running_pid, start_construct, wait_for


def test_a_second_construct_in_the_same_worktree_refuses(planned_repo: Callable[..., Path]) -> None:
    repo = planned_repo("opus")
    first = start_construct(repo, "--max-iterations", "2", env={"RALPH_PROFILE": "opus"})
    wait_for(lambda: running_pid(repo) == first.pid or first.poll() is not None, what="first run started")
    second = start_construct(repo, "--max-iterations", "2", env={"RALPH_PROFILE": "opus"})
    code, out = finish(second)
    assert code == 2 and "already running" in out, out
    assert first.poll() is None, "the first run ended before the second one was checked"
    first_code, first_out = finish(first)
    assert first_code == 3, first_out
    assert len([s for s in git(repo, "log", "--format=%s").splitlines() if s.startswith("ralph:")]) == 3
