"""Key presses from the terminal without blocking: cbreak mode while watching, the old mode restored after.

Ctrl-C still raises KeyboardInterrupt (cbreak keeps signals on). When input is not a terminal, ``poll``
only waits.
"""

from __future__ import annotations

import os
import select
import sys
import termios
import time
import tty
from types import TracebackType
from typing import Any, TextIO

__all__ = ["KeyReader"]


class KeyReader:
    """A context manager over ``stream``: ``poll(timeout)`` returns the keys typed meanwhile ("" if none)."""

    def __init__(self, stream: TextIO | None = None) -> None:
        self._stream = stream if stream is not None else sys.stdin
        self._fd = -1
        self._saved: list[Any] | None = None

    def __enter__(self) -> KeyReader:
        try:
            fd = self._stream.fileno()
        except (OSError, ValueError):
            return self
        if os.isatty(fd):
            self._fd = fd
            self._saved = termios.tcgetattr(fd)
            tty.setcbreak(fd, termios.TCSANOW)
        return self

    def __exit__(
        self, kind: type[BaseException] | None, err: BaseException | None, tb: TracebackType | None
    ) -> None:
        if self._saved is not None:
            termios.tcsetattr(self._fd, termios.TCSADRAIN, self._saved)
            self._saved = None

    @property
    def interactive(self) -> bool:
        return self._saved is not None

    def poll(self, timeout: float) -> str:
        """Wait up to ``timeout`` seconds for keys; return what was typed."""
        if self._saved is None:
            time.sleep(max(0.0, timeout))
            return ""
        ready, _, _ = select.select([self._fd], [], [], max(0.0, timeout))
        if not ready:
            return ""
        return os.read(self._fd, 64).decode("utf-8", errors="replace")
