"""Fixtures for gitops tests: a repository with a local bare remote."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from tests.gitops.repos import git


@pytest.fixture
def bare_remote(tmp_path: Path, git_repo: Path) -> Path:
    """A local bare repository registered as ``origin`` of ``git_repo``, with ``main`` pushed."""
    remote = tmp_path / "remote.git"
    subprocess.run(["git", "init", "-q", "--bare", "-b", "main", str(remote)], check=True)
    git(git_repo, "remote", "add", "origin", str(remote))
    git(git_repo, "push", "-q", "origin", "main")
    return remote
