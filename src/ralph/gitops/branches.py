"""Branch safety: Ralph works on branches it created (marked in git config) and pushes without force."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from ralph.errors import GitError, UsageError
from ralph.gitops.command import NETWORK_TIMEOUT_S, decode_path, git
from ralph.gitops.repo import current_branch, default_branch, ref_exists

CREATED_KEY = "ralph-created"
"""``branch.<name>.ralph-created = true`` marks a branch Ralph created."""
_FIX_HINT = "use --allow-branch or `ralph init --branch ralph/work`"
_PUSH_STATUS = {"*": "created", " ": "updated", "=": "up_to_date"}


@dataclass(frozen=True)
class PushResult:
    """Outcome of a successful push; ``status`` is created, updated or up_to_date."""

    remote: str
    branch: str
    status: str


def mark_created(repo: Path, branch: str) -> None:
    """Record that Ralph created ``branch``."""
    git(repo, "config", "--bool", f"branch.{branch}.{CREATED_KEY}", "true")


def created_by_ralph(repo: Path, branch: str) -> bool:
    """True when ``branch`` carries Ralph's mark."""
    run = git(repo, "config", "--type=bool", "--get", f"branch.{branch}.{CREATED_KEY}", ok=(0, 1))
    return run.text == "true"


def create_branch(repo: Path, name: str, base_ref: str = "HEAD", checkout: bool = True) -> None:
    """Create and mark branch ``name`` at ``base_ref`` (reuse it if Ralph made it before); switch to it."""
    if git(repo, "check-ref-format", "--branch", name, ok=(0, 1, 128)).returncode != 0:
        raise UsageError(f"'{name}' is not a valid branch name")
    if ref_exists(repo, f"refs/heads/{name}"):
        if not created_by_ralph(repo, name):
            raise GitError(f"branch '{name}' already exists and Ralph did not create it; choose another name")
    else:
        mark_created(repo, name)
        git(repo, "branch", "--no-track", "--", name, base_ref)
    if checkout:
        git(repo, "switch", "-q", name)


def guard_branch(repo: Path, allow_branch: bool) -> str:
    """The current branch if Ralph may work on it; UsageError on the default branch or a foreign one."""
    try:
        branch = current_branch(repo)
    except GitError:
        raise UsageError(f"refusing to run on a detached HEAD ({_FIX_HINT})") from None
    if allow_branch:
        return branch
    if branch == default_branch(repo):
        raise UsageError(f"refusing to run on default branch '{branch}' ({_FIX_HINT})")
    if not created_by_ralph(repo, branch):
        raise UsageError(f"refusing to run on branch '{branch}': Ralph did not create it ({_FIX_HINT})")
    return branch


def push(repo: Path, branch: str, remote: str = "origin") -> PushResult:
    """Push ``branch`` to its own name on ``remote``: fast-forward only, never forced; GitError if refused."""
    if not branch or branch.startswith(("+", "-")) or ":" in branch:
        raise UsageError(f"refusing to push '{branch}': give a plain branch name")
    refspec = f"refs/heads/{branch}:refs/heads/{branch}"
    run = git(repo, "push", "--porcelain", "--", remote, refspec, timeout_s=NETWORK_TIMEOUT_S, ok=range(256))
    for line in decode_path(run.out).splitlines():
        fields = line.split("\t")
        if len(fields) >= 3 and fields[1] == refspec:
            status = _PUSH_STATUS.get(fields[0])
            if status is not None and run.returncode == 0:
                return PushResult(remote, branch, status)
            raise GitError(f"push of '{branch}' to {remote} refused: {fields[2]} (Ralph never forces a push)")
    err = " / ".join(decode_path(run.err).strip().splitlines()[-2:])
    raise GitError(f"push of '{branch}' to {remote} failed (exit {run.returncode}): {err or 'no output'}")
