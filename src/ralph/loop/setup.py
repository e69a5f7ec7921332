"""``ralph init``: the ralph folder with an example spec, the ticket store, and a marked working branch."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from ralph.errors import UsageError
from ralph.gitops import commit_paths, create_branch, created_by_ralph, current_branch, ref_exists
from ralph.loop.session import root_of
from ralph.tix import TicketStore

__all__ = ["EXAMPLE_SPEC", "InitSummary", "init_repo"]

EXAMPLE_SPEC = """# Example spec

## Overview

Describe the change you want in a few sentences: what exists now, what should exist after.

## Requirements

- [ ] Name each piece of work with the files it touches (for example `src/app/report.py`).
- [ ] Give every requirement an observable result (a command that exits 0, a test that passes).

## Out of scope

- What the agents must not touch.
"""


@dataclass(frozen=True)
class InitSummary:
    root: Path
    created: tuple[str, ...]
    branch: str
    branch_created: bool


def init_repo(repo: Path, *, ralph_dir: str = "ralph", branch: str = "ralph/work") -> InitSummary:
    """Create what is missing (idempotent): ``ralph/specs/example.md``, ``.tix``, the working branch."""
    root = root_of(repo)
    if not branch or branch.startswith("-"):
        raise UsageError(f"invalid branch name: {branch!r}")
    created: list[str] = []
    specs = root / ralph_dir / "specs"
    if not specs.is_dir():
        specs.mkdir(parents=True)
        created.append(f"{ralph_dir}/specs/")
    example = specs / "example.md"
    if not any(specs.iterdir()):
        example.write_text(EXAMPLE_SPEC, encoding="utf-8")
        created.append(f"{ralph_dir}/specs/example.md")
    if not (root / ".tix").is_dir():
        TicketStore.init(root)
        created.append(".tix/")
    new_branch = _ensure_branch(root, branch)
    if created:
        commit_paths(root, [ralph_dir, ".tix"], "ralph: init")
    return InitSummary(root, tuple(created), branch, new_branch)


def _ensure_branch(root: Path, branch: str) -> bool:
    """Create and mark ``branch`` from HEAD (or reuse one Ralph made) and switch to it; True if new."""
    existed = ref_exists(root, f"refs/heads/{branch}")
    if existed and current_branch(root) == branch and not created_by_ralph(root, branch):
        raise UsageError(f"branch {branch} exists and Ralph did not create it; choose another with --branch")
    create_branch(root, branch)
    return not existed
