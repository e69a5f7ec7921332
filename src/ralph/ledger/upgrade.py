"""Ledger lines of older formats -> the current one, through an ordered list of named steps.

A line without ``"schema"`` is the earlier ralph's (version 0). A past step is never edited; a format change
adds a step. Steps take and return plain dicts, so the hot read path stays cheap.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, Final

from ralph.ledger.records import SCHEMA_VERSION

__all__ = ["UPGRADES", "LedgerFile", "Upgrade", "upgrade_line"]


class LedgerFile(StrEnum):
    """The three ledger files, by the kind of record they hold."""

    RUNS = "runs"
    ITERATIONS = "iterations"
    CALLS = "calls"

    @property
    def filename(self) -> str:
        return f"{self.value}.jsonl"


@dataclass(frozen=True)
class Upgrade:
    """Turns a version ``from_version`` dict into version ``from_version + 1``."""

    from_version: int
    name: str
    apply: Callable[[LedgerFile, dict[str, Any]], dict[str, Any]]


_EXIT_REASONS_V0: Final = {"wall_time_limit": "wall_time", "unknown": "error", "git_conflict": "error"}
_KILL_REASONS_V0: Final = {"loop_detected": "loop", "context_pressure": "context"}


def _earlier_ralph_to_v1(kind: LedgerFile, line: dict[str, Any]) -> dict[str, Any]:
    """The earlier ralph wrote one final run line in ``finally``; renamed reasons; no host/experiment."""
    out = dict(line)
    out["schema"] = 1
    if kind is LedgerFile.RUNS:
        out.setdefault("record", "end")
        reason = out.get("exit_reason")
        if isinstance(reason, str) and reason in _EXIT_REASONS_V0:
            out["legacy_exit_reason"] = reason
            out["exit_reason"] = _EXIT_REASONS_V0[reason]
        out.setdefault("experiment", "")
        out.setdefault("replicate", 0)
        out.setdefault("host", "")
    elif kind is LedgerFile.ITERATIONS:
        reason = out.get("kill_reason")
        if isinstance(reason, str) and reason in _KILL_REASONS_V0:
            out["kill_reason"] = _KILL_REASONS_V0[reason]
        out.setdefault("api_calls", 1)
    return out


UPGRADES: Final[tuple[Upgrade, ...]] = (Upgrade(0, "earlier_ralph_to_v1", _earlier_ralph_to_v1),)
"""Ordered upgrade steps; ``UPGRADES[i].from_version == i``."""


def upgrade_line(kind: LedgerFile, line: dict[str, Any]) -> dict[str, Any]:
    """``line`` at the current schema (returned as is when already current; ValueError if from the future)."""
    version = line.get("schema", 0)
    if version == SCHEMA_VERSION:
        return line
    if not isinstance(version, int) or isinstance(version, bool) or version > SCHEMA_VERSION or version < 0:
        raise ValueError(f"unsupported ledger schema {version!r}")
    for step in UPGRADES[version:]:
        line = step.apply(kind, line)
    return line
