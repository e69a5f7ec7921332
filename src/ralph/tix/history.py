"""``sync`` and ``compact`` (interim: they land in the next commit)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ralph.errors import StoreError

if TYPE_CHECKING:
    from ralph.tix.store import TicketStore

__all__ = ["compact_store", "sync_store"]


def compact_store(store: TicketStore) -> dict[str, Any]:
    raise StoreError("compact is not available yet")


def sync_store(store: TicketStore, branch: str | None = None, all_branches: bool = False) -> dict[str, Any]:
    raise StoreError("sync is not available yet")
