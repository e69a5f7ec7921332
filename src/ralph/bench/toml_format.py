"""``experiment.toml`` -> Experiment. Unknown keys and wrong types are one-line errors naming file and key."""

from __future__ import annotations

import os
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any, TypeVar

from ralph.bench.arms import ArmTables, build_arms
from ralph.bench.experiment import Concurrency, Experiment, Gate, Limits, safe_name
from ralph.errors import UsageError

__all__ = ["expand_path", "load_toml"]

T = TypeVar("T")

_TOP = frozenset(
    {
        "description", "target_repo", "base_ref", "spec", "profiles", "replicates", "seed", "ralph_command",
        "limits", "paths", "checks", "gates", "concurrency", "settings", "inline_profiles", "overrides",
        "variants", "sweeps",
    }
)  # fmt: skip
_LIMITS = frozenset(
    {"max_iterations", "max_wall_time_s", "max_failures", "max_cost", "max_tokens", "max_api_calls",
     "stage_timeout_s"}
)  # fmt: skip
_PATHS = frozenset({"worktree_base", "log_dir", "results_dir"})
_CHECKS = frozenset({"build", "test", "test_timeout_s", "build_timeout_s"})
_GATE = frozenset({"label", "command", "timeout_s"})


class Fields:
    """Typed access to one TOML table; every error names the file and the dotted key."""

    def __init__(self, table: Mapping[str, Any], file: Path, prefix: str = "") -> None:
        self.table, self.file, self.prefix = table, file, prefix

    def fail(self, key: str, message: str) -> UsageError:
        return UsageError(f"{self.file}: key '{self.prefix}{key}': {message}")

    def only(self, allowed: frozenset[str]) -> None:
        for key in self.table:
            if key not in allowed:
                raise self.fail(key, f"unknown key (known: {', '.join(sorted(allowed))})")

    def _typed(self, key: str, kinds: tuple[type, ...]) -> Any:
        value = self.table.get(key)
        if value is None:
            return None
        if (isinstance(value, bool) and bool not in kinds) or not isinstance(value, kinds):
            names = " or ".join(k.__name__ for k in kinds)
            raise self.fail(key, f"expected {names}, got {type(value).__name__}")
        return value

    def text(self, key: str) -> str | None:
        value: str | None = self._typed(key, (str,))
        return value

    def integer(self, key: str) -> int | None:
        value: int | None = self._typed(key, (int,))
        return value

    def number(self, key: str) -> float | None:
        value: float | int | None = self._typed(key, (float, int))
        return None if value is None else float(value)

    def array(self, key: str) -> list[Any]:
        value: list[Any] | None = self._typed(key, (list,))
        return value or []

    def need(self, key: str) -> str:
        value = self.text(key)
        if value is None:
            raise UsageError(f"{self.file}: missing key '{self.prefix}{key}'")
        return value

    def sub(self, key: str) -> Fields:
        value: dict[str, Any] | None = self._typed(key, (dict,))
        return Fields(value or {}, self.file, f"{self.prefix}{key}.")


def expand_path(text: str, folder: Path) -> Path:
    """``~`` and ``$HOME``/``${HOME}`` expanded; relative paths are taken from the experiment folder."""
    home = os.environ.get("HOME", str(Path.home()))
    text = text.replace("${HOME}", home).replace("$HOME", home)
    path = Path(text).expanduser()
    return path if path.is_absolute() else folder / path


def load_toml(path: Path) -> Experiment:
    """Parse one experiment.toml (not yet checked against git or settings)."""
    try:
        doc = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as err:
        raise UsageError(f"{path}: invalid TOML: {err}") from None
    top = Fields(doc, path)
    top.only(_TOP)
    folder = path.parent
    target = expand_path(top.need("target_repo"), folder)
    replicates = _default(top.integer("replicates"), 1)
    if replicates < 1:
        raise top.fail("replicates", "must be at least 1")
    return Experiment(
        name=safe_name(folder.name, "experiment folder name"),
        folder=folder,
        source=path,
        target_repo=target,
        base_ref=top.need("base_ref"),
        spec=top.need("spec"),
        arms=build_arms(_arm_tables(top)),
        replicates=replicates,
        limits=_limits(top.sub("limits")),
        **_paths(top.sub("paths"), folder, target),
        build=_check(top.sub("checks"), "build", "make build", 600.0),
        test=_check(top.sub("checks"), "test", "make test", 300.0),
        gates=_gates(top),
        concurrency=_concurrency(top.sub("concurrency")),
        seed=_default(top.integer("seed"), 0),
        ralph_command=tuple(_strings(top, "ralph_command")),
        description=top.text("description") or "",
    )


def _default(value: T | None, default: T) -> T:
    return default if value is None else value


def _strings(fields: Fields, key: str) -> list[str]:
    value: Any = fields._typed(key, (list, str)) or []
    items = value.split() if isinstance(value, str) else value
    if not all(isinstance(item, str) for item in items):
        raise fields.fail(key, "expected a list of strings")
    return list(items)


def _arm_tables(top: Fields) -> ArmTables:
    def tables(key: str) -> dict[str, Mapping[str, Any]]:
        sub = top.sub(key)
        return {name: sub.sub(name).table for name in sub.table}

    sweeps = top.array("sweeps")
    if not all(isinstance(item, dict) for item in sweeps):
        raise top.fail("sweeps", "expected an array of tables ([[sweeps]])")
    return ArmTables(
        file=top.file,
        profiles=tuple(_strings(top, "profiles")),
        settings=top.sub("settings").table,
        inline=tables("inline_profiles"),
        overrides=tables("overrides"),
        variants=tables("variants"),
        sweeps=tuple(sweeps),
    )


def _limits(fields: Fields) -> Limits:
    fields.only(_LIMITS)
    base = Limits()
    return Limits(
        max_iterations=_default(fields.integer("max_iterations"), base.max_iterations),
        max_wall_time_s=_default(fields.integer("max_wall_time_s"), base.max_wall_time_s),
        max_failures=_default(fields.integer("max_failures"), base.max_failures),
        max_cost=fields.number("max_cost"),
        max_tokens=fields.integer("max_tokens"),
        max_api_calls=fields.integer("max_api_calls"),
        stage_timeout_s=fields.integer("stage_timeout_s"),
    )


def _paths(fields: Fields, folder: Path, target: Path) -> dict[str, Path]:
    fields.only(_PATHS)

    def path(key: str, default: Path) -> Path:
        text = fields.text(key)
        return expand_path(text, folder) if text else default

    return {
        "worktree_base": path("worktree_base", target.parent / f"{target.name}-experiments"),
        "log_dir": path("log_dir", folder / "logs"),
        "results_dir": path("results_dir", folder / "results"),
    }


def _check(checks: Fields, key: str, default: str, timeout_s: float) -> Gate | None:
    checks.only(_CHECKS)
    command = _default(checks.text(key), default)
    timeout = _default(checks.number(f"{key}_timeout_s"), timeout_s)
    return Gate(key, command, timeout) if command else None


def _gates(top: Fields) -> tuple[Gate, ...]:
    gates = []
    for index, raw in enumerate(top.array("gates")):
        if not isinstance(raw, dict):
            raise top.fail(f"gates[{index}]", "expected a table ([[gates]])")
        fields = Fields(raw, top.file, f"gates[{index}].")
        fields.only(_GATE)
        label = safe_name(fields.need("label"), "gate label")
        gates.append(Gate(label, fields.need("command"), _default(fields.number("timeout_s"), 600.0)))
    return tuple(gates)


def _concurrency(fields: Fields) -> Concurrency:
    fields.only(frozenset({"cloud", "local"}))
    cloud, local = _default(fields.integer("cloud"), 1), _default(fields.integer("local"), 1)
    if cloud < 1 or local < 1:
        raise fields.fail("cloud" if cloud < 1 else "local", "must be at least 1")
    return Concurrency(cloud=cloud, local=local)
