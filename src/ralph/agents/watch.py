"""Live enforcement while a stage runs, shared by every backend.

``StageWatch`` sees each normalised event as it arrives and says when the stage must be stopped: the
deadline passed (timeout), the context is nearly full (context), the agent keeps finishing steps that
produce nothing (empty_steps), or it repeats the same tool call (loop). The backend then kills the agent.
"""

from __future__ import annotations

from ralph.agents.base import AgentEvent, EventKind, StageRequest
from ralph.clock import Clock
from ralph.errors import KillReason

__all__ = ["StageWatch"]


class StageWatch:
    """Watchdog for one stage; the first reason found is kept (``reason``, ``detail``)."""

    def __init__(self, request: StageRequest, clock: Clock) -> None:
        self._request = request
        self._clock = clock
        self.started = clock.now()
        self.deadline = self.started + request.timeout_s if request.timeout_s > 0 else None
        self.context_used = 0
        self.context_size = request.context_window
        self.reason: KillReason | None = None
        self.detail = ""
        self._empty_steps = 0
        self._active_since_step = False
        self._last_tool: tuple[str, str] | None = None
        self._repeats = 0

    def observe(self, event: AgentEvent) -> KillReason | None:
        """Account for one event; return the kill reason when this event crosses a limit."""
        if self.reason is not None:
            return self.reason
        if event.kind in (EventKind.TEXT, EventKind.THOUGHT):
            self._active_since_step = self._active_since_step or bool(event.text.strip())
        elif event.kind is EventKind.TOOL_CALL:
            self._active_since_step = True
            self._on_tool_call(event)
        elif event.kind is EventKind.STEP:
            self._on_step(event)
        elif event.kind is EventKind.USAGE:
            self._on_usage(event)
        return self.reason

    def check_deadline(self) -> KillReason | None:
        """Called on idle ticks too: a silent agent still times out."""
        if self.reason is None and self.deadline is not None and self._clock.now() >= self.deadline:
            self._stop(KillReason.TIMEOUT, f"stage timeout after {self._request.timeout_s:g}s")
        return self.reason

    @property
    def context_pct(self) -> float:
        return 100.0 * self.context_used / self.context_size if self.context_size else 0.0

    def _stop(self, reason: KillReason, detail: str) -> None:
        self.reason = reason
        self.detail = detail

    def _on_tool_call(self, event: AgentEvent) -> None:
        key = (event.tool, event.tool_input)
        self._repeats = self._repeats + 1 if key == self._last_tool else 1
        self._last_tool = key
        limit = self._request.max_identical_tool_calls
        if limit > 0 and self._repeats >= limit:
            self._stop(KillReason.LOOP, f"{self._repeats} identical calls of tool {event.tool!r} in a row")

    def _on_step(self, event: AgentEvent) -> None:
        produced = event.call is not None and event.call.usage.total > 0
        if produced or self._active_since_step:
            self._empty_steps = 0
        else:
            self._empty_steps += 1
        self._active_since_step = False
        limit = self._request.max_empty_steps
        if limit > 0 and self._empty_steps >= limit:
            self._stop(KillReason.EMPTY_STEPS, f"{self._empty_steps} consecutive empty steps")

    def _on_usage(self, event: AgentEvent) -> None:
        if event.context_used is None:
            return
        self.context_used = event.context_used
        if event.context_size:
            self.context_size = event.context_size
        kill_pct = self._request.context_kill_pct
        if kill_pct > 0 and self.context_pct >= kill_pct:
            self._stop(
                KillReason.CONTEXT,
                f"context {self.context_used}/{self.context_size} tokens "
                f"({self.context_pct:.0f}% >= {kill_pct:g}%)",
            )
