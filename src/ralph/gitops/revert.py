"""Put the working tree, index and HEAD back exactly to an attempt snapshot.

Only paths that differ from the snapshot tree are written or removed, so ignored files, the excluded paths
(``.tix``) and the user's untracked files from before the attempt stay as they are. Ignore and attribute
files are restored first, so the next comparison sees the snapshot's ignore rules. Idempotent: running it
again after a crash finishes the job.
"""

from __future__ import annotations

import os
import shutil
import stat
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from ralph.gitops.command import git
from ralph.gitops.repo import repo_root, resolve
from ralph.gitops.snapshot import (
    NO_FILTERS,
    Snapshot,
    TreeChange,
    empty_dirs,
    index_tree,
    pathlist,
    temp_index,
    tree_changes,
    worktree_tree,
)

_RULE_FILES = frozenset({".gitignore", ".gitattributes"})
_GITLINK = "160000"


@dataclass(frozen=True)
class RevertReport:
    """What a revert did: paths put back, paths the attempt added and that were deleted, HEAD moves."""

    restored: tuple[str, ...]
    removed: tuple[str, ...]
    head_reset_from: str | None
    unrestored: tuple[str, ...]

    @property
    def changed(self) -> bool:
        """True when the revert had anything to undo."""
        return bool(self.restored or self.removed or self.head_reset_from)

    def summary(self, limit: int = 10) -> str:
        """One line for prompts and logs: what was restored, removed, reset, and what could not be."""
        if not self.changed:
            return "nothing to revert: the working tree was already at the snapshot"
        parts = [
            f"{label} {len(paths)} {noun} ({_first(paths, limit)})"
            for label, noun, paths in (
                ("restored", "changed/deleted file(s)", self.restored),
                ("removed", "new file(s)", self.removed),
            )
            if paths
        ]
        if self.head_reset_from:
            parts.append(f"reset HEAD from {self.head_reset_from[:12]}")
        if self.unrestored:
            parts.append(f"could NOT restore {_first(self.unrestored, limit)}")
        return "; ".join(parts)


def revert_attempt(repo: Path, snap: Snapshot) -> RevertReport:
    """Restore HEAD, working tree and index to ``snap``; report what was undone."""
    root = repo_root(repo)
    moved = _restore_head(root, snap)
    keep = frozenset(snap.empty_dirs)
    restored: set[str] = set()
    removed: set[str] = set()
    changes = tree_changes(root, snap.tree, worktree_tree(root, snap.exclude))
    rules = [c for c in changes if os.path.basename(c.path) in _RULE_FILES]
    for batch in [rules, None] if rules else [changes]:
        if batch is None:
            batch = tree_changes(root, snap.tree, worktree_tree(root, snap.exclude))
        removed.update(_remove_added(root, [c for c in batch if c.status == "A"], keep))
        restored.update(_checkout(root, snap.tree, [c for c in batch if c.status != "A"]))
    removed.update(_sync_empty_dirs(root, snap, keep))
    _restore_index(root, snap)
    left = tree_changes(root, snap.tree, worktree_tree(root, snap.exclude))
    return RevertReport(
        restored=tuple(sorted(restored)),
        removed=tuple(sorted(removed)),
        head_reset_from=moved,
        unrestored=tuple(sorted(c.path for c in left)),
    )


def _restore_head(root: Path, snap: Snapshot) -> str | None:
    """Point HEAD back at the snapshot's branch and commit; the old HEAD sha if anything moved."""
    if snap.head is None:
        return None
    before = resolve(root, "HEAD")
    ref = git(root, "symbolic-ref", "-q", "HEAD", ok=(0, 1)).text or None
    if ref == snap.branch_ref and before == snap.head:
        return None
    if snap.branch_ref:
        if ref != snap.branch_ref:
            git(root, "symbolic-ref", "-m", "ralph: revert attempt", "HEAD", snap.branch_ref)
        git(root, "update-ref", "-m", "ralph: revert attempt", "HEAD", snap.head)
    else:
        git(root, "update-ref", "--no-deref", "-m", "ralph: revert attempt", "HEAD", snap.head)
    return before or snap.head


def _remove_added(root: Path, changes: Sequence[TreeChange], keep: frozenset[str]) -> list[str]:
    """Delete paths the attempt added (deepest first), then their parents that became empty."""
    done: list[str] = []
    for change in sorted(changes, key=lambda c: c.path.count("/"), reverse=True):
        full = os.path.join(root, change.path)
        try:
            mode = os.lstat(full).st_mode
        except FileNotFoundError:
            continue
        if stat.S_ISDIR(mode):
            shutil.rmtree(full)
        else:
            os.unlink(full)
        done.append(change.path)
        _prune_empty_parents(root, change.path, keep)
    return done


def _prune_empty_parents(root: Path, rel: str, keep: frozenset[str]) -> None:
    parent = os.path.dirname(rel)
    while parent and parent not in keep:
        try:
            os.rmdir(os.path.join(root, parent))
        except OSError:
            return
        parent = os.path.dirname(parent)


def _sync_empty_dirs(root: Path, snap: Snapshot, keep: frozenset[str]) -> list[str]:
    """Recreate the snapshot's empty directories; delete empty ones the attempt left behind."""
    for rel in snap.empty_dirs:
        os.makedirs(os.path.join(root, rel), exist_ok=True)
    extra = [rel for rel in empty_dirs(root, snap.exclude) if rel not in keep]
    for rel in extra:
        os.rmdir(os.path.join(root, rel))
        _prune_empty_parents(root, rel, keep)
    return [rel + "/" for rel in extra]


def _checkout(root: Path, tree: str, changes: Iterable[TreeChange]) -> list[str]:
    """Write the snapshot's version of each changed or deleted path (submodule commits are skipped)."""
    paths = [c.path for c in changes if c.old_mode != _GITLINK]
    if not paths:
        return []
    with temp_index(root, seed=False) as env:
        git(root, "read-tree", tree, env=env)
        git(root, *NO_FILTERS, "checkout-index", "-f", "-z", "--stdin", env=env, stdin=pathlist(paths))
    return paths


def _restore_index(root: Path, snap: Snapshot) -> None:
    """Give the real index the snapshot's entries, except the excluded paths, which keep today's entries."""
    if snap.index_tree is not None and index_tree(root) != snap.index_tree:
        specs = [f":(top){path}" for path in snap.exclude]
        kept = git(root, "ls-files", "-s", "-z", "--", *specs).out if specs else b""
        git(root, "read-tree", snap.index_tree)
        if specs:
            git(root, "rm", "--cached", "-r", "-q", "-f", "--ignore-unmatch", "--", *specs)
        if kept:
            git(root, "update-index", "-z", "--index-info", stdin=kept)
    git(root, "update-index", "-q", "--refresh", ok=(0, 1))


def _first(paths: Sequence[str], limit: int) -> str:
    shown = ", ".join(paths[:limit])
    return shown + (f", … {len(paths) - limit} more" if len(paths) > limit else "")
