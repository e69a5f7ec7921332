"""Run model-written shell commands (acceptance checks, hooks) in a sandbox.

With bubblewrap: read-only root, the worktree writable (its ``.git`` and ``.tix`` read-only), private
``/tmp``, no network, own pid namespace (a timeout kills everything the command started). What the check
prints goes into a prompt, so what holds secrets is hidden behind an empty tmpfs: every home (``/home``,
``/root``, ``$HOME`` and the passwd home: ssh keys, agent logins, tokens) and ``/run`` (ssh and gpg agents,
docker and database sockets, container secrets); ``/etc/shadow`` and ssh host keys are unreadable when this
user can read them (Ralph running as root). The worktree is bound again after that, so one under a home
stays visible and writable, and so are, read-only, what checks run from a home: PATH folders (and the
virtualenvs their links point into), the base interpreter of the worktree's ``.venv``, and toolchains and
package caches that hold no credentials (``_HOME_TOOLS``). Other files this user can read stay readable.

Without it (mode ``none``, or bwrap missing or unable to create namespaces): scrubbed environment and
timeout only; the check can read every file this user can, home included, and the run header says so.
Both paths scrub credentials from the environment and keep a bounded tail of stdout+stderr.
"""

from __future__ import annotations

import functools
import glob
import os
import pwd
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
_HIDDEN_DIRS = ("/tmp", "/run", "/var/run", "/home", "/root", "/etc/ssl/private")
"""Each replaced by an empty tmpfs under bwrap, as are ``$HOME`` and the passwd home."""
_MASKED_FILES = ("/etc/shadow", "/etc/gshadow", "/etc/shadow-", "/etc/gshadow-", "/etc/ssh/ssh_host_*_key")
"""Covered by /dev/null (unreadable there) when this user can read them; glob patterns allowed."""
_HOME_TOOLS = (
    ("RUSTUP_HOME", ".rustup", ("",)),
    ("CARGO_HOME", ".cargo", ("bin", "registry", "git")),
    ("PYENV_ROOT", ".pyenv", ("",)),
    ("NVM_DIR", ".nvm", ("",)),
    ("GOMODCACHE", "go/pkg/mod", ("",)),
    ("GRADLE_USER_HOME", ".gradle", ("caches", "wrapper")),
    ("", ".m2", ("repository",)),
)
"""(variable naming the folder, its default under a home, the parts shown): toolchains and package caches
shown read-only in a hidden home; never their credential files (``.cargo/credentials.toml``,
``.m2/settings.xml``, ``.gradle/gradle.properties``)."""
_HOME_SECRETS = frozenset(
    {".ssh", ".gnupg", ".aws", ".azure", ".config", ".docker", ".kube", ".netrc", ".git-credentials"}
    | {".password-store", ".npmrc", ".pypirc", ".claude", ".codex", ".gemini"}
)
"""Top-level entries of a home never shown again, whatever PATH or a virtualenv points into."""
_LINKS_SCANNED = 500
"""At most this many entries of each PATH folder in a hidden home are followed (links into virtualenvs)."""
_LINGER_S = 0.5
"""How long to keep reading after the command exited while a background child still holds the pipe."""


@dataclass(frozen=True)
class SandboxChoice:
    """Which sandbox runs checks and why; ``str()`` is the run-header text."""

    used: SandboxUsed
    reason: str

    def __str__(self) -> str:
        if self.used == "bwrap":
            return f"bwrap ({self.reason}), homes and /run hidden"
        return f"none ({self.reason}), home NOT hidden: checks can read every file you can (~/.ssh, logins)"


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
        argv = [bwrap, *_isolation_args(), *_tool_args(root), *_worktree_args(root), "--", *shell]
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
        *(arg for folder in _hidden_dirs() for arg in ("--tmpfs", folder)),
        *(arg for path in _masked_files() for arg in ("--ro-bind", "/dev/null", path)),
        "--unshare-net",
        "--unshare-pid",
        "--unshare-ipc",
        "--die-with-parent",
        "--new-session",
    ]


def _inside(path: str, folder: str) -> bool:
    """``path`` is ``folder`` or below it (both real, absolute)."""
    return path == folder or path.startswith(folder.rstrip("/") + "/")


def _homes() -> list[str]:
    """This user's homes, real paths: ``$HOME``, the passwd entry's, and /root (never / nor above /usr)."""
    try:
        own = pwd.getpwuid(os.getuid()).pw_dir
    except KeyError:
        own = ""
    found: list[str] = []
    for home in (os.environ.get("HOME", ""), own, "/root"):
        real = os.path.realpath(home) if home else ""
        if real and os.path.isdir(real) and not _inside("/usr", real) and real not in found:
            found.append(real)
    return found


def _hidden_dirs() -> list[str]:
    """Real paths of the folders a tmpfs covers, outermost only."""
    found: list[str] = []
    for folder in (*_HIDDEN_DIRS, *_homes()):
        real = os.path.realpath(folder)
        if os.path.isdir(real) and not _inside("/usr", real) and real not in found:
            found.append(real)
    return [d for d in found if not any(o != d and _inside(d, o) for o in found)]


def _masked_files() -> list[str]:
    paths = (path for pattern in _MASKED_FILES for path in sorted(glob.glob(pattern)))
    return [path for path in paths if os.path.isfile(path) and os.access(path, os.R_OK)]


def _shareable(path: str, homes: list[str]) -> bool:
    """May ``path`` (real, in a hidden folder) be shown again: strictly inside a home, holding none, and not
    in one of its secret entries. Anything else hidden (/tmp, /run, a home itself) stays hidden."""
    if any(_inside(home, path) for home in homes):
        return False
    owners = [home for home in homes if _inside(path, home)]
    users = os.path.realpath("/home")
    if _inside(path, users) and path != users:
        owners.append(users + "/" + path[len(users) + 1 :].split("/")[0])
    if not owners:
        return False
    owner = max(owners, key=len)
    rest = path[len(owner) + 1 :]
    return bool(rest) and rest.split("/")[0] not in _HOME_SECRETS


def _tool_args(root: Path) -> list[str]:
    """Read-only binds, over the hidden homes, of what checks run from there (see the module docstring)."""
    hidden, homes, worktree = _hidden_dirs(), _homes(), str(root)
    shown: list[str] = []

    def show(path: str) -> bool:
        real = os.path.realpath(path)
        if (
            os.path.exists(real)
            and any(_inside(real, folder) for folder in hidden)
            and not _inside(real, worktree)
            and _shareable(real, homes)
        ):
            shown.append(real)
            return True
        return False

    def show_venv(venv: str) -> None:
        """A virtualenv, and the interpreter it was made from (``home`` in pyvenv.cfg, a ``bin`` folder)."""
        try:
            config = Path(venv, "pyvenv.cfg").read_text(encoding="utf-8", errors="replace")
        except OSError:
            return
        show(venv)
        for line in config.splitlines():
            key, _, value = line.partition("=")
            if key.strip() == "home" and value.strip():
                base = value.strip().rstrip("/")
                show(os.path.dirname(base) if os.path.basename(base) == "bin" else base)

    for home in homes:
        for variable, default, parts in _HOME_TOOLS:
            folder = (os.environ.get(variable) if variable else None) or os.path.join(home, default)
            for part in parts:
                show(os.path.join(folder, part))
    for folder in filter(None, os.environ.get("PATH", "").split(os.pathsep)):
        show_venv(os.path.dirname(os.path.realpath(folder)))
        if show(folder):
            for target in _link_targets(folder):
                parent = os.path.dirname(target)
                if os.path.basename(target) == "bin" and os.path.isfile(os.path.join(parent, "pyvenv.cfg")):
                    show_venv(parent)
                else:
                    show(target)
    show_venv(os.path.join(worktree, ".venv"))
    for git_dir in _git_dirs(root):
        show(git_dir)
    outermost = sorted(set(shown))
    outermost = [p for p in outermost if not any(o != p and _inside(p, o) for o in outermost)]
    return [arg for path in outermost for arg in ("--ro-bind", path, path)]


def _link_targets(folder: str) -> list[str]:
    """The folders the symlinks in ``folder`` resolve to (the first ``_LINKS_SCANNED`` entries)."""
    found: set[str] = set()
    try:
        with os.scandir(folder) as entries:
            for index, entry in enumerate(entries):
                if index >= _LINKS_SCANNED:
                    break
                if entry.is_symlink():
                    found.add(os.path.dirname(os.path.realpath(entry.path)))
    except OSError:
        return []
    return sorted(found)


def _git_dirs(root: Path) -> list[str]:
    """Where a linked worktree's ``.git`` file points: its git dir and the repository's common dir."""
    try:
        text = (root / ".git").read_text(encoding="utf-8", errors="replace")
    except OSError:
        return []
    if not text.startswith("gitdir:"):
        return []
    git_dir = root / text.removeprefix("gitdir:").strip()
    try:
        common = (git_dir / "commondir").read_text(encoding="utf-8", errors="replace").strip()
    except OSError:
        return [str(git_dir)]
    return [str(git_dir), str(git_dir / common)]


def _worktree_args(root: Path) -> list[str]:
    """Bind the worktree writable (after the tmpfs folders, so a worktree under /tmp or a home shows), its
    metadata read-only."""
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
