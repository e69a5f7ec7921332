"""Fixtures for the tix tests: a git repository with an initialised store."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from ralph.tix import TicketStore


@pytest.fixture
def store(git_repo: Path) -> Iterator[TicketStore]:
    s = TicketStore.init(git_repo)
    yield s
    s.close()
