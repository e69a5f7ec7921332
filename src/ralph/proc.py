"""Child processes: own process group, streamed lines with a deadline, group kill, scrubbed environment.

Every program Ralph starts (agents, checks, builds, gates) goes through here, so that a timeout or the end of
a stage kills the whole process group (no orphans) and model-written commands never see API keys.

Each child also gets ``RALPH_PROC_TAG=<owner pid>-<owner start>-<n>`` in its environment, which its own
children inherit: the end of a stage kills whatever still carries the tag (a ``setsid`` daemon leaves the
group, not the tag), and ``reap_orphans`` kills what a killed Ralph left running.
"""

from __future__ import annotations

import codecs
import itertools
import os
import queue
import re
import signal
import subprocess
import threading
import time
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

__all__ = [
    "Completed",
    "LineHead",
    "LineProcess",
    "LineTail",
    "is_secret_name",
    "kill_group",
    "kill_own_children",
    "kill_tagged",
    "new_tag",
    "reap_orphans",
    "run_command",
    "scrubbed_env",
]

_SECRET_NAME = re.compile(
    r"(API_?KEY|TOKEN|SECRET|PASSWORD|PASSWD|CREDENTIAL|PRIVATE_KEY|ACCESS_KEY|AUTH)", re.IGNORECASE
)
_SAFE_NAMES = frozenset(
    {"PATH", "HOME", "USER", "LOGNAME", "SHELL", "LANG", "LC_ALL", "LC_CTYPE", "TERM", "TMPDIR", "TZ"}
)


def is_secret_name(name: str) -> bool:
    """True for environment/config names that look like they hold a credential."""
    return bool(_SECRET_NAME.search(name))


def scrubbed_env(
    base: Mapping[str, str] | None = None, extra: Mapping[str, str] | None = None
) -> dict[str, str]:
    """A copy of ``base`` (default ``os.environ``) without credentials, plus ``extra``."""
    source = os.environ if base is None else base
    env = {k: v for k, v in source.items() if k in _SAFE_NAMES or not is_secret_name(k)}
    env.update(extra or {})
    return env


def kill_group(pid: int, grace_s: float = 2.0) -> None:
    """SIGTERM the process group led by ``pid``, then SIGKILL whatever is left after ``grace_s``."""
    try:
        os.killpg(pid, signal.SIGTERM)
    except (ProcessLookupError, PermissionError):
        return
    deadline = time.monotonic() + grace_s
    while time.monotonic() < deadline:
        if not _group_alive(pid):
            return
        time.sleep(0.05)
    try:
        os.killpg(pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        return
    deadline = time.monotonic() + _SIGKILL_WAIT_S
    while _group_alive(pid) and time.monotonic() < deadline:
        time.sleep(0.02)


_SIGKILL_WAIT_S = 2.0
"""How long ``kill_group`` waits for a SIGKILLed group to be gone (a loaded host takes its time)."""


def _group_alive(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
    except (ProcessLookupError, PermissionError):
        return False
    # A zombie leader keeps the group "alive" for killpg(0); reap-independent check via /proc.
    return any(_pgid_of(p) == pgid for p in _proc_pids())


def _proc_pids() -> Iterator[int]:
    try:
        names = os.listdir("/proc")
    except OSError:
        return
    for name in names:
        if name.isdigit():
            yield int(name)


def _pgid_of(pid: int) -> int | None:
    try:
        with open(f"/proc/{pid}/stat", "rb") as fh:
            stat = fh.read().rsplit(b")", 1)[1].split()
        if stat[0] == b"Z":
            return None
        return int(stat[2])
    except (OSError, IndexError, ValueError):
        return None


TAG_VAR = "RALPH_PROC_TAG"
_QUEUED_LINES = 64
"""Lines read ahead of the consumer; beyond that the reader waits and the child blocks on its pipe."""
_serial = itertools.count(1)


def _start_ticks(pid: int) -> str:
    """When ``pid`` started (clock ticks since boot): with the pid, names one process for good."""
    try:
        return Path(f"/proc/{pid}/stat").read_bytes().rsplit(b")", 1)[1].split()[19].decode()
    except (OSError, IndexError):
        return "0"


def new_tag() -> str:
    """A fresh value for ``RALPH_PROC_TAG`` (for children not started through ``LineProcess``)."""
    me = os.getpid()
    return f"{me}-{_start_ticks(me)}-{next(_serial)}"


def _tags() -> Iterator[tuple[int, str]]:
    """(pid, tag) of every process of ours that carries a tag."""
    marker = f"{TAG_VAR}=".encode()
    for pid in _proc_pids():
        try:
            environ = Path(f"/proc/{pid}/environ").read_bytes()
        except OSError:
            continue
        for item in environ.split(b"\0"):
            if item.startswith(marker):
                yield pid, item[len(marker) :].decode(errors="replace")


def _kill_pids(pids: list[int], sig: int = signal.SIGKILL) -> list[int]:
    me = os.getpid()
    killed = []
    for pid in pids:
        if pid != me and _pgid_of(pid) is not None:
            try:
                os.kill(pid, sig)
                killed.append(pid)
            except (ProcessLookupError, PermissionError):
                continue
    return killed


def kill_tagged(tag: str) -> list[int]:
    """SIGKILL every process carrying ``tag`` (descendants that left the process group) and wait (bounded)
    until they are gone; their pids."""
    killed = _kill_pids([pid for pid, found in _tags() if found == tag])
    deadline = time.monotonic() + _SIGKILL_WAIT_S
    while any(_pgid_of(pid) is not None for pid in killed) and time.monotonic() < deadline:
        time.sleep(0.02)
    return killed


def kill_own_children() -> list[int]:
    """SIGKILL every tagged process this process started, directly or not (for a forced exit)."""
    me = os.getpid()
    prefix = f"{me}-{_start_ticks(me)}-"
    return _kill_pids([pid for pid, tag in _tags() if tag.startswith(prefix)])


def reap_orphans(grace_s: float = 1.0) -> list[int]:
    """Stop every tagged process whose Ralph is gone (killed before it could stop its children): SIGTERM
    (a build deletes its half-written target), SIGKILL after ``grace_s``."""
    orphans = []
    for pid, tag in _tags():
        owner, _, rest = tag.partition("-")
        started = rest.partition("-")[0]
        if owner.isdigit() and _start_ticks(int(owner)) != started:
            orphans.append(pid)
    stopped = _kill_pids(orphans, signal.SIGTERM)
    deadline = time.monotonic() + grace_s
    while time.monotonic() < deadline and any(_pgid_of(pid) is not None for pid in stopped):
        time.sleep(0.05)
    _kill_pids(stopped)
    return stopped


@dataclass(frozen=True)
class Completed:
    """Result of ``run_command``; output is decoded with replacement and capped."""

    argv: tuple[str, ...]
    returncode: int
    stdout: str
    stderr: str
    timed_out: bool
    duration_s: float

    @property
    def ok(self) -> bool:
        return self.returncode == 0 and not self.timed_out


def run_command(
    argv: Sequence[str],
    *,
    cwd: Path,
    timeout_s: float,
    env: Mapping[str, str] | None = None,
    stdin_text: str | None = None,
    cap_bytes: int = 1_000_000,
) -> Completed:
    """Run to completion in its own process group; on timeout kill the group. Never raises on exit codes."""
    started = time.monotonic()
    proc = LineProcess(argv, cwd=cwd, env=env, stdin_text=stdin_text, max_line_bytes=cap_bytes)
    out: list[str] = []
    size = 0
    timed_out = False
    deadline = started + timeout_s
    for line in proc.lines(poll_s=0.05):
        if line is not None and size < cap_bytes:
            out.append(line[: cap_bytes - size])
            size += len(line)
        if time.monotonic() > deadline:
            timed_out = True
            break
    if not timed_out:
        # stdout can close before the program exits: let it exit on its own before killing stragglers
        timed_out = not proc.wait_exit(deadline - time.monotonic())
    proc.kill()
    code = proc.wait()
    return Completed(
        argv=tuple(argv),
        returncode=code if not timed_out else -9,
        stdout="".join(out),
        stderr=proc.stderr_text(),
        timed_out=timed_out,
        duration_s=time.monotonic() - started,
    )


class LineHead(str):
    """The first ``max_line_bytes`` of an overlong line (no newline), as ``lines(split_long=True)`` yields
    it; ``LineTail`` pieces with the rest follow."""

    __slots__ = ()


class LineTail(str):
    """More of an overlong line after its ``LineHead``, as read (the last piece ends with the newline)."""

    __slots__ = ()


def _decoded(data: bytearray, end: int, final: bool = True) -> tuple[str, int]:
    """UTF-8 (with replacement) of ``data[:end]`` without copying the bytes; the bytes used (an incomplete
    character at the end waits unless ``final``)."""
    with memoryview(data) as view, view[:end] as part:
        return codecs.utf_8_decode(part, "replace", final)


class LineProcess:
    """A child in its own process group whose stdout is read as lines without blocking the caller.

    ``lines()`` yields each line (with its newline) as it arrives and ``None`` on every idle poll tick,
    so the caller can check deadlines while the child is silent. At most ``_QUEUED_LINES`` lines, and at
    most ``max_line_bytes`` characters unless one line is longer, wait to be consumed (memory stays bounded
    however fast the child writes). Overlong lines are cut at ``max_line_bytes``: the rest is dropped, or
    with ``split_long`` it follows as ``LineTail`` pieces after a ``LineHead``, so a consumer can record
    the whole line without ever holding it.
    stderr is drained by a thread into a bounded tail buffer (a full pipe can never block the child).
    """

    def __init__(
        self,
        argv: Sequence[str],
        *,
        cwd: Path,
        env: Mapping[str, str] | None = None,
        stdin_text: str | None = None,
        max_line_bytes: int = 4_000_000,
        split_long: bool = False,
        stderr_tail_bytes: int = 64_000,
    ) -> None:
        self.tag = new_tag()
        self._proc = subprocess.Popen(
            list(argv),
            cwd=str(cwd),
            env={**(os.environ if env is None else env), TAG_VAR: self.tag},
            stdin=subprocess.PIPE if stdin_text is not None else subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            start_new_session=True,
        )
        self.pid = self._proc.pid
        self._queue: queue.Queue[str | None] = queue.Queue(maxsize=_QUEUED_LINES)
        self._closed = threading.Event()
        self._max_line = max(1, max_line_bytes)
        self._split_long = split_long
        self._queued_chars = 0
        self._room = threading.Condition()
        self._stderr = bytearray()
        self._stderr_cap = stderr_tail_bytes
        self._lock = threading.Lock()
        self._threads = [
            threading.Thread(target=self._read_stdout, daemon=True),
            threading.Thread(target=self._read_stderr, daemon=True),
        ]
        if stdin_text is not None:
            self._threads.append(threading.Thread(target=self._write_stdin, args=(stdin_text,), daemon=True))
        for thread in self._threads:
            thread.start()

    def _write_stdin(self, text: str) -> None:
        stdin = self._proc.stdin
        assert stdin is not None
        try:
            stdin.write(text.encode("utf-8", errors="replace"))
            stdin.close()
        except (BrokenPipeError, OSError):
            pass

    def _put(self, item: str | None) -> None:
        """Queue one line, waiting while the queue is full, by count or by size (the child then blocks on
        its pipe: output is never buffered without bound); dropped once ``wait`` has closed the reader."""
        size = len(item) if item else 0
        with self._room:
            while self._queued_chars and self._queued_chars + size > self._max_line:
                if self._closed.is_set():
                    return
                self._room.wait(0.1)
            self._queued_chars += size
        while not self._closed.is_set():
            try:
                self._queue.put(item, timeout=0.1)
                return
            except queue.Full:
                continue

    def _taken(self, item: str) -> None:
        with self._room:
            self._queued_chars -= len(item)
            self._room.notify()

    def _read_stdout(self) -> None:
        stdout = self._proc.stdout
        assert stdout is not None
        pending = bytearray()
        # None, or inside an overlong line: its bytes not queued yet (an unfinished character; split_long)
        rest: bytes | None = None
        try:
            while chunk := os.read(stdout.fileno(), 65536):
                if rest is not None:
                    nl = chunk.find(b"\n")
                    if self._split_long:
                        rest = self._put_tail(rest + (chunk if nl < 0 else chunk[: nl + 1]), final=nl >= 0)
                    if nl < 0:
                        continue
                    rest = None
                    chunk = chunk[nl + 1 :]
                searched = len(pending)
                pending += chunk
                while (nl := pending.find(b"\n", searched)) >= 0:
                    self._put(_decoded(pending, nl + 1)[0])
                    del pending[: nl + 1]
                    searched = 0
                if len(pending) > self._max_line:
                    rest = self._put_head(pending)
                    pending.clear()
            if rest:
                self._put_tail(rest, final=True)
            elif pending and rest is None:
                self._put(_decoded(pending, len(pending))[0])
        except OSError:
            pass
        finally:
            self._put(None)
            self._eof = True

    def _put_head(self, pending: bytearray) -> bytes:
        """Queue the cut head of an overlong line; the bytes after it not yet queued (split_long)."""
        if not self._split_long:
            self._put(_decoded(pending, self._max_line)[0] + "\n")
            return b""
        head, used = _decoded(pending, self._max_line, final=False)
        self._put(LineHead(head))
        return self._put_tail(bytes(pending[used:]), final=False)

    def _put_tail(self, data: bytes, *, final: bool) -> bytes:
        """Queue what of ``data`` decodes as a ``LineTail``; the bytes of an unfinished character."""
        text, used = codecs.utf_8_decode(data, "replace", final)
        if text:
            self._put(LineTail(text))
        return data[used:]

    def _read_stderr(self) -> None:
        stderr = self._proc.stderr
        assert stderr is not None
        try:
            while chunk := os.read(stderr.fileno(), 65536):
                with self._lock:
                    self._stderr += chunk
                    if len(self._stderr) > self._stderr_cap:
                        del self._stderr[: len(self._stderr) - self._stderr_cap]
        except OSError:
            pass

    def lines(self, poll_s: float = 0.1) -> Iterator[str | None]:
        """Yield lines as they come and None on idle ticks; ends at EOF of stdout (or, once ``wait`` has
        closed the reader, when nothing is left to read)."""
        while True:
            try:
                item = self._queue.get(timeout=poll_s)
            except queue.Empty:
                if self._closed.is_set():
                    return
                yield None
                continue
            if item is None:
                return
            self._taken(item)
            yield item

    def stderr_text(self) -> str:
        with self._lock:
            return bytes(self._stderr).decode("utf-8", errors="replace")

    def poll(self) -> int | None:
        return self._proc.poll()

    def wait_exit(self, timeout_s: float) -> bool:
        """Wait up to ``timeout_s`` for the leader to exit on its own; True if it did."""
        try:
            self._proc.wait(timeout=max(timeout_s, 0.0))
        except subprocess.TimeoutExpired:
            return False
        return True

    def kill(self, grace_s: float = 2.0) -> None:
        """Kill the whole process group (also after a normal exit: background children go too), then
        whatever left the group but still carries this child's tag."""
        kill_group(self.pid, grace_s)
        kill_tagged(self.tag)

    def wait(self, timeout_s: float = 10.0) -> int:
        try:
            code = self._proc.wait(timeout=timeout_s)
        except subprocess.TimeoutExpired:
            kill_group(self.pid, 0.0)
            code = self._proc.wait()
        self._closed.set()
        for thread in self._threads:
            thread.join(timeout=1.0)
        for stream in (self._proc.stdout, self._proc.stderr):
            if stream is not None:
                stream.close()
        return code
