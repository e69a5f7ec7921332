"""A clock that stands still until the model server receives its first request, then runs in real time.

Stage deadlines measured with it start when the agent is really waiting on the (hanging) model, whatever
the agent's start-up took on a loaded machine.
"""

from __future__ import annotations

import time

from tests.fakes.model_server import ScriptedModelServer


class ArrivalClock:
    """``now()`` is frozen at creation until the first request (or ``give_up_s``), then real time."""

    def __init__(self, server: ScriptedModelServer, give_up_s: float = 240.0) -> None:
        self._server = server
        self._origin = time.time()
        self._give_up_s = give_up_s

    def arrived_at(self) -> float | None:
        requests = self._server.main_requests
        if requests:
            return requests[0].at
        late = self._origin + self._give_up_s
        return late if time.time() > late else None

    def now(self) -> float:
        arrived = self.arrived_at()
        return self._origin if arrived is None else self._origin + (time.time() - arrived)

    def advance(self, seconds: float) -> None:
        return None

    @property
    def virtual(self) -> bool:
        return True
