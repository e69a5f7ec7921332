"""Run model-written shell commands (acceptance checks, hooks) in a sandbox.

With bubblewrap: read-only root, the worktree writable (its ``.git`` and ``.tix`` read-only), private
``/tmp``, no network, own pid namespace (a timeout kills everything the command started). Without it
(mode ``none``, or bwrap missing or unable to create namespaces): scrubbed environment and timeout only.
Both paths scrub credentials from the environment and keep a bounded tail of stdout+stderr.
"""

from __future__ import annotations

import functools
import os
import select
import shutil
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Literal

from ralph.errors import UsageError
from ralph.proc import kill_group, scrubbed_env

__all__ = ["CheckResult", "SandboxChoice", "choose_sandbox", "run_check", "sandbox_mode"]

SandboxUsed = Literal["bwrap", "none"]
_MODES = ("auto", "bwrap", "none")
_BWRAP_ENV = {"TMPDIR": "/tmp", "XDG_CACHE_HOME": "/tmp/.cache"}
_READ_ONLY_IN_WORKTREE = (".git", ".tix")
_LINGER_S = 0.5
"""How long to keep reading after the command exited while a background child still holds the pipe."""


@dataclass(frozen=True)
class SandboxChoice:
    """Which sandbox runs checks and why; ``str()`` is the run-header text."""

    used: SandboxUsed
    reason: str

    def __str__(self) -> str:
        return f"{self.used} ({self.reason})"


@dataclass(frozen=True)
class CheckResult:
    """Outcome of one check; ``exit_code`` is None when the timeout killed it."""

    command: str
    passed: bool
    exit_code: int | None
    output_tail: str
    output_bytes: int
    timed_out: bool
    sandbox: SandboxUsed
    duration_s: float


def sandbox_mode(mode: str = "auto") -> str:
    """Run-header text for ``mode``: the sandbox that will be used and why."""
    return str(choose_sandbox(mode))


def choose_sandbox(mode: str = "auto") -> SandboxChoice:
    """Resolve ``auto``/``bwrap``/``none``; ``bwrap`` is a UsageError when bubblewrap cannot run here."""
    if mode not in _MODES:
        raise UsageError(f"sandbox must be one of {', '.join(_MODES)}, not {mode!r}")
    if mode == "none":
        return SandboxChoice("none", "sandbox = none: scrubbed environment and timeout only")
    path = shutil.which("bwrap")
    problem = "bwrap not found on PATH (Debian package: bubblewrap)" if path is None else probe_bwrap(path)
    if problem is None:
        return SandboxChoice("bwrap", "read-only root, writable worktree, private /tmp, no network")
    if mode == "bwrap":
        raise UsageError(f"sandbox = bwrap, but {problem}")
    return SandboxChoice("none", f"{problem}; scrubbed environment and timeout only")


@functools.cache
def probe_bwrap(bwrap: str) -> str | None:
    """Start ``bwrap`` once with the real isolation flags; None if it works, else why not."""
    argv = [bwrap, *_isolation_args(), "--", "true"]
    try:
        proc = subprocess.run(
            argv, env=scrubbed_env(), stdin=subprocess.DEVNULL, capture_output=True, timeout=15, check=False
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        return f"bwrap failed to start: {exc}"
    if proc.returncode != 0:
        lines = proc.stderr.decode("utf-8", "replace").strip().splitlines()
        return f"bwrap cannot create its sandbox here: {lines[-1] if lines else f'exit {proc.returncode}'}"
    return None


def run_check(
    command: str, *, cwd: Path, timeout_s: float, mode: str = "auto", tail_bytes: int = 16_000
) -> CheckResult:
    """Run ``command`` with a shell in ``cwd`` under the chosen sandbox; never raises on its failure."""
    choice = choose_sandbox(mode)
    root = Path(os.path.realpath(cwd))
    shell = [shutil.which("bash") or "/bin/sh", "-c", command]
    if choice.used == "bwrap":
        bwrap = shutil.which("bwrap") or "bwrap"
        argv = [bwrap, *_isolation_args(), *_worktree_args(root), "--", *shell]
        env = scrubbed_env(extra=_BWRAP_ENV)
    else:
        argv, env = shell, scrubbed_env()
    started = time.monotonic()
    code, tail, timed_out = _run_bounded(argv, root, env, timeout_s, tail_bytes)
    return CheckResult(
        command=command,
        passed=code == 0 and not timed_out,
        exit_code=None if timed_out else code,
        output_tail=tail.text(),
        output_bytes=tail.total,
        timed_out=timed_out,
        sandbox=choice.used,
        duration_s=time.monotonic() - started,
    )


def _isolation_args() -> list[str]:
    return [
        *("--ro-bind", "/", "/"),
        *("--dev", "/dev"),
        *("--proc", "/proc"),
        *("--tmpfs", "/tmp"),
        "--unshare-net",
        "--unshare-pid",
        "--unshare-ipc",
        "--die-with-parent",
        "--new-session",
    ]


def _worktree_args(root: Path) -> list[str]:
    """Bind the worktree writable (after /tmp, so a worktree under /tmp shows), its metadata read-only."""
    args = ["--bind", str(root), str(root)]
    for name in _READ_ONLY_IN_WORKTREE:
        inner = root / name
        if inner.exists():
            args += ["--ro-bind", str(inner), str(inner)]
    return [*args, "--chdir", str(root)]


class _Tail:
    """The last ``cap`` bytes of a stream, and how many bytes went by."""

    def __init__(self, cap: int) -> None:
        self.cap = cap
        self.total = 0
        self._buf = bytearray()

    def add(self, chunk: bytes) -> None:
        self.total += len(chunk)
        self._buf += chunk
        if len(self._buf) > self.cap:
            del self._buf[: len(self._buf) - self.cap]

    def text(self) -> str:
        body = bytes(self._buf).decode("utf-8", "replace")
        omitted = self.total - len(self._buf)
        return f"[... {omitted} earlier bytes omitted ...]\n{body}" if omitted else body


def _run_bounded(
    argv: list[str], cwd: Path, env: dict[str, str], timeout_s: float, tail_bytes: int
) -> tuple[int, _Tail, bool]:
    """Run in a new process group with stdout+stderr merged; kill the group at the end (or the timeout)."""
    proc = subprocess.Popen(
        argv,
        cwd=cwd,
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    assert proc.stdout is not None
    tail = _Tail(tail_bytes)
    try:
        timed_out = _drain(proc, proc.stdout, tail, time.monotonic() + timeout_s)
    finally:
        kill_group(proc.pid, grace_s=1.0)
        code = proc.wait()
        proc.stdout.close()
    return code, tail, timed_out


def _drain(proc: subprocess.Popen[bytes], stdout: IO[bytes], tail: _Tail, deadline: float) -> bool:
    """Read output until EOF and the exit; True if ``deadline`` passed first.

    After the command exits, a background child still holding the pipe gets ``_LINGER_S`` more.
    """
    fd = stdout.fileno()
    linger_until: float | None = None
    while True:
        now = time.monotonic()
        if proc.poll() is not None:
            linger_until = linger_until or now + _LINGER_S
            if now >= linger_until:
                return False
        elif now >= deadline:
            return True
        ready, _, _ = select.select([fd], [], [], max(0.0, min(deadline - now, 0.1)))
        if ready:
            chunk = os.read(fd, 65536)
            if not chunk:
                return _wait_exit(proc, deadline)
            tail.add(chunk)


def _wait_exit(proc: subprocess.Popen[bytes], deadline: float) -> bool:
    """After EOF: wait for the exit itself (so a late signal cannot change its status); True on timeout."""
    try:
        proc.wait(timeout=max(0.0, deadline - time.monotonic()))
    except subprocess.TimeoutExpired:
        return True
    return False
