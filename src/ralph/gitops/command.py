"""Run git: argv lists, ``git -C repo``, a timeout that kills the process group, errors that name locks.

Output is kept as bytes; ``decode_path``/``encode_path`` round-trip any file name (surrogateescape).
"""

from __future__ import annotations

import os
import subprocess
import time
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from pathlib import Path

from ralph.errors import GitError
from ralph.proc import TAG_VAR, kill_group, new_tag

LOCAL_TIMEOUT_S = 30.0
"""Timeout of one local git call."""
NETWORK_TIMEOUT_S = 120.0
"""Timeout of one git call that talks to a remote."""

# Inherited variables that would point our git calls at another repository or index.
_REPO_VARS = frozenset(
    {
        "GIT_DIR",
        "GIT_WORK_TREE",
        "GIT_INDEX_FILE",
        "GIT_OBJECT_DIRECTORY",
        "GIT_ALTERNATE_OBJECT_DIRECTORIES",
        "GIT_COMMON_DIR",
        "GIT_PREFIX",
        "GIT_NAMESPACE",
        "GIT_CEILING_DIRECTORIES",
    }
)
_WORKTREE_LOCKS = ("index.lock", "HEAD.lock")
_COMMON_LOCKS = ("config.lock", "packed-refs.lock")


@dataclass(frozen=True)
class GitRun:
    """One finished git call; ``out``/``err`` are raw bytes."""

    args: tuple[str, ...]
    returncode: int
    out: bytes
    err: bytes

    @property
    def text(self) -> str:
        """stdout decoded (file names round-trip), surrounding whitespace stripped."""
        return decode_path(self.out).strip()


@dataclass(frozen=True)
class LockFile:
    """A git lock file; ``holder_pid`` is a live process that has it open, if one was found."""

    path: Path
    holder_pid: int | None
    age_s: float


def decode_path(raw: bytes) -> str:
    """Bytes from git -> str that ``encode_path`` turns back into the same bytes."""
    return raw.decode("utf-8", "surrogateescape")


def encode_path(path: str) -> bytes:
    """Inverse of ``decode_path``."""
    return path.encode("utf-8", "surrogateescape")


def git(
    repo: Path,
    *args: str,
    env: Mapping[str, str] | None = None,
    stdin: bytes | None = None,
    timeout_s: float = LOCAL_TIMEOUT_S,
    ok: Collection[int] = (0,),
) -> GitRun:
    """Run ``git -C repo ARGS`` in its own process group; GitError on timeout or an exit code not in ok.
    The process carries a ``RALPH_PROC_TAG``: if Ralph is killed meanwhile, the next run stops it before
    repairing the tree (a half-done checkout writing on would race the repair)."""
    proc = subprocess.Popen(
        ["git", "-C", str(repo), *args],
        cwd=repo,
        env=git_env({**(env or {}), TAG_VAR: new_tag()}),
        stdin=subprocess.PIPE if stdin is not None else subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        start_new_session=True,
    )
    try:
        out, err = proc.communicate(stdin, timeout=timeout_s)
    except subprocess.TimeoutExpired:
        kill_group(proc.pid, grace_s=1.0)
        _reap(proc)
        removed = clear_stale_locks(repo, min_age_s=0.0)
        note = f"; removed {', '.join(map(str, removed))} left by it" if removed else ""
        raise GitError(f"git {args[0]} timed out after {timeout_s:g}s in {repo}{note}") from None
    run = GitRun(tuple(args), proc.returncode, out, err)
    if run.returncode not in ok:
        raise GitError(_failure_message(repo, run))
    return run


def _reap(proc: subprocess.Popen[bytes]) -> None:
    """Collect a killed git; a hook child that left our process group may still hold the pipes."""
    try:
        proc.communicate(timeout=5.0)
    except subprocess.TimeoutExpired:
        for stream in (proc.stdin, proc.stdout, proc.stderr):
            if stream is not None:
                stream.close()
        proc.kill()
        proc.wait()


def git_env(extra: Mapping[str, str] | None = None) -> dict[str, str]:
    """The caller's environment minus variables that redirect git, no prompts, plus ``extra``."""
    env = {k: v for k, v in os.environ.items() if k not in _REPO_VARS}
    env["GIT_TERMINAL_PROMPT"] = "0"
    env.update(extra or {})
    return env


def _failure_message(repo: Path, run: GitRun) -> str:
    lines = [line for line in decode_path(run.err).splitlines() if line.strip()]
    detail = " / ".join(lines[-3:]) or "no message"
    message = f"git {' '.join(run.args[:2])} failed (exit {run.returncode}) in {repo}: {detail}"
    locks = find_locks(repo)
    if locks:
        message += "; " + "; ".join(describe_lock(lock) for lock in locks)
    return message


def describe_lock(lock: LockFile) -> str:
    """One clear sentence about a lock file: who holds it or how to clear it."""
    if lock.holder_pid is not None:
        return f"{lock.path} is held by running process {lock.holder_pid} (another git is busy)"
    return (
        f"{lock.path} exists but no process holds it (left by a killed git, {lock.age_s:.0f}s old); "
        "`ralph` removes it on the next start, or delete it once no git is running"
    )


_DIRS: dict[str, tuple[Path, Path]] = {}
"""git_dirs' answers by absolute path, reused while both directories exist (asked once per snapshot)."""


def git_dirs(repo: Path) -> tuple[Path, Path]:
    """(this worktree's git dir, the common git dir), both absolute."""
    key = os.path.abspath(repo)
    cached = _DIRS.get(key)
    if cached is not None and os.path.isdir(cached[0]) and os.path.isdir(cached[1]):
        return cached
    _DIRS[key] = found = _ask_dirs(repo)
    return found


def _ask_dirs(repo: Path) -> tuple[Path, Path]:
    proc = subprocess.run(
        ["git", "-C", str(repo), "rev-parse", "--absolute-git-dir", "--git-common-dir"],
        cwd=repo,
        env=git_env(),
        capture_output=True,
        timeout=LOCAL_TIMEOUT_S,
        check=False,
    )
    lines = decode_path(proc.stdout).splitlines()
    if proc.returncode != 0 or len(lines) != 2:
        raise GitError(f"{repo} is not inside a git repository")
    own = Path(lines[0])
    common = Path(lines[1]) if os.path.isabs(lines[1]) else (repo / lines[1]).resolve()
    return own, common


def find_locks(repo: Path) -> list[LockFile]:
    """Lock files git leaves while it writes the index, HEAD, config or packed refs."""
    try:
        own, common = git_dirs(repo)
    except (GitError, OSError, subprocess.TimeoutExpired):
        return []
    candidates = [own / name for name in _WORKTREE_LOCKS] + [common / name for name in _COMMON_LOCKS]
    found: list[LockFile] = []
    for path in candidates:
        try:
            age = time.time() - path.stat().st_mtime
        except OSError:
            continue
        found.append(LockFile(path, _holder_of(path), max(age, 0.0)))
    return found


def clear_stale_locks(repo: Path, min_age_s: float = 2.0) -> list[Path]:
    """Delete lock files no live process holds and that are at least ``min_age_s`` old; return them."""
    removed: list[Path] = []
    for lock in find_locks(repo):
        if lock.holder_pid is None and lock.age_s >= min_age_s:
            try:
                lock.path.unlink()
            except FileNotFoundError:
                continue
            removed.append(lock.path)
    return removed


def _holder_of(path: Path) -> int | None:
    """A pid with ``path`` open, from /proc/*/fd (None when none is found or /proc is unreadable)."""
    target = str(path)
    try:
        pids = [name for name in os.listdir("/proc") if name.isdigit()]
    except OSError:
        return None
    for pid in pids:
        fd_dir = f"/proc/{pid}/fd"
        try:
            fds = os.listdir(fd_dir)
        except OSError:
            continue
        for fd in fds:
            try:
                if os.readlink(f"{fd_dir}/{fd}") == target:
                    return int(pid)
            except OSError:
                continue
    return None
