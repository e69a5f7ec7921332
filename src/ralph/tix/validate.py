"""``tix validate`` (interim: the checks land in the next commit)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ralph.tix.records import ValidationReport

if TYPE_CHECKING:
    from ralph.tix.store import TicketStore

__all__ = ["validate_store"]


def validate_store(store: TicketStore) -> ValidationReport:
    return ValidationReport()
