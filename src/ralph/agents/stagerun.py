"""One stage in progress, as every backend records it: events go to the sink, the books and the watch.

``StageRun`` keeps the answer text (at most ``output_cap_bytes`` in memory; the raw stream spills to a file
once it is larger, with the agent's credentials masked), the model calls, the session id, unknown events and
rate limits, and builds the ``StageResult``. ``classify_failure`` decides whether an error is the
infrastructure's (endpoint down, 429/529, 5xx, auth, context size) or the agent's.
"""

from __future__ import annotations

import re
import tempfile
import time
from pathlib import Path
from typing import IO

from ralph.agents.base import (
    AgentEvent,
    BackendOptions,
    EventKind,
    EventSink,
    ModelCall,
    OutputMask,
    StageRequest,
    StageResult,
)
from ralph.agents.watch import StageWatch
from ralph.errors import FailureKind, KillReason

__all__ = ["StageRun", "classify_failure"]

_INFRA = re.compile(
    r"\b(429|5\d\d|401|403)\b|rate.?limit|overloaded|unable to connect|cannot connect|connection ?refused"
    r"|econnrefused|econnreset|socket hang up|network|timed? ?out|unauthori[sz]ed|authentication|api key"
    r"|invalid x-api-key|context (size|length|window)|maximum context|too many tokens|prompt is too long"
    r"|exceeds the available context|service unavailable|bad gateway|internal server error|\bendpoint\b",
    re.IGNORECASE,
)


def classify_failure(detail: str) -> FailureKind:
    """``infra`` when the detail names an endpoint, quota, auth or context-size problem; else agent_error."""
    return KillReason.INFRA if _INFRA.search(detail) else KillReason.AGENT_ERROR


_WRITE_CHARS = 1 << 16


class _Spill:
    """Raw output kept in memory up to a cap, then written (all of it) to a file; credentials masked.

    Whole lines are masked as they come. The pieces of an overlong line are masked as they come too, but
    the last ``mask.longest - 1`` characters wait for the next piece and are masked again with it: a
    credential split across two pieces is still masked whole."""

    def __init__(self, cap: int, spill_dir: Path | None, label: str, mask: OutputMask | None) -> None:
        self._cap = cap
        self._dir = spill_dir
        self._label = label
        self._mask = mask
        self._held = ""
        self._lines: list[str] = []
        self._size = 0
        self._file: IO[str] | None = None
        self.path: Path | None = None

    def add(self, text: str, *, part: bool = False) -> None:
        """Record a whole line, or (``part``) a piece of one: the line ends with the piece that ends with
        a newline."""
        end = len(text)
        if self._mask is not None:
            text = self._mask(self._held + text if self._held else text)
            held = min(len(text), self._mask.longest - 1) if part and not text.endswith("\n") else 0
            end = len(text) - max(held, 0)
            self._held = text[end:]
        if self._file is None:
            size = end if text.isascii() else len(text[:end].encode("utf-8", errors="replace"))
            if self._size + size <= self._cap:
                self._lines.append(text[:end])
                self._size += size
                return
            self._open()
        assert self._file is not None
        for start in range(0, end, _WRITE_CHARS):  # a long line is never copied (or encoded) whole
            self._file.write(text[start : min(end, start + _WRITE_CHARS)])

    def _open(self) -> None:
        directory = self._dir or Path(tempfile.gettempdir())
        directory.mkdir(parents=True, exist_ok=True)
        self.path = directory / f"{self._label}-{time.strftime('%Y%m%dT%H%M%S')}-{id(self):x}.log"
        self._file = self.path.open("a", encoding="utf-8", errors="replace")
        self._file.writelines(self._lines)
        self._lines.clear()

    def close(self) -> None:
        if self._held:
            held, self._held = self._held, ""
            self.add(held)
        if self._file is not None:
            self._file.close()


class StageRun:
    """Books of one stage; ``emit`` returns the kill reason once the watch says stop."""

    def __init__(self, backend: str, request: StageRequest, options: BackendOptions, sink: EventSink) -> None:
        self.backend = backend
        self.request = request
        self.watch = StageWatch(request, options.clock)
        self._clock = options.clock
        self._sink = sink
        self._cap = options.output_cap_bytes
        self._text: list[str] = []
        self._text_size = 0
        self._spill = _Spill(
            options.output_cap_bytes, options.spill_dir, f"{backend}-{request.stage.key}", options.mask
        )
        self.calls: list[ModelCall] = []
        self.session_id = request.session_id
        self.unknown_events = 0
        self.rate_limit_reset_s: float | None = None
        self.errors: list[str] = []

    @property
    def output_cap(self) -> int:
        """``output_cap_bytes``: how much output is held in memory."""
        return self._cap

    def raw(self, line: str) -> None:
        """Record one raw wire line (spills to a file past the cap)."""
        self._spill.add(line if line.endswith("\n") else line + "\n")

    def raw_part(self, piece: str) -> None:
        """Record a piece of an overlong raw line, as is (the piece ending with a newline ends the line)."""
        self._spill.add(piece, part=True)

    def emit(self, event: AgentEvent) -> KillReason | None:
        """Forward to the sink, keep the books, and ask the watch."""
        self._sink.emit(event)
        self._book(event)
        return self.watch.observe(event)

    def check_deadline(self) -> KillReason | None:
        return self.watch.check_deadline()

    def _book(self, event: AgentEvent) -> None:
        if event.kind is EventKind.TEXT:
            self._add_text(event.text)
        elif event.kind is EventKind.SESSION and event.text:
            self.session_id = event.text
        elif event.kind is EventKind.STEP and event.call is not None:
            self.calls.append(event.call)
        elif event.kind is EventKind.RATE_LIMIT and event.reset_s is not None:
            self.rate_limit_reset_s = event.reset_s
        elif event.kind is EventKind.ERROR:
            self.errors.append(event.text)
        elif event.kind is EventKind.UNKNOWN:
            self.unknown_events += 1

    def _add_text(self, text: str) -> None:
        self._text.append(text)
        self._text_size += len(text)
        while self._text_size > self._cap and len(self._text) > 1:
            self._text_size -= len(self._text.pop(0))

    @property
    def text(self) -> str:
        """The answer so far (its tail, if it outgrew the cap: the last output block is what counts)."""
        joined = "".join(self._text)
        return joined[-self._cap :] if len(joined) > self._cap else joined

    def replace_text(self, text: str) -> None:
        """Use the agent's own final answer instead of the streamed pieces."""
        self._text = [text]
        self._text_size = len(text)

    def result(self, error: str | None = None) -> StageResult:
        """The StageResult: a watch kill wins; else ``error`` (the backend's failure detail) is classified."""
        self._spill.close()
        failure: FailureKind | None = None
        detail = ""
        if self.watch.reason is not None:
            failure, detail = self.watch.reason, self.watch.detail
        elif error is not None:
            failure, detail = classify_failure(error), error
        return StageResult(
            text=self.text,
            session_id=self.session_id,
            calls=tuple(self.calls),
            duration_s=max(0.0, self._clock.now() - self.watch.started),
            failure=failure,
            detail=detail,
            context_used=self.watch.context_used,
            context_size=self.watch.context_size,
            rate_limit_reset_s=self.rate_limit_reset_s,
            unknown_events=self.unknown_events,
            output_log=self._spill.path,
        )
