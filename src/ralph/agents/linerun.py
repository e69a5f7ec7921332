"""Drive an agent CLI that prints one JSON event per line (opencode ``run``, Claude Code ``-p``).

The child runs in its own process group; each line is decoded and handed to the backend's parser, whose
events go through the ``StageRun``. A line is held in memory up to ``output_cap_bytes`` (at least
``MIN_LINE_BYTES``): the head of a longer one is an unknown event, and the whole line goes to the raw record
(which spills to a file) piece by piece, never held whole. On a kill reason, on the deadline (checked on
idle ticks too) and at the end the whole group is killed, so no child of the agent outlives the stage.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from typing import Any, Protocol

from ralph.agents.base import AgentEvent, EventKind
from ralph.agents.stagerun import StageRun
from ralph.errors import AgentError
from ralph.proc import LineHead, LineProcess, LineTail

__all__ = ["MIN_LINE_BYTES", "LineParser", "run_lines"]

_POLL_S = 0.2
_KILL_GRACE_S = 2.0
MIN_LINE_BYTES = 1024 * 1024
"""Lines up to this size are read whole even under a smaller ``output_cap_bytes`` (an event must parse)."""
_OBJECT = re.compile(r"\s*\{")


class LineParser(Protocol):
    """Turns decoded wire events into normalised ones; stateful per stage. ``fatal`` set by ``feed``
    ends the stage at once (the agent would otherwise carry on past an error Ralph must act on)."""

    fatal: str | None

    def feed(self, obj: Mapping[str, Any]) -> list[AgentEvent]: ...

    def finish(self, returncode: int, stderr: str) -> str | None:
        """The failure detail once the process ended on its own, or None when it succeeded."""
        ...


def _decode(line: str) -> Mapping[str, Any] | None:
    """The JSON object on ``line`` (not copied: a line may be megabytes), or None."""
    if not _OBJECT.match(line):
        return None
    try:
        obj = json.loads(line)
    except json.JSONDecodeError:
        return None
    return obj if isinstance(obj, dict) else None


def _pump(run: StageRun, proc: LineProcess, parser: LineParser) -> None:
    """Feed lines until EOF, a kill reason, or an idle tick after the agent itself has exited."""
    for line in proc.lines(poll_s=_POLL_S):
        if run.check_deadline() is not None:
            return
        if line is None:
            if proc.poll() is not None:
                return
            continue
        if isinstance(line, LineTail):
            run.raw_part(line)
            continue
        if isinstance(line, LineHead):
            run.raw_part(line)
            events = [AgentEvent(EventKind.UNKNOWN, text=line[:500], raw_type="overlong")]
        else:
            if not line or line.isspace():
                continue
            run.raw(line)
            obj = _decode(line)
            events = (
                parser.feed(obj)
                if obj is not None
                else [AgentEvent(EventKind.UNKNOWN, text=line[:2000].strip()[:500], raw_type="non-json")]
            )
        for event in events:
            if run.emit(event) is not None:
                return
        if parser.fatal is not None:
            return


def run_lines(
    run: StageRun, argv: Sequence[str], *, env: Mapping[str, str], stdin_text: str, parser: LineParser
) -> str | None:
    """Run ``argv`` in ``run.request.cwd`` until it exits or the watch stops it; return the parser's
    failure detail (None on success or when the watch stopped it)."""
    try:
        proc = LineProcess(
            argv,
            cwd=run.request.cwd,
            env=env,
            stdin_text=stdin_text,
            max_line_bytes=max(run.output_cap, MIN_LINE_BYTES),
            split_long=True,
        )
    except OSError as exc:
        raise AgentError(f"cannot start {argv[0]!r}: {exc}") from exc
    try:
        _pump(run, proc, parser)
    finally:
        proc.kill(_KILL_GRACE_S)
        code = proc.wait()
    if run.watch.reason is not None:
        return None
    return parser.fatal or parser.finish(code, proc.stderr_text())
