"""Attempt snapshots: the whole working tree (tracked + untracked, not ignored) as a commit under a ref.

The snapshot is written with a throw-away index, so the user's index is never touched, and kept under
``SNAPSHOT_REF`` (per worktree), so it survives a crash and ``pending_snapshot`` finds it again.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from ralph.errors import GitError
from ralph.gitops.command import decode_path, encode_path, git, git_dirs
from ralph.gitops.repo import exclude_specs, repo_root, resolve

SNAPSHOT_REF = "refs/worktree/ralph/attempt"
"""Where the pending attempt snapshot lives (per worktree, so bench cells do not collide)."""
NO_FILTERS = ("-c", "core.autocrlf=false", "-c", "core.safecrlf=false")
"""Config for snapshot and restore calls: store and write file bytes as they are."""
_IDENTITY = {
    "GIT_AUTHOR_NAME": "ralph",
    "GIT_AUTHOR_EMAIL": "ralph@localhost",
    "GIT_COMMITTER_NAME": "ralph",
    "GIT_COMMITTER_EMAIL": "ralph@localhost",
}
_MARKER = "ralph attempt snapshot"


@dataclass(frozen=True)
class Snapshot:
    """The state an attempt started from; ``tree`` excludes ``exclude`` (default ``.tix``)."""

    commit: str
    tree: str
    head: str | None
    branch_ref: str | None
    index_tree: str | None
    empty_dirs: tuple[str, ...]
    exclude: tuple[str, ...]
    created_at: float


@dataclass(frozen=True)
class TreeChange:
    """One path that differs between two trees; ``status`` is A, D, M or T (type change)."""

    status: str
    path: str
    old_mode: str
    new_mode: str


@contextmanager
def temp_index(repo: Path, seed: bool) -> Iterator[dict[str, str]]:
    """Env pointing git at a private index file (a copy of the real one when ``seed``), removed after."""
    own, _ = git_dirs(repo)
    folder = own / "ralph"
    folder.mkdir(exist_ok=True)
    path = folder / f"index-{os.getpid()}-{secrets.token_hex(4)}"
    if seed and (own / "index").exists():
        shutil.copyfile(own / "index", path)
    try:
        yield {"GIT_INDEX_FILE": str(path)}
    finally:
        path.unlink(missing_ok=True)
        path.with_name(path.name + ".lock").unlink(missing_ok=True)


def worktree_tree(repo: Path, exclude: Sequence[str]) -> str:
    """Tree id of the working tree as it is now: tracked and untracked non-ignored files minus ``exclude``."""
    with temp_index(repo, seed=True) as env:
        git(repo, *NO_FILTERS, "add", "-A", "--", *exclude_specs(exclude), env=env)
        if exclude:
            top = [f":(top){path}" for path in exclude]
            git(repo, "rm", "--cached", "-r", "-q", "-f", "--ignore-unmatch", "--", *top, env=env)
        return git(repo, "write-tree", env=env).text


def index_tree(repo: Path) -> str | None:
    """Tree id of the real index (None while it has unmerged entries); the index itself is not written."""
    with temp_index(repo, seed=True) as env:
        run = git(repo, "write-tree", env=env, ok=range(256))
        return run.text if run.returncode == 0 else None


def tree_changes(repo: Path, old: str, new: str) -> list[TreeChange]:
    """Paths that differ between trees ``old`` and ``new`` (recursive, no rename detection)."""
    run = git(repo, "diff-tree", "-r", "-z", "--no-renames", old, new)
    fields = decode_path(run.out).split("\0")
    changes: list[TreeChange] = []
    for meta, path in zip(fields[0::2], fields[1::2], strict=False):
        parts = meta.lstrip(":").split(" ")
        if len(parts) == 5:
            changes.append(TreeChange(parts[4][:1], path, parts[0], parts[1]))
    return changes


def snapshot_attempt(repo: Path, exclude: Sequence[str] = (".tix",)) -> Snapshot:
    """Record the working tree, HEAD and index before an attempt; stored under ``SNAPSHOT_REF``."""
    root = repo_root(repo)
    head = resolve(root, "HEAD")
    branch = git(root, "symbolic-ref", "-q", "HEAD", ok=(0, 1)).text or None
    meta: dict[str, object] = {
        "head": head,
        "branch_ref": branch,
        "index_tree": index_tree(root),
        "empty_dirs": list(empty_dirs(root, exclude)),
        "exclude": list(exclude),
        "created_at": time.time(),
    }
    tree = worktree_tree(root, exclude)
    message = f"{_MARKER}\n\n{json.dumps(meta, sort_keys=True)}\n"
    parents = ["-p", head] if head else []
    commit = git(root, "commit-tree", tree, *parents, "-F", "-", env=_IDENTITY, stdin=message.encode()).text
    git(root, "update-ref", "-m", "ralph: attempt snapshot", SNAPSHOT_REF, commit)
    return _remember(root, _snapshot_from(commit, tree, meta))


def pending_snapshot(repo: Path) -> Snapshot | None:
    """The snapshot under ``SNAPSHOT_REF`` (left by an attempt that was neither kept nor reverted)."""
    root = repo_root(repo)
    commit = resolve(root, SNAPSHOT_REF)
    if commit is None:
        return None
    return load_snapshot(root, commit)


_LOADED: dict[tuple[str, str], Snapshot] = {}
"""Snapshots read back, by (repo, commit): a commit never changes, and the loop reads the same one at every
stage of an attempt."""
_LOADED_MAX = 16


def load_snapshot(repo: Path, commit: str) -> Snapshot:
    """Read a snapshot back from its commit; GitError if ``commit`` is not one."""
    snap = _LOADED.get((os.path.abspath(repo), commit))
    return snap if snap is not None else _remember(repo, _read_snapshot(repo, commit))


def _remember(repo: Path, snap: Snapshot) -> Snapshot:
    if len(_LOADED) >= _LOADED_MAX:
        _LOADED.pop(next(iter(_LOADED)))
    _LOADED[(os.path.abspath(repo), snap.commit)] = snap
    return snap


def _read_snapshot(repo: Path, commit: str) -> Snapshot:
    raw = decode_path(git(repo, "cat-file", "commit", commit).out)
    header, _, message = raw.partition("\n\n")
    tree = next((line[5:] for line in header.splitlines() if line.startswith("tree ")), "")
    title, _, body = message.partition("\n\n")
    try:
        meta = json.loads(body)
    except json.JSONDecodeError:
        meta = None
    if title.strip() != _MARKER or not isinstance(meta, dict) or not tree:
        raise GitError(f"{commit} is not a ralph attempt snapshot")
    return _snapshot_from(commit, tree, meta)


def drop_snapshot(repo: Path, snap: Snapshot) -> None:
    """Forget the pending snapshot (after the attempt was kept or reverted); no-op if another replaced it."""
    git(repo, "update-ref", "-d", SNAPSHOT_REF, snap.commit, ok=(0, 1))


def _snapshot_from(commit: str, tree: str, meta: Mapping[str, object]) -> Snapshot:
    def text(key: str) -> str | None:
        value = meta.get(key)
        return value if isinstance(value, str) else None

    def texts(key: str) -> tuple[str, ...]:
        value = meta.get(key)
        return tuple(v for v in value if isinstance(v, str)) if isinstance(value, list) else ()

    created = meta.get("created_at")
    return Snapshot(
        commit=commit,
        tree=tree,
        head=text("head"),
        branch_ref=text("branch_ref"),
        index_tree=text("index_tree"),
        empty_dirs=texts("empty_dirs"),
        exclude=texts("exclude"),
        created_at=float(created) if isinstance(created, int | float) else 0.0,
    )


def empty_dirs(repo: Path, exclude: Sequence[str]) -> tuple[str, ...]:
    """Empty directories outside tracked files and ignored paths (git cannot store them), sorted."""
    specs = exclude_specs(exclude)
    untracked = _listed_dirs(repo, specs)
    ignored = set(_listed_dirs(repo, specs, "--ignored"))
    found: list[str] = []
    for entry in untracked:
        for top, dirs, files in os.walk(os.path.join(repo, entry)):
            rel = os.path.relpath(top, repo)
            if not dirs and not files:
                found.append(rel)
            dirs[:] = [d for d in dirs if os.path.join(rel, d) not in ignored]
    return tuple(sorted(found))


def _listed_dirs(repo: Path, specs: Sequence[str], *flags: str) -> list[str]:
    """Untracked (or with ``--ignored``, ignored) directory entries of ``git ls-files``, no trailing slash."""
    run = git(repo, "ls-files", "-z", "--others", "--directory", "--exclude-standard", *flags, "--", *specs)
    return [entry.rstrip("/") for entry in decode_path(run.out).split("\0") if entry.endswith("/")]


def pathlist(paths: Sequence[str]) -> bytes:
    """NUL-terminated path list for ``--stdin -z`` style git input."""
    return b"".join(encode_path(path) + b"\0" for path in paths)
