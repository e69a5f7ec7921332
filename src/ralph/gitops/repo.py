"""Read-only questions about a repository: root, branches, HEAD, dirtiness, history since a base."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from ralph.errors import GitError, UsageError
from ralph.gitops.command import decode_path, git, git_env

# Read-only calls must not take index.lock to refresh stat data behind a running writer.
_NO_LOCKS = {"GIT_OPTIONAL_LOCKS": "0"}


@dataclass(frozen=True)
class Commit:
    """One commit of ``log_since``."""

    sha: str
    subject: str
    author_time: int


@dataclass(frozen=True)
class DiffStat:
    """Numbers of ``git diff --numstat`` between two revisions (binary files count as changed, 0 lines)."""

    files_changed: int
    insertions: int
    deletions: int


_ROOTS: dict[str, tuple[Path, str]] = {}
"""repo_root's answers by absolute path (with the path resolved), reused while no ``.git`` appeared or
vanished between the path and its root: the loop asks for the same root many times per stage."""


def repo_root(path: Path) -> Path:
    """Top of the working tree that contains ``path``; UsageError when there is none."""
    key = os.path.abspath(path)
    cached = _ROOTS.get(key)
    if cached is not None and _still_root(cached[1], cached[0]):
        return cached[0]
    root = _ask_root(path)
    _ROOTS[key] = (root, os.path.realpath(key))
    return root


def _still_root(real: str, root: Path) -> bool:
    """``root`` still holds ``.git`` and no directory from ``real`` up to it (exclusive) does."""
    top = str(root)
    if not os.path.lexists(os.path.join(top, ".git")):
        return False
    here = real
    while here != top:
        if os.path.lexists(os.path.join(here, ".git")):
            return False
        parent = os.path.dirname(here)
        if parent == here:
            return False
        here = parent
    return True


def _ask_root(path: Path) -> Path:
    try:
        proc = subprocess.run(
            ["git", "-C", str(path), "rev-parse", "--show-toplevel"],
            env=git_env(),
            capture_output=True,
            timeout=30,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise UsageError(f"cannot run git in {path}: {exc}") from exc
    root = decode_path(proc.stdout).strip()
    if proc.returncode != 0 or not root:
        raise UsageError(f"{path} is not inside a git working tree")
    return Path(root)


def current_branch(repo: Path) -> str:
    """Short name of the checked-out branch; GitError when HEAD is detached."""
    run = git(repo, "symbolic-ref", "-q", "--short", "HEAD", ok=(0, 1))
    if run.returncode != 0 or not run.text:
        raise GitError(f"HEAD is detached in {repo}; check out a branch first")
    return run.text


def default_branch(repo: Path) -> str:
    """origin/HEAD's branch; else the first existing of init.defaultBranch, main, master (else that name)."""
    remote = git(repo, "symbolic-ref", "-q", "--short", "refs/remotes/origin/HEAD", ok=(0, 1)).text
    if remote.startswith("origin/"):
        return remote.removeprefix("origin/")
    configured = git(repo, "config", "--get", "init.defaultBranch", ok=(0, 1)).text
    names = [name for name in (configured, "main", "master") if name]
    for name in names:
        if ref_exists(repo, f"refs/heads/{name}"):
            return name
    return names[0]


def head_sha(repo: Path, short: bool = True) -> str:
    """The commit HEAD points at (abbreviated when ``short``); GitError on an unborn branch."""
    run = git(repo, "rev-parse", "--verify", "-q", *(["--short"] if short else []), "HEAD", ok=(0, 1))
    if run.returncode != 0:
        raise GitError(f"{repo} has no commit yet (HEAD is unborn)")
    return run.text


def resolve(repo: Path, rev: str) -> str | None:
    """Full sha of the commit ``rev`` names, or None."""
    run = git(repo, "rev-parse", "--verify", "-q", "--end-of-options", f"{rev}^{{commit}}", ok=(0, 1))
    return run.text if run.returncode == 0 else None


def ref_exists(repo: Path, ref: str) -> bool:
    """True when ``ref`` (a full ref name or any revision) names an object."""
    return git(repo, "rev-parse", "--verify", "-q", "--end-of-options", ref, ok=(0, 1)).returncode == 0


def exclude_specs(exclude: Sequence[str]) -> list[str]:
    """Pathspecs for the whole tree minus ``exclude`` (top-level paths)."""
    return [":(top)", *(f":(top,exclude){path}" for path in exclude)]


def is_dirty(repo: Path, exclude: Sequence[str] = (".tix",)) -> bool:
    """True when tracked files changed or untracked non-ignored files exist, outside ``exclude``."""
    run = git(
        repo,
        "status",
        "--porcelain=v1",
        "-z",
        "--untracked-files=all",
        "--",
        *exclude_specs(exclude),
        env=_NO_LOCKS,
    )
    return bool(run.out)


def log_since(repo: Path, base: str, head: str = "HEAD") -> list[Commit]:
    """Commits reachable from ``head`` but not ``base``, newest first."""
    run = git(repo, "log", "--no-color", "--format=%H%x1f%at%x1f%s%x1e", f"{base}..{head}", "--")
    commits: list[Commit] = []
    for record in decode_path(run.out).split("\x1e"):
        fields = record.strip("\n").split("\x1f")
        if len(fields) == 3:
            commits.append(Commit(sha=fields[0], subject=fields[2], author_time=int(fields[1])))
    return commits


def diffstat_since(repo: Path, base: str, head: str = "HEAD") -> DiffStat:
    """Files, inserted and deleted lines between ``base`` and ``head`` (no rename detection)."""
    run = git(repo, "diff", "--no-color", "--no-ext-diff", "--no-renames", "--numstat", "-z", base, head)
    files = insertions = deletions = 0
    for entry in decode_path(run.out).split("\0"):
        fields = entry.split("\t", 2)
        if len(fields) != 3:
            continue
        files += 1
        insertions += int(fields[0]) if fields[0].isdigit() else 0
        deletions += int(fields[1]) if fields[1].isdigit() else 0
    return DiffStat(files, insertions, deletions)
