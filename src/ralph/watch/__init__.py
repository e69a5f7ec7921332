"""``ralph watch``: the live view of a running ``ralph construct`` (or of a bench's cells), as data.

model.py    RunSnapshot (what was read) -> RunFrame (what to show): status, position, usage, limit gauges,
            the guard nearest to tripping, recent kills (pure)
sources.py  RunReader: the state file, the run's ledger lines, the activity tail and the ticket store
cells.py    the bench view: one CellRow per experiment cell, live or from collected run records
tail.py     incremental whole-line reads of files another process appends to
keys.py     KeyReader: key presses in cbreak mode without blocking; the terminal restored after
"""

from ralph.watch.cells import BenchReader, CellRow, CellSource, cell_row, record_row
from ralph.watch.keys import KeyReader
from ralph.watch.model import (
    Gauge,
    Kill,
    Position,
    RunFrame,
    RunSnapshot,
    RunStatus,
    Usage,
    build_frame,
    nearest_guard,
)
from ralph.watch.sources import RunReader, pid_alive

__all__ = [
    "BenchReader",
    "CellRow",
    "CellSource",
    "Gauge",
    "KeyReader",
    "Kill",
    "Position",
    "RunFrame",
    "RunReader",
    "RunSnapshot",
    "RunStatus",
    "Usage",
    "build_frame",
    "cell_row",
    "nearest_guard",
    "pid_alive",
    "record_row",
]
