"""Branch safety: the guard, Ralph's branch marks, branch creation, and pushes that never force."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from tests.gitops.repos import git, write

from ralph.errors import GitError, UsageError
from ralph.gitops import (
    commit_all,
    create_branch,
    created_by_ralph,
    current_branch,
    guard_branch,
    head_sha,
    mark_created,
    push,
)


def test_guard_refuses_the_default_branch(git_repo: Path) -> None:
    with pytest.raises(UsageError) as err:
        guard_branch(git_repo, allow_branch=False)
    assert str(err.value) == (
        "refusing to run on default branch 'main' (use --allow-branch or `ralph init --branch ralph/work`)"
    )
    assert err.value.exit_code == 2
    assert guard_branch(git_repo, allow_branch=True) == "main"


def test_guard_refuses_a_branch_ralph_did_not_create(git_repo: Path) -> None:
    git(git_repo, "switch", "-q", "-c", "feature")
    with pytest.raises(UsageError, match="'feature': Ralph did not create it"):
        guard_branch(git_repo, allow_branch=False)
    mark_created(git_repo, "feature")
    assert guard_branch(git_repo, allow_branch=False) == "feature"


def test_guard_refuses_a_detached_head_even_when_allowed(git_repo: Path) -> None:
    git(git_repo, "switch", "-q", "--detach")
    with pytest.raises(UsageError, match="detached HEAD"):
        guard_branch(git_repo, allow_branch=True)


def test_create_branch_marks_and_switches(git_repo: Path) -> None:
    create_branch(git_repo, "ralph/work", "main")
    assert current_branch(git_repo) == "ralph/work"
    assert created_by_ralph(git_repo, "ralph/work")
    assert git(git_repo, "config", "branch.ralph/work.ralph-created").strip() == "true"
    assert not created_by_ralph(git_repo, "main")
    git(git_repo, "switch", "-q", "main")
    create_branch(git_repo, "ralph/work", "main")
    assert current_branch(git_repo) == "ralph/work"


def test_create_branch_without_checkout_leaves_head(git_repo: Path) -> None:
    create_branch(git_repo, "ralph/side", "HEAD", checkout=False)
    assert current_branch(git_repo) == "main"
    assert git(git_repo, "rev-parse", "ralph/side") == git(git_repo, "rev-parse", "main")


def test_create_branch_refuses_a_foreign_existing_branch_and_bad_names(git_repo: Path) -> None:
    git(git_repo, "branch", "users-branch")
    with pytest.raises(GitError, match="Ralph did not create"):
        create_branch(git_repo, "users-branch", "main")
    with pytest.raises(UsageError, match="not a valid branch name"):
        create_branch(git_repo, "bad..name", "main")
    assert current_branch(git_repo) == "main"


def remote_sha(remote: Path, branch: str) -> str:
    return git(remote, "rev-parse", f"refs/heads/{branch}").strip()


def test_push_creates_updates_and_reports_up_to_date(git_repo: Path, bare_remote: Path) -> None:
    create_branch(git_repo, "ralph/work", "main")
    assert push(git_repo, "ralph/work").status == "created"
    assert push(git_repo, "ralph/work").status == "up_to_date"
    write(git_repo, "x.txt", "x\n")
    commit_all(git_repo, "x")
    result = push(git_repo, "ralph/work")
    assert (result.remote, result.branch, result.status) == ("origin", "ralph/work", "updated")
    assert remote_sha(bare_remote, "ralph/work") == head_sha(git_repo, short=False)


def test_push_never_forces_over_diverged_remote(git_repo: Path, bare_remote: Path, tmp_path: Path) -> None:
    create_branch(git_repo, "ralph/work", "main")
    push(git_repo, "ralph/work")
    other = tmp_path / "other"
    subprocess.run(["git", "clone", "-q", "-b", "ralph/work", str(bare_remote), str(other)], check=True)
    write(other, "theirs.txt", "someone else\n")
    git(other, "add", "-A")
    git(other, "commit", "-q", "-m", "theirs")
    git(other, "push", "-q", "origin", "ralph/work")
    theirs = remote_sha(bare_remote, "ralph/work")
    git(git_repo, "config", "remote.origin.push", "+refs/heads/*:refs/heads/*")
    write(git_repo, "ours.txt", "ours\n")
    commit_all(git_repo, "ours")
    with pytest.raises(GitError, match=r"refused: .*rejected.*never forces"):
        push(git_repo, "ralph/work")
    assert remote_sha(bare_remote, "ralph/work") == theirs


@pytest.mark.parametrize("name", ["+ralph/work", "ralph/work:main", "--force", ""])
def test_push_refuses_refspec_tricks(git_repo: Path, bare_remote: Path, name: str) -> None:
    with pytest.raises(UsageError, match="plain branch name"):
        push(git_repo, name)


def test_push_to_a_missing_remote_is_a_git_error(git_repo: Path) -> None:
    with pytest.raises(GitError, match="push of 'main' to origin failed"):
        push(git_repo, "main")
