"""Read-only repository questions: root, branches, HEAD, dirtiness, history since a base."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from tests.gitops.repos import git, write

from ralph.errors import GitError, UsageError
from ralph.gitops import (
    current_branch,
    default_branch,
    diffstat_since,
    head_sha,
    is_dirty,
    log_since,
    ref_exists,
    repo_root,
    resolve,
)


def test_repo_root_from_a_subdirectory(git_repo: Path) -> None:
    (git_repo / "a" / "b").mkdir(parents=True)
    assert repo_root(git_repo / "a" / "b") == git_repo


def test_repo_root_outside_git_is_a_usage_error(tmp_path: Path) -> None:
    plain = tmp_path / "plain"
    plain.mkdir()
    with pytest.raises(UsageError, match="not inside a git working tree"):
        repo_root(plain)


def test_current_branch_and_detached_head(git_repo: Path) -> None:
    assert current_branch(git_repo) == "main"
    git(git_repo, "switch", "-q", "--detach")
    with pytest.raises(GitError, match="detached"):
        current_branch(git_repo)


def test_head_sha_short_long_and_unborn(git_repo: Path, tmp_path: Path) -> None:
    full = git(git_repo, "rev-parse", "HEAD").strip()
    assert head_sha(git_repo, short=False) == full
    assert full.startswith(head_sha(git_repo)) and len(head_sha(git_repo)) < 40
    empty = tmp_path / "empty"
    subprocess.run(["git", "init", "-q", str(empty)], check=True)
    with pytest.raises(GitError, match="no commit yet"):
        head_sha(empty)


def test_default_branch_prefers_origin_head(git_repo: Path, bare_remote: Path) -> None:
    assert default_branch(git_repo) == "main"
    git(git_repo, "switch", "-q", "-c", "trunk")
    git(git_repo, "push", "-q", "origin", "trunk")
    git(git_repo, "symbolic-ref", "refs/remotes/origin/HEAD", "refs/remotes/origin/trunk")
    assert default_branch(git_repo) == "trunk"


def test_default_branch_without_remote(git_repo: Path) -> None:
    git(git_repo, "branch", "-m", "main", "master")
    assert default_branch(git_repo) == "master"
    git(git_repo, "config", "init.defaultBranch", "develop")
    git(git_repo, "branch", "develop")
    assert default_branch(git_repo) == "develop"


def test_is_dirty_ignores_tix_and_ignored_files(git_repo: Path) -> None:
    write(git_repo, ".gitignore", "*.log\n")
    git(git_repo, "add", ".gitignore")
    git(git_repo, "commit", "-q", "-m", "ignore")
    assert not is_dirty(git_repo)
    write(git_repo, ".tix/plan.jsonl", "{}\n")
    write(git_repo, "x.log", "ignored\n")
    assert not is_dirty(git_repo)
    assert is_dirty(git_repo, exclude=())
    write(git_repo, "new.txt", "untracked\n")
    assert is_dirty(git_repo)
    (git_repo / "new.txt").unlink()
    write(git_repo, "README.md", "edited\n")
    assert is_dirty(git_repo)


def test_log_and_diffstat_since_a_base(git_repo: Path) -> None:
    base = head_sha(git_repo, short=False)
    write(git_repo, "a.txt", "1\n2\n3\n")
    git(git_repo, "add", "-A")
    git(git_repo, "commit", "-q", "-m", "add a")
    write(git_repo, "a.txt", "1\n3\n")
    write(git_repo, "bin.dat", b"\x00\xff\x00")
    git(git_repo, "add", "-A")
    git(git_repo, "commit", "-q", "-m", "edit a, add binary")
    commits = log_since(git_repo, base)
    assert [c.subject for c in commits] == ["edit a, add binary", "add a"]
    stat = diffstat_since(git_repo, base)
    assert (stat.files_changed, stat.insertions, stat.deletions) == (2, 2, 0)
    assert log_since(git_repo, "HEAD") == []


def test_ref_exists_and_resolve(git_repo: Path) -> None:
    assert ref_exists(git_repo, "refs/heads/main")
    assert not ref_exists(git_repo, "refs/heads/nope")
    assert resolve(git_repo, "main") == head_sha(git_repo, short=False)
    assert resolve(git_repo, "--help") is None
