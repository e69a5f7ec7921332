"""What an experiment is: the target, the arms (profiles and variants), limits, checks and the cells.

An *arm* is one column of the comparison: a profile from the config, an inline profile, or a variant
(a base profile plus setting overrides, possibly another spec). A *cell* is one arm at one replicate, with
its own worktree, branch and results folder. Parsing lives in ``toml_format`` and ``conf_format``.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ralph.errors import UsageError

__all__ = [
    "Arm",
    "Cell",
    "Concurrency",
    "Experiment",
    "Gate",
    "Limits",
    "SettingValue",
    "env_for_overrides",
    "safe_name",
]

SettingValue = str | int | float | bool | list[Any] | dict[str, Any]

_SAFE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*$")


def safe_name(text: str, what: str) -> str:
    """Return ``text`` if it can be a branch and folder component, else raise a one-line UsageError."""
    if not _SAFE.match(text) or ".." in text or text.endswith((".lock", ".")):
        raise UsageError(f"{what} {text!r} must use letters, digits, '.', '_' or '-' (it names branches)")
    return text


@dataclass(frozen=True)
class Gate:
    """A shell command whose exit code says pass or fail (build, test or a custom gate)."""

    label: str
    command: str
    timeout_s: float = 600.0


@dataclass(frozen=True)
class Limits:
    """Run limits passed to every cell's ``ralph construct`` (None = not passed, the config decides)."""

    max_iterations: int = 25
    max_wall_time_s: int = 7200
    max_failures: int = 3
    max_cost: float | None = None
    max_tokens: int | None = None
    max_api_calls: int | None = None
    stage_timeout_s: int | None = None


@dataclass(frozen=True)
class Concurrency:
    """How many cells may run at once: ``cloud`` slots shared by cells using any remote model, and
    ``local`` slots per local endpoint."""

    cloud: int = 1
    local: int = 1


@dataclass(frozen=True)
class Arm:
    """One compared configuration: ``--profile`` (None = no flag), setting overrides, optional spec."""

    name: str
    profile: str | None
    overrides: Mapping[str, SettingValue] = field(default_factory=dict)
    spec: str | None = None
    base: str | None = None
    changes: Mapping[str, SettingValue] = field(default_factory=dict)
    description: str = ""

    @property
    def is_variant(self) -> bool:
        return self.base is not None


@dataclass(frozen=True)
class Cell:
    """One arm at one replicate (1-based): a worktree on branch ``exp/<experiment>/<name>``."""

    arm: Arm
    replicate: int
    name: str
    branch: str
    worktree: Path
    results: Path


@dataclass(frozen=True)
class Experiment:
    """A parsed, not yet validated experiment definition."""

    name: str
    folder: Path
    source: Path
    target_repo: Path
    base_ref: str
    spec: str
    arms: tuple[Arm, ...]
    replicates: int = 1
    limits: Limits = field(default_factory=Limits)
    worktree_base: Path = Path()
    log_dir: Path = Path()
    results_dir: Path = Path()
    build: Gate | None = None
    test: Gate | None = None
    gates: tuple[Gate, ...] = ()
    concurrency: Concurrency = field(default_factory=Concurrency)
    seed: int = 0
    ralph_command: tuple[str, ...] = ()
    description: str = ""

    def arm(self, name: str) -> Arm:
        for arm in self.arms:
            if arm.name == name:
                return arm
        known = ", ".join(a.name for a in self.arms)
        raise UsageError(f"experiment {self.name}: unknown profile or variant {name!r} (known: {known})")

    def cells(self) -> tuple[Cell, ...]:
        """Every cell, arm by arm, replicate 1..N."""
        return tuple(self.cell(arm, k) for arm in self.arms for k in range(1, self.replicates + 1))

    def cell(self, arm: Arm, replicate: int) -> Cell:
        name = arm.name if self.replicates == 1 else f"{arm.name}-r{replicate}"
        return Cell(
            arm=arm,
            replicate=replicate,
            name=name,
            branch=f"exp/{self.name}/{name}",
            worktree=self.worktree_base / self.name / name,
            results=self.results_dir / name,
        )

    def find_cell(self, name: str) -> Cell:
        for cell in self.cells():
            if cell.name == name:
                return cell
        known = ", ".join(c.name for c in self.cells())
        raise UsageError(f"experiment {self.name}: unknown cell {name!r} (known: {known})")

    def spec_of(self, arm: Arm) -> str:
        return arm.spec or self.spec

    def select(self, names: Sequence[str], every: bool, replicate: int | None = None) -> tuple[Cell, ...]:
        """Cells named by profile/variant or cell name (or all), optionally one replicate only."""
        if not names and not every:
            raise UsageError("name one or more profiles (or cells), or pass --all")
        if replicate is not None and not 1 <= replicate <= self.replicates:
            raise UsageError(f"--replicate {replicate}: the experiment has replicates 1..{self.replicates}")
        cells = self.cells()
        if not every:
            by_name = {c.name: c for c in cells}
            arms = {self.arm(n).name for n in names if n not in by_name}
            cells = tuple(c for c in cells if c.name in names or c.arm.name in arms)
        return tuple(c for c in cells if replicate is None or c.replicate == replicate)


def env_for_overrides(overrides: Mapping[str, SettingValue]) -> dict[str, str]:
    """Setting overrides as the ``RALPH_<KEY>`` environment variables the settings loader reads."""
    return {f"RALPH_{key.upper()}": _env_text(value) for key, value in overrides.items()}


def _env_text(value: SettingValue) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list | dict):
        return json.dumps(value)
    return str(value)
