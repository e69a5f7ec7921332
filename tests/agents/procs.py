"""Find every process a test's agent started, by a unique tag in its environment (inherited by all
descendants, even ones that left the process group)."""

from __future__ import annotations

import os
import threading
import uuid
from collections.abc import Callable

TAG_NAME = "AGENT_TEST_TAG"


def new_tag() -> str:
    return uuid.uuid4().hex


def tagged_pids(tag: str) -> set[int]:
    """Live (non-zombie) processes whose environment carries ``AGENT_TEST_TAG=tag``."""
    needle = f"{TAG_NAME}={tag}".encode()
    found: set[int] = set()
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            with open(f"/proc/{name}/environ", "rb") as fh:
                environ = fh.read()
            with open(f"/proc/{name}/stat", "rb") as fh:
                state = fh.read().rsplit(b")", 1)[1].split()[0]
        except OSError:
            continue
        if state != b"Z" and needle in environ.split(b"\0"):
            found.add(int(name))
    return found


class Sampler:
    """Collects tagged pids in the background once ``ready()`` is true (e.g. the server got a request)."""

    def __init__(self, tag: str, ready: Callable[[], bool]) -> None:
        self.tag = tag
        self.seen: set[int] = set()
        self._ready = ready
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, daemon=True)

    def _loop(self) -> None:
        while not self._stop.wait(0.1):
            if self._ready():
                self.seen |= tagged_pids(self.tag)

    def __enter__(self) -> Sampler:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
