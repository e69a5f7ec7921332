"""A real terminal for tests: one tmux pane on a private tmux server, driven by send-keys and read by
capture-pane."""

from __future__ import annotations

import subprocess
import time
import uuid
from collections.abc import Callable
from pathlib import Path


class Pane:
    """One tmux pane on a private server (its own socket), running bash without rc files."""

    def __init__(
        self, cwd: Path, *, size: tuple[int, int] = (150, 60), deadline_s: float = 240.0, poll_s: float = 0.05
    ) -> None:
        self.socket = f"ralph-test-{uuid.uuid4().hex[:8]}"
        self.deadline_s, self.poll_s = deadline_s, poll_s
        width, height = size
        self._tmux("new-session", "-d", "-s", "w", "-x", str(width), "-y", str(height), "-c", str(cwd),
                   "bash --norc --noprofile")  # fmt: skip

    def _tmux(self, *args: str) -> str:
        done = subprocess.run(
            ["tmux", "-L", self.socket, "-f", "/dev/null", *args],
            capture_output=True, text=True, timeout=30, check=True,
        )  # fmt: skip
        return done.stdout

    def type(self, text: str) -> None:
        self._tmux("send-keys", "-t", "w", "-l", text)

    def key(self, name: str) -> None:
        self._tmux("send-keys", "-t", "w", name)

    def enter(self, line: str) -> None:
        self.type(line)
        self.key("Enter")

    def screen(self) -> str:
        return self._tmux("capture-pane", "-p", "-t", "w")

    def wait_for(self, done: Callable[[str], bool], what: str, seen: list[str] | None = None) -> str:
        """Capture until ``done(screen)``; every distinct screen is kept in ``seen``."""
        deadline = time.monotonic() + self.deadline_s
        screen = ""
        while time.monotonic() < deadline:
            screen = self.screen()
            if seen is not None and (not seen or seen[-1] != screen):
                seen.append(screen)
            if done(screen):
                return screen
            time.sleep(self.poll_s)
        raise AssertionError(f"timed out waiting for {what}; last screen:\n{screen}")

    def kill(self) -> None:
        subprocess.run(
            ["tmux", "-L", self.socket, "kill-server"], capture_output=True, timeout=30, check=False
        )
