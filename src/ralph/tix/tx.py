"""One mutation in progress: the lines it will append and the tickets it changed so far."""

from __future__ import annotations

import time
from collections.abc import Iterable, Mapping
from typing import Any

from ralph.errors import StoreError
from ralph.tix.cache import Cache
from ralph.tix.lines import dump_line, encode_ticket
from ralph.tix.records import Ticket

__all__ = ["Mutation"]


class Mutation:
    """Staged lines plus an overlay, so later steps of one mutation (a batch) see earlier ones."""

    def __init__(self, cache: Cache) -> None:
        self.cache = cache
        self.now = time.time()
        self.lines: list[str] = []
        self.overlay: dict[str, Ticket] = {}
        self.touched: list[str] = []

    def find(self, ticket_id: str) -> Ticket | None:
        return self.overlay.get(ticket_id) or self.cache.get(ticket_id)

    def get(self, ticket_id: str) -> Ticket:
        ticket = self.find(ticket_id)
        if ticket is None:
            raise StoreError(f"unknown id: {ticket_id}")
        return ticket

    def __contains__(self, ticket_id: object) -> bool:
        return isinstance(ticket_id, str) and self.find(ticket_id) is not None

    def put(self, ticket: Ticket, meta_keys: Iterable[str] | None = ()) -> None:
        """Stage a full ticket line; ``meta_keys`` = the meta written (None: all of it)."""
        self.overlay[ticket.id] = ticket
        self.record(encode_ticket(ticket, meta_keys), ticket.id)

    def record(self, rec: Mapping[str, Any], ticket_id: str, after: Ticket | None = None) -> None:
        """Stage any record; ``after`` is the ticket as the record leaves it (for later steps)."""
        self.lines.append(dump_line(rec))
        self.touched.append(ticket_id)
        if after is not None:
            self.overlay[ticket_id] = after
