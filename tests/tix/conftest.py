"""Fixtures for the tix tests: a git repository with an initialised store.

``tmp_path`` is overridden with a private temporary directory: on this shared machine other pytest
sessions prune old ``/tmp/pytest-of-*`` folders (pytest keeps the last three), which deleted the
repositories of long-running concurrency tests from under them.
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from ralph.tix import TicketStore


@pytest.fixture
def tmp_path() -> Iterator[Path]:
    with tempfile.TemporaryDirectory(prefix="tix-test-") as folder:
        yield Path(folder).resolve()


@pytest.fixture
def store(git_repo: Path) -> Iterator[TicketStore]:
    s = TicketStore.init(git_repo)
    yield s
    s.close()
