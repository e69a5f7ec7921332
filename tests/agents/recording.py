"""An EventSink that keeps every event, for assertions."""

from __future__ import annotations

from ralph.agents.base import AgentEvent, EventKind


class Recorder:
    def __init__(self) -> None:
        self.events: list[AgentEvent] = []

    def emit(self, event: AgentEvent) -> None:
        self.events.append(event)

    def of(self, kind: EventKind) -> list[AgentEvent]:
        return [e for e in self.events if e.kind is kind]
