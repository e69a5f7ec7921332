"""SIGINT/SIGTERM during a run: the first one stops the agent (raised in the main thread, so the backend's
``run`` unwinds and kills its process group), the run records its end and exits 130; a second one forces exit
(every process the run started is killed first, with no grace and no end record).

Store, ledger and state writes run inside ``critical()``: a signal arriving there is held until the write is
complete, so a stop never leaves a half-applied reconcile behind.
"""

from __future__ import annotations

import os
import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from types import FrameType

from ralph.proc import kill_own_children

__all__ = ["SignalGuard", "StopRequested"]

FORCED_EXIT = 130


class StopRequested(KeyboardInterrupt):
    """Raised in the main thread when SIGINT or SIGTERM arrives (a BaseException: backends cannot swallow
    it with ``except Exception``)."""


class SignalGuard:
    """Installs the handlers for the length of a ``with`` block (main thread only; a no-op elsewhere)."""

    def __init__(self) -> None:
        self.received: str | None = None
        self._count = 0
        self._depth = 0
        self._held = False
        self._old: dict[int, object] = {}

    def __enter__(self) -> SignalGuard:
        if threading.current_thread() is threading.main_thread():
            for sig in (signal.SIGINT, signal.SIGTERM):
                self._old[sig] = signal.signal(sig, self._handle)
        return self

    def __exit__(self, *exc: object) -> None:
        for sig, handler in self._old.items():
            signal.signal(sig, handler)  # type: ignore[arg-type]
        self._old.clear()

    def _handle(self, signum: int, frame: FrameType | None) -> None:
        self._count += 1
        self.received = signal.Signals(signum).name
        if self._count > 1:
            kill_own_children()
            os._exit(FORCED_EXIT)
        if self._depth:
            self._held = True
            return
        raise StopRequested(self.received)

    @contextmanager
    def critical(self) -> Iterator[None]:
        """Hold a stop until the block finishes, then raise it."""
        self._depth += 1
        try:
            yield
        finally:
            self._depth -= 1
        if not self._depth and self._held:
            self._held = False
            raise StopRequested(self.received or "signal")

    @property
    def stopping(self) -> bool:
        return self._count > 0
