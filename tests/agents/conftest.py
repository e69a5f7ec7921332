"""Fixtures for backend tests: the scripted model server, agent homes, and the real-CLI gate.

Tests marked ``realcli`` need the pinned CLIs from scripts/install-agents.sh. When they are missing the
tests FAIL with the install command (CI must not pass silently); set RALPH_TEST_SKIP_REALCLI=1 to skip
them locally instead.
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

# CPython 3.11.7 keeps the AST converter's recursion depth per interpreter, not per thread: an ast.parse in
# one thread (pytest rewriting a module the hypothesis plugin imports late, or a traceback's caret
# placement) racing one in another thread (a server or event-loop thread formatting a traceback) fails with
# "AST constructor recursion depth mismatch". Import those modules now, while only this thread runs.
import hypothesis.configuration
import hypothesis.errors
import hypothesis.internal.conjecture.providers
import hypothesis.internal.escalation
import hypothesis.internal.healthcheck
import hypothesis.internal.observability
import hypothesis.reporting
import hypothesis.statistics  # noqa: F401
import pytest
from tests.fakes.agent_env import missing_binaries
from tests.fakes.model_server import ScriptedModelServer

_SKIP_REALCLI = os.environ.get("RALPH_TEST_SKIP_REALCLI") == "1"


@pytest.fixture(autouse=True)
def _require_real_clis(request: pytest.FixtureRequest) -> None:
    if request.node.get_closest_marker("realcli") is None:
        return
    missing = missing_binaries()
    if not missing:
        return
    message = f"pinned agent CLIs missing: {', '.join(missing)}; run `bash scripts/install-agents.sh`"
    if _SKIP_REALCLI:
        pytest.skip(message)
    pytest.fail(message, pytrace=False)


@pytest.fixture
def server() -> Iterator[ScriptedModelServer]:
    with ScriptedModelServer() as fake:
        yield fake


@pytest.fixture(scope="session")
def agent_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One private HOME for the real CLIs, shared by the session (their first start is slow)."""
    return tmp_path_factory.mktemp("agent-home")


@pytest.fixture
def worktree(tmp_path: Path) -> Path:
    """A git repository with one commit, where the agent works."""
    repo = tmp_path / "work"
    repo.mkdir()
    subprocess.run(["git", "init", "-q", "-b", "main", str(repo)], check=True)
    (repo / "README.md").write_text("fixture repo\n")
    subprocess.run(["git", "-C", str(repo), "add", "."], check=True)
    subprocess.run(["git", "-C", str(repo), "commit", "-q", "-m", "init"], check=True)
    return repo
