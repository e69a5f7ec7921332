"""Bench worktrees: idempotent creation, never the user's checkout or default branch; the plan commit copy."""

from __future__ import annotations

from pathlib import Path

import pytest
from tests.gitops.repos import git, write

from ralph.errors import GitError
from ralph.gitops import (
    bring_commit,
    cherry_pick,
    commit_all,
    create_worktree,
    created_by_ralph,
    head_sha,
    list_worktrees,
    pending_snapshot,
    remove_worktree,
    snapshot_attempt,
)


@pytest.fixture
def cell(git_repo: Path, tmp_path: Path) -> Path:
    return tmp_path / "cells" / "p1-r1"


def user_view(repo: Path) -> tuple[str, str, str]:
    return (
        git(repo, "symbolic-ref", "HEAD"),
        git(repo, "rev-parse", "HEAD"),
        git(repo, "status", "--porcelain=v1", "-uall"),
    )


def test_create_worktree_is_idempotent_and_leaves_the_user_checkout(git_repo: Path, cell: Path) -> None:
    write(git_repo, "wip.txt", "user's work in progress\n")
    before = user_view(git_repo)
    made = create_worktree(git_repo, cell, "ralph/bench-p1-r1", "main")
    assert made.branch == "ralph/bench-p1-r1" and made.path.resolve() == cell.resolve()
    assert (cell / "README.md").read_text() == "test repo\n"
    assert created_by_ralph(git_repo, "ralph/bench-p1-r1")
    again = create_worktree(git_repo, cell, "ralph/bench-p1-r1", "main")
    assert again == made
    assert user_view(git_repo) == before
    assert [w.branch for w in list_worktrees(git_repo)] == ["main", "ralph/bench-p1-r1"]
    assert list_worktrees(git_repo)[0].is_main


def test_create_worktree_reuses_ralphs_branch_after_removal(git_repo: Path, cell: Path) -> None:
    create_worktree(git_repo, cell, "ralph/cell", "main")
    write(cell, "work.txt", "done in the cell\n")
    sha = commit_all(cell, "cell work")
    assert remove_worktree(git_repo, cell)
    assert not remove_worktree(git_repo, cell)
    again = create_worktree(git_repo, cell, "ralph/cell", "main")
    assert again.head == sha


def test_create_worktree_refusals(git_repo: Path, cell: Path, tmp_path: Path) -> None:
    with pytest.raises(GitError, match="default branch 'main'"):
        create_worktree(git_repo, cell, "main", "main")
    git(git_repo, "branch", "users-branch")
    with pytest.raises(GitError, match="Ralph did not create"):
        create_worktree(git_repo, cell, "users-branch", "main")
    create_worktree(git_repo, cell, "ralph/a", "main")
    with pytest.raises(GitError, match="already a worktree on ralph/a"):
        create_worktree(git_repo, cell, "ralph/b", "main")
    with pytest.raises(GitError, match="already checked out"):
        create_worktree(git_repo, tmp_path / "elsewhere", "ralph/a", "main")
    occupied = tmp_path / "occupied"
    write(occupied, "keep.txt", "not ours\n")
    with pytest.raises(GitError, match="not empty"):
        create_worktree(git_repo, occupied, "ralph/c", "main")
    assert (occupied / "keep.txt").read_text() == "not ours\n"


def test_remove_worktree_refuses_the_main_tree_and_dirty_cells(git_repo: Path, cell: Path) -> None:
    with pytest.raises(GitError, match="main working tree"):
        remove_worktree(git_repo, git_repo)
    create_worktree(git_repo, cell, "ralph/cell", "main")
    write(cell, "dirty.txt", "uncommitted\n")
    with pytest.raises(GitError):
        remove_worktree(git_repo, cell)
    assert remove_worktree(git_repo, cell, force=True)
    assert not cell.exists()


def test_bring_commit_copies_the_plan_once(git_repo: Path, cell: Path) -> None:
    create_worktree(git_repo, cell, "ralph/cell", "main")
    write(cell, "cell.toml", "profile = 'p1'\n")
    commit_all(cell, "cell setup")
    git(git_repo, "switch", "-q", "-c", "ralph/plan")
    write(git_repo, ".tix/plan.jsonl", '{"id":"t-1"}\n')
    plan = commit_all(git_repo, "ralph: plan")
    assert plan is not None
    copied = bring_commit(cell, plan)
    assert copied is not None and copied != plan
    assert (cell / ".tix/plan.jsonl").read_text() == '{"id":"t-1"}\n'
    assert bring_commit(cell, plan) is None
    assert head_sha(cell, short=False) == copied
    assert bring_commit(git_repo, plan) is None


def test_cherry_pick_conflict_is_aborted(git_repo: Path, cell: Path) -> None:
    create_worktree(git_repo, cell, "ralph/cell", "main")
    write(cell, "README.md", "cell version\n")
    commit_all(cell, "cell edit")
    git(git_repo, "switch", "-q", "-c", "ralph/other")
    write(git_repo, "README.md", "other version\n")
    other = commit_all(git_repo, "other edit")
    assert other is not None
    before = head_sha(cell, short=False)
    with pytest.raises(GitError, match=r"cherry-pick .* failed and was aborted"):
        cherry_pick(cell, other)
    assert head_sha(cell, short=False) == before
    assert git(cell, "status", "--porcelain=v1") == ""
    assert (cell / "README.md").read_text() == "cell version\n"


def test_snapshots_are_per_worktree(git_repo: Path, cell: Path) -> None:
    create_worktree(git_repo, cell, "ralph/cell", "main")
    snap = snapshot_attempt(cell)
    assert pending_snapshot(cell) == snap
    assert pending_snapshot(git_repo) is None
