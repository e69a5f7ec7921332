"""Git operations for Ralph: real git, argv lists, timeouts, porcelain/plumbing output only.

Modules:
    command     run git (``git -C repo``, timeout, group kill), lock files and what holds them
    repo        read-only questions: root, current/default branch, HEAD, dirtiness, log and diffstat
    snapshot    attempt snapshots (tracked + untracked, not ignored) under a per-worktree ref
    revert      exact revert of an attempt to its snapshot, with a report of what was undone
    diffs       diff and changed paths since a snapshot (new files included) for VERIFY
    commits     iteration commits (never ignored files; ``.tix`` included)
    branches    Ralph-created branch marks, the branch guard, push without force
    worktrees   bench worktrees, cherry-picking the plan commit into each
    recovery    start-of-run cleanup after a crash
"""

from ralph.gitops.branches import (
    PushResult,
    create_branch,
    created_by_ralph,
    guard_branch,
    mark_created,
    push,
)
from ralph.gitops.command import LockFile, clear_stale_locks, find_locks
from ralph.gitops.commits import commit_all, commit_paths
from ralph.gitops.diffs import changed_paths_since, diff_since
from ralph.gitops.recovery import Recovery, recover
from ralph.gitops.repo import (
    Commit,
    DiffStat,
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
from ralph.gitops.revert import RevertReport, revert_attempt
from ralph.gitops.snapshot import SNAPSHOT_REF, Snapshot, drop_snapshot, pending_snapshot, snapshot_attempt
from ralph.gitops.worktrees import (
    Worktree,
    bring_commit,
    cherry_pick,
    create_worktree,
    list_worktrees,
    remove_worktree,
)

__all__ = [
    "SNAPSHOT_REF",
    "Commit",
    "DiffStat",
    "LockFile",
    "PushResult",
    "Recovery",
    "RevertReport",
    "Snapshot",
    "Worktree",
    "bring_commit",
    "changed_paths_since",
    "cherry_pick",
    "clear_stale_locks",
    "commit_all",
    "commit_paths",
    "create_branch",
    "create_worktree",
    "created_by_ralph",
    "current_branch",
    "default_branch",
    "diff_since",
    "diffstat_since",
    "drop_snapshot",
    "find_locks",
    "guard_branch",
    "head_sha",
    "is_dirty",
    "list_worktrees",
    "log_since",
    "mark_created",
    "pending_snapshot",
    "push",
    "recover",
    "ref_exists",
    "remove_worktree",
    "repo_root",
    "resolve",
    "revert_attempt",
    "snapshot_attempt",
]
