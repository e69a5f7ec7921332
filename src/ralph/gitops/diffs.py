"""What an attempt changed since its snapshot, new untracked files included (for VERIFY and the ledger)."""

from __future__ import annotations

from pathlib import Path

from ralph.gitops.command import git
from ralph.gitops.repo import repo_root
from ralph.gitops.snapshot import Snapshot, tree_changes, worktree_tree

_DIFF_FLAGS = ("--no-color", "--no-ext-diff", "--no-textconv")
_READABLE_PATHS = ("-c", "core.quotePath=false")


def changed_paths_since(repo: Path, snap: Snapshot) -> tuple[str, ...]:
    """Paths added, changed or deleted since ``snap`` (outside its excluded paths), sorted."""
    root = repo_root(repo)
    changes = tree_changes(root, snap.tree, worktree_tree(root, snap.exclude))
    return tuple(sorted(change.path for change in changes))


def diff_since(repo: Path, snap: Snapshot, max_bytes: int) -> str:
    """``--stat`` header plus unified diff since ``snap``, new files included, cut at ``max_bytes`` bytes."""
    root = repo_root(repo)
    now = worktree_tree(root, snap.exclude)
    if now == snap.tree:
        return ""
    stat = git(root, *_READABLE_PATHS, "diff", *_DIFF_FLAGS, "--stat=120", snap.tree, now, "--").out
    patch = git(root, *_READABLE_PATHS, "diff", *_DIFF_FLAGS, snap.tree, now, "--").out
    return truncate(stat + b"\n" + patch, max_bytes)


def truncate(data: bytes, max_bytes: int) -> str:
    """Decode ``data``; past ``max_bytes`` cut it there and append a marker with the full size."""
    if len(data) <= max_bytes:
        return data.decode("utf-8", "replace")
    head = data[:max_bytes].decode("utf-8", "ignore")
    return f"{head}\n[... diff truncated: {max_bytes} of {len(data)} bytes shown ...]\n"
