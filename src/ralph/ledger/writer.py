"""Appending ledger lines that many processes share: one locked ``os.write`` of a whole line per record.

Each append opens the file ``O_APPEND``, takes ``fcntl.flock`` (exclusive), repairs a torn last line left by a
crashed writer, writes the line in one call and unlocks; lines from concurrent runs never interleave.
"""

from __future__ import annotations

import fcntl
import json
import os
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path
from typing import Any, Final

from ralph.ledger.records import CallRecord, IterationRecord, RunRecord, this_host
from ralph.ledger.upgrade import LedgerFile

__all__ = ["LedgerWriter", "encode_line", "locked", "repair_tail"]

_TAIL_CHUNK: Final = 65_536


def encode_line(data: Mapping[str, Any]) -> bytes:
    """Compact JSON plus newline; a line never contains a raw newline."""
    return (json.dumps(data, separators=(",", ":"), ensure_ascii=False, default=str) + "\n").encode()


@contextmanager
def locked(path: Path, flags: int = os.O_RDWR | os.O_APPEND | os.O_CREAT) -> Iterator[int]:
    """An fd of ``path`` held under an exclusive ``flock`` for the block."""
    fd = os.open(path, flags | os.O_CLOEXEC, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield fd
    finally:
        os.close(fd)


def _tail_start(fd: int, size: int) -> int:
    """Offset just after the last newline (0 if none)."""
    end = size
    while end > 0:
        start = max(0, end - _TAIL_CHUNK)
        chunk = os.pread(fd, end - start, start)
        cut = chunk.rfind(b"\n")
        if cut >= 0:
            return start + cut + 1
        end = start
    return 0


def _repair_locked(fd: int) -> str | None:
    """Fix a last line without newline: complete JSON gets its newline, anything else is cut."""
    size = os.fstat(fd).st_size
    if size == 0 or os.pread(fd, 1, size - 1) == b"\n":
        return None
    start = _tail_start(fd, size)
    tail = os.pread(fd, size - start, start)
    try:
        complete = isinstance(json.loads(tail), dict)
    except ValueError:
        complete = False
    if complete:
        os.write(fd, b"\n")
        return f"added the missing newline after the last line ({size - start} bytes)"
    os.ftruncate(fd, start)
    return f"cut a torn last line ({size - start} bytes)"


def repair_tail(path: Path) -> bool:
    """Repair a torn last line of ``path`` under the lock; True if something was fixed."""
    if not path.exists():
        return False
    with locked(path, os.O_RDWR | os.O_APPEND) as fd:
        return _repair_locked(fd) is not None


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        written = os.write(fd, view)
        view = view[written:]


class LedgerWriter:
    """Appends records to ``<log_dir>/{runs,iterations,calls}.jsonl``; ``warnings`` lists repairs made."""

    def __init__(self, log_dir: Path) -> None:
        self.log_dir = Path(log_dir)
        self.log_dir.mkdir(parents=True, exist_ok=True)
        self.warnings: list[str] = []

    def path(self, kind: LedgerFile) -> Path:
        return self.log_dir / kind.filename

    def repair(self) -> list[str]:
        """Repair a torn last line (left by a crashed writer) in each ledger file now; ``warnings`` so far."""
        for kind in LedgerFile:
            path = self.path(kind)
            if path.exists():
                with locked(path, os.O_RDWR | os.O_APPEND) as fd:
                    fixed = _repair_locked(fd)
                if fixed is not None:
                    self.warnings.append(f"{path}: {fixed}")
        return list(self.warnings)

    def append_run(self, rec: RunRecord) -> bool:
        """Append a run record (``rec.record`` is start or end); True if a torn line was repaired first."""
        if not rec.host or not rec.pid:
            rec = replace(rec, host=rec.host or this_host(), pid=rec.pid or os.getpid())
        return self._append(LedgerFile.RUNS, rec.to_json())

    def append_iteration(self, rec: IterationRecord) -> bool:
        return self._append(LedgerFile.ITERATIONS, rec.to_json())

    def append_call(self, rec: CallRecord) -> bool:
        return self._append(LedgerFile.CALLS, rec.to_json())

    def _append(self, kind: LedgerFile, data: Mapping[str, Any]) -> bool:
        line = encode_line(data)
        path = self.path(kind)
        with locked(path) as fd:
            repaired = _repair_locked(fd)
            _write_all(fd, line)
        if repaired is not None:
            self.warnings.append(f"{path}: {repaired}")
        return repaired is not None
