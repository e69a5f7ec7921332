"""Time as the loop sees it.

A real run uses ``SystemClock``. A simulated run uses ``VirtualClock``: it advances by the simulated model
latency *plus* the real time that passed, so guards (wall time, stall, timeouts) and every recorded
duration stay consistent while a simulated overnight run finishes in minutes.
"""

from __future__ import annotations

import time
from typing import Protocol

__all__ = ["Clock", "SystemClock", "VirtualClock"]


class Clock(Protocol):
    def now(self) -> float:
        """Seconds since the epoch, as this clock counts them."""
        ...

    def advance(self, seconds: float) -> None:
        """Account for time that passed outside real time (no-op on a real clock)."""
        ...

    @property
    def virtual(self) -> bool: ...


class SystemClock:
    """Wall-clock time."""

    def now(self) -> float:
        return time.time()

    def advance(self, seconds: float) -> None:
        return None

    @property
    def virtual(self) -> bool:
        return False


class VirtualClock:
    """Real time plus an offset that simulated work adds to."""

    def __init__(self, start: float | None = None) -> None:
        self._offset = 0.0 if start is None else start - time.time()

    def now(self) -> float:
        return time.time() + self._offset

    def advance(self, seconds: float) -> None:
        if seconds < 0:
            raise ValueError("a clock cannot go back")
        self._offset += seconds

    @property
    def virtual(self) -> bool:
        return True
