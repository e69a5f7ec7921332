"""plan.jsonl on disk: exclusive lock, whole-line appends, torn-tail repair, atomic rewrite.

Writers hold ``fcntl.flock`` on ``.tix/lock``; each append is one ``os.write`` on an ``O_APPEND`` fd followed
by fsync (several appends under one outer lock are fsynced once, at its end). Readers take no lock: they
consume complete lines only, so an append in flight is never data.

This is the store's write boundary: the file is strict UTF-8 (the C tix reads it), so text with no UTF-8
form (a lone surrogate: a ``\\ud800`` JSON escape, or a byte that was not UTF-8 in an argument or a file
name, which Python keeps as ``\\udc80``..``\\udcff``) is refused with a StoreError before a byte is written.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import time
import zlib
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from ralph.errors import StoreError

__all__ = ["TAIL_BYTES", "Chunk", "Fingerprint", "Journal"]

TAIL_BYTES = 4096


@dataclass(frozen=True, slots=True)
class Fingerprint:
    """What the cache consumed: file identity, bytes consumed, mtime, and a hash of the 4 KB before the
    end of what was consumed (so an append is told apart from a rewrite)."""

    ino: int
    size: int
    mtime_ns: int
    tail: str


@dataclass(frozen=True, slots=True)
class Chunk:
    """Complete lines read from ``start`` to ``end``; ``torn`` when bytes follow the last newline."""

    text: str
    start: int
    end: int
    fingerprint: Fingerprint
    torn: bool


class Journal:
    """The append-only plan file and its lock."""

    def __init__(self, plan_path: Path, lock_path: Path) -> None:
        self.plan_path = plan_path
        self.lock_path = lock_path
        self._lock_fd: int | None = None
        self._depth = 0
        self._unsynced = False

    @contextlib.contextmanager
    def locked(self) -> Iterator[None]:
        """Hold the exclusive writer lock (re-entrant within this object). Appends made while an outer
        block holds it are fsynced once, when the outermost block ends (before the lock is released)."""
        if self._depth == 0:
            fd = os.open(self.lock_path, os.O_RDWR | os.O_CREAT, 0o644)
            fcntl.flock(fd, fcntl.LOCK_EX)
            self._lock_fd = fd
        self._depth += 1
        try:
            yield
        finally:
            self._depth -= 1
            if self._depth == 0 and self._lock_fd is not None:
                try:
                    self._sync_pending()
                finally:
                    fcntl.flock(self._lock_fd, fcntl.LOCK_UN)
                    os.close(self._lock_fd)
                    self._lock_fd = None

    def _sync_pending(self) -> None:
        if not self._unsynced:
            return
        self._unsynced = False
        fd = os.open(self.plan_path, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)

    @property
    def is_locked(self) -> bool:
        return self._depth > 0

    def stat(self) -> os.stat_result | None:
        try:
            return os.stat(self.plan_path)
        except FileNotFoundError:
            return None

    def append(self, lines: Sequence[str]) -> None:
        """Append whole lines with one write, then fsync (or, inside an outer ``locked`` block, once when
        that block ends). Caller holds the lock."""
        if not self.is_locked:
            raise StoreError("internal: append without the plan lock")
        data = _utf8("".join(lines))
        fd = os.open(self.plan_path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        try:
            view = memoryview(data)
            while view:
                written = os.write(fd, view)
                view = view[written:]
            if self._depth > 1:
                self._unsynced = True
            else:
                os.fsync(fd)
        finally:
            os.close(fd)

    def read(self, start: int, expect: Fingerprint | None = None) -> Chunk | None:
        """Complete lines from ``start``. With ``expect``, return None unless the file still holds what
        ``expect`` describes (same inode, not shorter, same tail hash): the caller must then read from 0."""
        try:
            fd = os.open(self.plan_path, os.O_RDONLY)
        except FileNotFoundError:
            empty = Fingerprint(0, 0, 0, "")
            return None if expect is not None and expect != empty else Chunk("", 0, 0, empty, False)
        try:
            st = os.fstat(fd)
            if expect is not None and not _same_prefix(fd, st, expect):
                return None
            data = os.pread(fd, st.st_size - start, start) if st.st_size > start else b""
            cut = data.rfind(b"\n") + 1
            end = start + cut
            fingerprint = Fingerprint(st.st_ino, end, st.st_mtime_ns, _tail_hash(fd, end))
            text = data[:cut].decode("utf-8", errors="replace")
            return Chunk(text, start, end, fingerprint, torn=cut < len(data))
        finally:
            os.close(fd)

    def repair_tail(self) -> str | None:
        """Fix a torn last line under the lock: complete it if it parses, else move it aside and cut it.
        Returns a one-line report, or None when the file ends cleanly."""
        with self.locked():
            try:
                data = self.plan_path.read_bytes()
            except FileNotFoundError:
                return None
            cut = data.rfind(b"\n") + 1
            fragment = data[cut:]
            if not fragment:
                return None
            if _parses(fragment):
                self.append(["\n"])
                return f"repaired torn last line of {self.plan_path.name}: completed a parseable record"
            saved = self.plan_path.with_name(self.plan_path.name + ".torn")
            with open(saved, "ab") as out:
                out.write(f"# {time.time():.3f} offset {cut}\n".encode() + fragment + b"\n")
            with open(self.plan_path, "r+b") as plan:
                plan.truncate(cut)
                os.fsync(plan.fileno())
            return (
                f"repaired torn last line of {self.plan_path.name}: cut {len(fragment)} unparseable bytes "
                f"(saved to {saved.name})"
            )

    def rewrite(self, text: str) -> None:
        """Replace the file atomically (temp file + fsync + rename). Caller holds the lock."""
        if not self.is_locked:
            raise StoreError("internal: rewrite without the plan lock")
        import tempfile

        data = _utf8(text)
        folder = self.plan_path.parent
        fd, tmp = tempfile.mkstemp(prefix=".plan-", suffix=".tmp", dir=folder)
        try:
            with os.fdopen(fd, "wb") as out:
                out.write(data)
                out.flush()
                os.fsync(out.fileno())
            os.replace(tmp, self.plan_path)
        except BaseException:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(tmp)
            raise
        dir_fd = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(dir_fd)
        finally:
            os.close(dir_fd)


def _utf8(text: str) -> bytes:
    """``text`` as UTF-8; StoreError (one line, nothing written) when some of it has no UTF-8 form."""
    try:
        return text.encode("utf-8")
    except UnicodeEncodeError as err:
        text, bad = err.object, err.object[err.start]
        first = max(text.rfind("\n", 0, err.start) + 1, err.start - 30)
        newline = text.find("\n", err.start)
        last = min(len(text) if newline < 0 else newline, err.end + 30)
        around = text[first:last].encode("utf-8", "backslashreplace")
        raise StoreError(
            f"refused: the text holds U+{ord(bad):04X}, a lone surrogate that has no UTF-8 form (a JSON "
            f"\\u{ord(bad):04x} escape, or a byte that is not UTF-8 in an argument or file name), "
            f"near ...{around.decode('utf-8')}...; nothing was written"
        ) from None


def _tail_hash(fd: int, end: int) -> str:
    start = max(0, end - TAIL_BYTES)
    return f"{zlib.crc32(os.pread(fd, end - start, start)):08x}-{end - start}"


def _same_prefix(fd: int, st: os.stat_result, expect: Fingerprint) -> bool:
    if st.st_ino != expect.ino or st.st_size < expect.size:
        return False
    return _tail_hash(fd, expect.size) == expect.tail


def _parses(fragment: bytes) -> bool:
    try:
        return isinstance(json.loads(fragment.decode("utf-8")), dict)
    except ValueError:
        return False
