"""Fixtures of the loop tests: a repo on a Ralph branch with a real ticket store."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from ralph.tix import TicketStore


@pytest.fixture
def store(git_repo: Path) -> TicketStore:
    subprocess.run(["git", "-C", str(git_repo), "switch", "-q", "-c", "ralph/work"], check=True)
    return TicketStore.init(git_repo)
