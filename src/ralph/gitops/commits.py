"""Commits of an iteration: everything not ignored (``.tix`` included), or only given paths."""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

from ralph.gitops.command import LOCAL_TIMEOUT_S, decode_path, git
from ralph.gitops.repo import repo_root, resolve

COMMIT_TIMEOUT_S = 4 * LOCAL_TIMEOUT_S
"""Commits run the repository's hooks, which may take a while."""


def commit_all(repo: Path, message: str, *, include_untracked: bool = True) -> str | None:
    """Stage every change (new untracked files too unless told not) and commit; None when nothing changed."""
    root = repo_root(repo)
    git(root, "add", "-A" if include_untracked else "-u", "--", ":(top)")
    return _commit(root, message, ())


def commit_paths(repo: Path, paths: Sequence[str], message: str) -> str | None:
    """Commit only ``paths`` (relative to the root; other staged changes stay staged); None if unchanged."""
    root = repo_root(repo)
    specs = [f":(top,literal){path}" for path in _present(root, paths)]
    if not specs:
        return None
    git(root, "add", "-A", "--", *specs)
    return _commit(root, message, specs)


def _present(root: Path, paths: Sequence[str]) -> list[str]:
    """The paths that exist on disk or in the index (a path matching neither would make git fail)."""
    tracked = decode_path(git(root, "ls-files", "-z", "--", *(f":(top,literal){p}" for p in paths)).out)
    known = set(tracked.split("\0"))
    return [
        path
        for path in paths
        if os.path.lexists(root / path)
        or path in known
        or any(k.startswith(path.rstrip("/") + "/") for k in known)
    ]


def _commit(root: Path, message: str, specs: Sequence[str]) -> str | None:
    staged = git(root, "diff", "--cached", "--quiet", "--no-ext-diff", "--", *specs, ok=(0, 1))
    if staged.returncode == 0:
        return None
    git(
        root,
        "commit",
        "-q",
        "--cleanup=whitespace",
        "-F",
        "-",
        "--",
        *specs,
        stdin=message.encode("utf-8"),
        timeout_s=COMMIT_TIMEOUT_S,
    )
    return resolve(root, "HEAD")
