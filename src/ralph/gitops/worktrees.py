"""Worktrees for bench cells, and copying a commit (the plan) into each; all calls are idempotent."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from ralph.errors import GitError
from ralph.gitops.branches import created_by_ralph, mark_created
from ralph.gitops.command import decode_path, git
from ralph.gitops.repo import default_branch, ref_exists, resolve


@dataclass(frozen=True)
class Worktree:
    """One entry of ``git worktree list``; ``branch`` is the short name (None when detached)."""

    path: Path
    head: str | None
    branch: str | None
    locked: str | None
    prunable: bool
    is_main: bool


def list_worktrees(repo: Path) -> list[Worktree]:
    """All worktrees of the repository, the main one first."""
    run = git(repo, "worktree", "list", "--porcelain", "-z")
    found: list[Worktree] = []
    for block in decode_path(run.out).split("\0\0"):
        attrs: dict[str, str] = {}
        for line in block.strip("\0").split("\0"):
            key, _, value = line.partition(" ")
            attrs[key] = value
        if "worktree" in attrs:
            branch = attrs.get("branch")
            found.append(
                Worktree(
                    path=Path(attrs["worktree"]),
                    head=attrs.get("HEAD"),
                    branch=branch.removeprefix("refs/heads/") if branch else None,
                    locked=attrs.get("locked"),
                    prunable="prunable" in attrs,
                    is_main=not found,
                )
            )
    return found


def find_worktree(repo: Path, path: Path) -> Worktree | None:
    """The worktree registered at ``path`` (symlinks resolved), if any."""
    want = os.path.realpath(path)
    return next((w for w in list_worktrees(repo) if os.path.realpath(w.path) == want), None)


def create_worktree(repo: Path, path: Path, branch: str, base_ref: str) -> Worktree:
    """A worktree at ``path`` on Ralph's ``branch`` (created at ``base_ref`` if new); reuse a matching one."""
    git(repo, "worktree", "prune")
    existing = find_worktree(repo, path)
    if existing is not None and existing.locked != "initializing":
        if existing.branch != branch:
            on = existing.branch or "a detached HEAD"
            raise GitError(f"{path} is already a worktree on {on}, not {branch}")
        return existing
    if existing is not None:
        git(repo, "worktree", "remove", "--force", "--force", str(existing.path))
    _check_branch_free(repo, branch)
    if path.exists() and any(path.iterdir()):
        raise GitError(f"{path} exists and is not empty; refusing to make a worktree there")
    if ref_exists(repo, f"refs/heads/{branch}"):
        git(repo, "worktree", "add", "-q", str(path), branch)
    else:
        mark_created(repo, branch)
        git(repo, "worktree", "add", "-q", "--no-track", "-b", branch, str(path), base_ref)
    created = find_worktree(repo, path)
    if created is None:
        raise GitError(f"git worktree add did not register {path}")
    return created


def _check_branch_free(repo: Path, branch: str) -> None:
    """GitError unless ``branch`` is new, or Ralph's and checked out nowhere; never the default branch."""
    if branch == default_branch(repo):
        raise GitError(f"refusing to put the default branch '{branch}' in a worktree")
    if not ref_exists(repo, f"refs/heads/{branch}"):
        return
    if not created_by_ralph(repo, branch):
        raise GitError(f"branch '{branch}' exists and Ralph did not create it; refusing to use it")
    holder = next((w for w in list_worktrees(repo) if w.branch == branch), None)
    if holder is not None:
        raise GitError(f"branch '{branch}' is already checked out at {holder.path}")


def remove_worktree(repo: Path, path: Path, *, force: bool = False) -> bool:
    """Remove the worktree at ``path`` (``force`` drops local changes); False if none is there."""
    existing = find_worktree(repo, path)
    if existing is None:
        return False
    if existing.is_main:
        raise GitError(f"refusing to remove the main working tree {path}")
    git(repo, "worktree", "remove", *(["--force"] if force else []), str(existing.path))
    return True


def cherry_pick(repo: Path, sha: str) -> str:
    """Apply commit ``sha`` on HEAD; on a conflict abort (tree left as before) and raise GitError."""
    run = git(repo, "cherry-pick", "--allow-empty", sha, ok=range(256))
    if run.returncode != 0:
        _abort_cherry_pick(repo)
        detail = " / ".join(decode_path(run.err).strip().splitlines()[-2:])
        raise GitError(f"cherry-pick of {sha[:12]} failed and was aborted: {detail}")
    head = resolve(repo, "HEAD")
    assert head is not None
    return head


def bring_commit(repo: Path, sha: str) -> str | None:
    """Make HEAD contain commit ``sha`` (cherry-pick unless it, or the same patch, is already there).

    Returns the new commit, or None when nothing had to be done; finishes a cherry-pick a crash left behind.
    """
    _abort_cherry_pick(repo)
    if git(repo, "merge-base", "--is-ancestor", sha, "HEAD", ok=(0, 1)).returncode == 0:
        return None
    if resolve(repo, f"{sha}^") is not None:
        cherry = git(repo, "cherry", "HEAD", sha, f"{sha}^").text
        if cherry.startswith("-"):
            return None
    return cherry_pick(repo, sha)


def _abort_cherry_pick(repo: Path) -> None:
    if resolve(repo, "CHERRY_PICK_HEAD") is not None:
        git(repo, "cherry-pick", "--abort", ok=range(256))
