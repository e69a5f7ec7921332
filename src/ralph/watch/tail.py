"""Reading files that another process appends to: only whole lines, only what is new since the last read.

A file that shrank or was replaced (another inode) is read again from its start; a missing file reads as
empty until it appears.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

__all__ = ["JsonlTail", "LineTail"]


class LineTail:
    """Complete lines appended to ``path`` since the previous ``read_new``.

    The first read starts ``backlog`` bytes before the end (None: at the start), dropping the partial first
    line that lands there.
    """

    def __init__(self, path: Path, backlog: int | None = None) -> None:
        self.path = path
        self._backlog = backlog
        self._offset: int | None = None
        self._inode = -1
        self._partial = b""

    def read_new(self) -> list[str]:
        try:
            with self.path.open("rb") as handle:
                st = os.fstat(handle.fileno())
                skip_first = self._position(handle, st)
                data = self._partial + handle.read()
                self._offset = handle.tell()
        except OSError:
            return []
        lines = data.split(b"\n")
        self._partial = lines.pop()
        if skip_first and lines:
            lines.pop(0)
        return [line.decode("utf-8", errors="replace") for line in lines]

    def _position(self, handle: Any, st: os.stat_result) -> bool:
        """Seek to where reading resumes; True when the first line read may be a fragment."""
        if self._offset is None or st.st_ino != self._inode or st.st_size < self._offset:
            self._inode = st.st_ino
            self._partial = b""
            start = 0 if self._backlog is None else max(0, st.st_size - self._backlog)
            if start == 0:
                return False
            handle.seek(start - 1)
            return bool(handle.read(1) != b"\n")
        handle.seek(self._offset)
        return False


class JsonlTail:
    """New JSON objects of a JSON Lines file that mention ``needle`` (a cheap byte filter before parsing)."""

    def __init__(self, path: Path, needle: str = "") -> None:
        self._lines = LineTail(path)
        self._needle = needle

    def read_new(self) -> list[dict[str, Any]]:
        return list(self._parse(self._lines.read_new()))

    def _parse(self, lines: list[str]) -> Iterator[dict[str, Any]]:
        for line in lines:
            if self._needle and self._needle not in line:
                continue
            try:
                data = json.loads(line)
            except ValueError:
                continue
            if isinstance(data, dict):
                yield data
