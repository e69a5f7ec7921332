"""The child-process plumbing under every agent: a fast writer never makes Ralph buffer its output without
bound (the child waits on its pipe instead), no line is lost or reordered, and a reader closed by ``wait``
ends its consumer."""

from __future__ import annotations

import sys
import threading
import time
from pathlib import Path

from ralph.proc import LineProcess

WRITER = "import sys\nfor i in range({n}):\n    sys.stdout.write(f'{{i:08d}}' + 'x' * {width} + '\\n')\n"


def test_a_fast_writer_waits_for_a_slow_reader_and_loses_nothing(tmp_path: Path) -> None:
    proc = LineProcess([sys.executable, "-c", WRITER.format(n=20_000, width=1000)], cwd=tmp_path)
    time.sleep(1.0)
    queued = proc._queue.qsize()
    numbers = [int(line[:8]) for line in proc.lines(poll_s=0.05) if line is not None]
    proc.kill()
    assert proc.wait() == 0
    assert queued <= 64
    assert numbers == list(range(20_000))


def test_a_long_line_is_cut_at_the_limit_and_the_next_line_survives(tmp_path: Path) -> None:
    writer = "import sys\nsys.stdout.write('y' * 5_000_000 + '\\nnext\\n')\n"
    proc = LineProcess([sys.executable, "-c", writer], cwd=tmp_path, max_line_bytes=1_000_000)
    lines = [line for line in proc.lines(poll_s=0.05) if line is not None]
    proc.kill()
    proc.wait()
    assert [len(line) for line in lines] == [1_000_001, 5]


def test_wait_ends_a_consumer_that_stopped_reading_a_full_queue(tmp_path: Path) -> None:
    proc = LineProcess([sys.executable, "-c", WRITER.format(n=100_000, width=100)], cwd=tmp_path)
    time.sleep(0.5)
    proc.kill(grace_s=0.5)
    proc.wait()
    consumer = threading.Thread(target=lambda: [None for _ in proc.lines(poll_s=0.05)], daemon=True)
    consumer.start()
    consumer.join(timeout=10)
    assert not consumer.is_alive()
