"""Start-of-run check after a crash: stale locks, leftover private index files, a pending snapshot."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from ralph.gitops.command import clear_stale_locks, describe_lock, find_locks, git_dirs
from ralph.gitops.repo import repo_root
from ralph.gitops.snapshot import Snapshot, pending_snapshot


@dataclass(frozen=True)
class Recovery:
    """What ``recover`` found and fixed; ``lines()`` says it in plain words."""

    removed_locks: tuple[Path, ...]
    held_locks: tuple[str, ...]
    removed_temp_files: tuple[Path, ...]
    pending_snapshot: Snapshot | None

    def lines(self) -> list[str]:
        """Human-readable notes, one per finding (empty when the repository was clean)."""
        notes = [f"removed stale lock {path} (left by a killed git)" for path in self.removed_locks]
        notes += list(self.held_locks)
        if self.removed_temp_files:
            notes.append(f"removed {len(self.removed_temp_files)} leftover private index file(s)")
        if self.pending_snapshot is not None:
            sha = self.pending_snapshot.commit[:12]
            notes.append(f"an attempt snapshot is pending ({sha}): revert or drop it")
        return notes


def recover(repo: Path, min_lock_age_s: float = 2.0) -> Recovery:
    """Remove locks no process holds and private index files of dead processes; report a pending snapshot."""
    root = repo_root(repo)
    removed = clear_stale_locks(root, min_age_s=min_lock_age_s)
    held = [describe_lock(lock) for lock in find_locks(root)]
    own, _ = git_dirs(root)
    return Recovery(
        removed_locks=tuple(removed),
        held_locks=tuple(held),
        removed_temp_files=tuple(_remove_dead_temp_indexes(own / "ralph")),
        pending_snapshot=pending_snapshot(root),
    )


def _remove_dead_temp_indexes(folder: Path) -> list[Path]:
    removed: list[Path] = []
    for path in sorted(folder.glob("index-*")) if folder.is_dir() else []:
        pid = path.name.split("-")[1]
        if pid.isdigit() and not _alive(int(pid)):
            path.unlink(missing_ok=True)
            removed.append(path)
    return removed


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
