"""What ``ralph watch`` reads while a run goes on: agent activity lines in ``<log_dir>/activity/<run_id>.log``
(from the backend's event stream), the context occupancy of the running stage, and the calls of the running
stage counted as they happen (``LiveSink`` passes STEP and USAGE events on to the run)."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TextIO

from ralph.agents.base import AgentEvent, EventKind, ModelCall
from ralph.loop.secrets import SecretMask

__all__ = ["ActivitySink", "LiveSink", "LiveUsage", "activity_path"]

_LINE_CHARS = 400


def activity_path(log_dir: Path, run_id: str) -> Path:
    return log_dir / "activity" / f"{run_id}.log"


class ActivitySink:
    """An EventSink: one readable line per event of interest, appended and flushed as it happens."""

    def __init__(self, path: Path, mask: SecretMask | None = None) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self.mask = mask or SecretMask()
        """Credentials the agents hold, masked in every line written (and in answers, by the loop)."""
        self._fh: TextIO | None = path.open("a", encoding="utf-8", errors="backslashreplace", buffering=1)
        self.context_used = 0
        self.context_size = 0
        self.prefix = ""
        self._text = ""

    def note(self, text: str) -> None:
        """A line from the loop itself (stage start and end, reverts, waits)."""
        self._write(f"== {text}")

    def emit(self, event: AgentEvent) -> None:
        if event.context_used is not None:
            self.context_used = event.context_used
            self.context_size = event.context_size or self.context_size
        if event.kind is EventKind.TEXT:
            self._text += event.text
            if "\n" in event.text or len(self._text) > _LINE_CHARS + self.mask.longest:
                self._flush_text(final=False)
            return
        self._flush_text()
        line = _describe(event)
        if line:
            self._write(line)

    def _flush_text(self, *, final: bool = True) -> None:
        """Write the finished lines of the text so far (all of it when ``final``). What is held back is
        masked again with the next piece, so a secret split across pieces is still masked whole."""
        text = self.mask(self._text)
        keep = self._held(text, final)
        done, self._text = (text[: len(text) - keep], text[len(text) - keep :]) if keep > 0 else (text, "")
        for part in done.splitlines():
            if part.strip():
                self._write(f"say {part}")

    def _held(self, text: str, final: bool) -> int:
        """Trailing characters that wait: none at the end, else an unfinished line, else a secret's length."""
        if final:
            return 0
        if "\n" in text:
            return len(text) - text.rindex("\n") - 1
        return max(0, self.mask.longest - 1)

    def _write(self, line: str) -> None:
        if self._fh is None:
            return
        stamp = time.strftime("%H:%M:%S")
        self._fh.write(f"{stamp} {self.prefix}{self.mask(line)[:_LINE_CHARS]}\n")

    def close(self) -> None:
        self._flush_text()
        if self._fh is not None:
            self._fh.close()
            self._fh = None


def _describe(event: AgentEvent) -> str:
    kind = event.kind
    if kind is EventKind.TOOL_CALL:
        return f"tool {event.tool} {event.tool_input[:200]}"
    if kind is EventKind.STEP and event.call is not None:
        call = event.call
        return f"step {call.model} in={call.usage.input} cached={call.usage.cached} out={call.usage.output}"
    if kind is EventKind.RATE_LIMIT:
        return f"rate limit {event.text} reset={event.reset_s}"
    if kind is EventKind.ERROR:
        return f"error {event.text}"
    if kind is EventKind.SESSION:
        return f"session {event.text}"
    return ""


@dataclass(frozen=True)
class LiveUsage:
    """The model calls of the running stage so far, from its STEP events (provisional: the stage's result
    is the exact account)."""

    cost: float = 0.0
    tokens: int = 0
    remote: int = 0
    local: int = 0

    def add(self, call: ModelCall) -> LiveUsage:
        return LiveUsage(
            cost=self.cost + call.cost,
            tokens=self.tokens + call.usage.total,
            remote=self.remote + (0 if call.is_local else 1),
            local=self.local + (1 if call.is_local else 0),
        )


class LiveSink:
    """An agent call's EventSink: every event to the activity log; STEP and USAGE also to ``progress``."""

    def __init__(self, activity: ActivitySink, progress: Callable[[AgentEvent], None]) -> None:
        self.activity = activity
        self.progress = progress

    def emit(self, event: AgentEvent) -> None:
        self.activity.emit(event)
        if event.kind in (EventKind.STEP, EventKind.USAGE):
            self.progress(event)
