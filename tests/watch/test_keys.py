"""KeyReader on a real pseudo-terminal: cbreak while inside, the old mode restored after."""

from __future__ import annotations

import io
import os
import termios
import time
from collections.abc import Iterator

import pytest

from ralph.watch.keys import KeyReader


@pytest.fixture
def pty_pair() -> Iterator[tuple[int, io.TextIOWrapper]]:
    master, slave = os.openpty()
    stream = open(slave, encoding="utf-8", closefd=True)  # noqa: SIM115
    try:
        yield master, stream
    finally:
        stream.close()
        os.close(master)


def test_cbreak_inside_and_restored_after(pty_pair: tuple[int, io.TextIOWrapper]) -> None:
    master, stream = pty_pair
    before = termios.tcgetattr(stream.fileno())
    assert before[3] & termios.ICANON
    with KeyReader(stream) as keys:
        assert keys.interactive
        inside = termios.tcgetattr(stream.fileno())
        assert not inside[3] & termios.ICANON and not inside[3] & termios.ECHO
        assert inside[3] & termios.ISIG, "Ctrl-C must still interrupt"
        assert keys.poll(0.01) == ""
        os.write(master, b"q")
        assert keys.poll(2.0) == "q"
    assert termios.tcgetattr(stream.fileno()) == before


def test_restored_when_the_body_raises(pty_pair: tuple[int, io.TextIOWrapper]) -> None:
    _master, stream = pty_pair
    before = termios.tcgetattr(stream.fileno())
    with pytest.raises(KeyboardInterrupt), KeyReader(stream):
        raise KeyboardInterrupt
    assert termios.tcgetattr(stream.fileno()) == before


def test_not_a_terminal_only_waits(tmp_path: object) -> None:
    read, write = os.pipe()
    with open(read, encoding="utf-8") as stream, KeyReader(stream) as keys:
        os.write(write, b"q")
        assert not keys.interactive
        started = time.monotonic()
        assert keys.poll(0.05) == ""
        assert time.monotonic() - started >= 0.04
    os.close(write)
