"""A guard that stops a run between BUILD and VERIFY (here the token budget) must leave the attempt in flight,
not commit unverified work: the next run verifies it and, when the review rejects it, reverts it exactly."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from tests.loop.e2e import EXTRA_CONFIG
from tests.reliability.harness import commit_files, finish, git, read_state, start_construct, tree_files

from ralph.tix import TaskStatus, TicketStore


def test_a_guard_between_build_and_verify_commits_nothing_unverified(
    planned_repo: Callable[..., Path], isolated_home: Path
) -> None:
    config = isolated_home / ".config" / "ralph" / "config.toml"
    config.parent.mkdir(parents=True)
    config.write_text(EXTRA_CONFIG)  # its `wrong` profile: BUILD always wrong, review always sees it
    repo = planned_repo("opus")
    planned = git(repo, "rev-parse", "HEAD").strip()
    code, out = finish(start_construct(repo, "--max-tokens", "1000", env={"RALPH_PROFILE": "wrong"}))
    assert code == 3 and "token_limit" in out, out
    attempt = read_state(repo)["attempt"]
    assert attempt is not None, "the unverified attempt was ended"
    assert commit_files(repo, "HEAD") == commit_files(repo, planned), "unverified work was committed"
    assert TicketStore.open(repo).get(attempt["task_id"]).status is TaskStatus.DONE
    code, out = finish(start_construct(repo, "--max-iterations", "1", env={"RALPH_PROFILE": "opus"}))
    assert code == 3, out
    assert TicketStore.open(repo).get(attempt["task_id"]).status is TaskStatus.PENDING
    assert tree_files(repo) == commit_files(repo, planned), "the rejected attempt was not reverted"
