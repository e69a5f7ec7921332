"""Arms from the experiment's tables: listed and inline profiles, per-profile overrides, variants, sweeps.

Override precedence for one arm, low to high: ``[settings]`` (every cell) < the inline profile's keys <
``[overrides.NAME]`` < the variant's own keys. ``changes`` keeps what the arm changed relative to its base.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ralph.bench.experiment import Arm, SettingValue, safe_name
from ralph.errors import UsageError

__all__ = ["ArmTables", "build_arms"]

_KEY = re.compile(r"^[a-z][a-z0-9_]*$")
_VARIANT_META = frozenset({"profile", "spec", "description"})


@dataclass(frozen=True)
class ArmTables:
    """The raw tables that define arms, as read from one file."""

    file: Path
    profiles: tuple[str, ...] = ()
    settings: Mapping[str, Any] = field(default_factory=dict)
    inline: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    overrides: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    variants: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    sweeps: tuple[Mapping[str, Any], ...] = ()


def build_arms(tables: ArmTables) -> tuple[Arm, ...]:
    """Every arm in file order: profiles first, then variants, then sweep points; names must be unique."""
    _check_known(tables)
    arms = [_profile_arm(tables, name) for name in tables.profiles]
    arms += [_variant_arm(tables, name, dict(raw)) for name, raw in tables.variants.items()]
    for index, sweep in enumerate(tables.sweeps):
        arms += _sweep_arms(tables, index, sweep)
    if not arms:
        raise UsageError(f"{tables.file}: missing key 'profiles' (or [variants.NAME] / [[sweeps]])")
    seen: set[str] = set()
    for arm in arms:
        if arm.name in seen:
            raise UsageError(f"{tables.file}: profile or variant {arm.name!r} is defined twice")
        seen.add(arm.name)
    return tuple(arms)


def _check_known(tables: ArmTables) -> None:
    for name in tables.overrides:
        if name not in tables.profiles and name not in tables.inline:
            raise UsageError(f"{tables.file}: [overrides.{name}] names a profile that is not in 'profiles'")


def _settings(raw: Mapping[str, Any], where: str, file: Path) -> dict[str, SettingValue]:
    out: dict[str, SettingValue] = {}
    for key, value in raw.items():
        if not _KEY.match(key):
            raise UsageError(f"{file}: key '{where}.{key}': not a setting name")
        if isinstance(value, dict | list | str | int | float | bool):
            out[key] = value
        else:
            raise UsageError(f"{file}: key '{where}.{key}': unsupported value type {type(value).__name__}")
    return out


def _base_layers(tables: ArmTables, name: str) -> tuple[str | None, dict[str, SettingValue]]:
    """(--profile value, overrides) of a listed or inline profile, before any variant keys."""
    merged = _settings(tables.settings, "settings", tables.file)
    profile: str | None = name
    if name in tables.inline:
        inline = dict(tables.inline[name])
        extends = inline.pop("extends", None)
        if extends is not None and not isinstance(extends, str):
            raise UsageError(f"{tables.file}: key 'inline_profiles.{name}.extends': expected str")
        profile = extends
        merged.update(_settings(inline, f"inline_profiles.{name}", tables.file))
    merged.update(_settings(tables.overrides.get(name, {}), f"overrides.{name}", tables.file))
    return profile, merged


def _profile_arm(tables: ArmTables, name: str) -> Arm:
    safe_name(name, "profile")
    profile, merged = _base_layers(tables, name)
    changes = dict(tables.overrides.get(name, {}))
    if name in tables.inline:
        changes = {k: v for k, v in tables.inline[name].items() if k != "extends"} | changes
    return Arm(name=name, profile=profile, overrides=merged, changes=changes)


def _variant_arm(tables: ArmTables, name: str, raw: dict[str, Any]) -> Arm:
    safe_name(name, "variant")
    base = raw.get("profile")
    if not isinstance(base, str):
        raise UsageError(f"{tables.file}: missing key 'variants.{name}.profile' (the base profile)")
    spec, description = raw.get("spec"), raw.get("description", "")
    if (spec is not None and not isinstance(spec, str)) or not isinstance(description, str):
        raise UsageError(f"{tables.file}: key 'variants.{name}.spec/description': expected str")
    own = _settings({k: v for k, v in raw.items() if k not in _VARIANT_META}, f"variants.{name}", tables.file)
    profile, merged = _base_layers(tables, base)
    changes: dict[str, SettingValue] = dict(own) | ({"spec": spec} if spec else {})
    return Arm(
        name=name,
        profile=profile,
        overrides=merged | own,
        spec=spec,
        base=base,
        changes=changes,
        description=description,
    )


def _sweep_arms(tables: ArmTables, index: int, sweep: Mapping[str, Any]) -> list[Arm]:
    where = f"sweeps[{index}]"
    unknown = set(sweep) - {"profile", "key", "values", "name"}
    if unknown:
        raise UsageError(f"{tables.file}: key '{where}.{sorted(unknown)[0]}': unknown key")
    base, key, values = sweep.get("profile"), sweep.get("key"), sweep.get("values")
    if not isinstance(base, str) or not isinstance(key, str) or not isinstance(values, list) or not values:
        raise UsageError(f"{tables.file}: {where} needs profile (str), key (str) and values (non-empty list)")
    prefix = sweep.get("name", base)
    arms = []
    for value in values:
        label = re.sub(r"[^A-Za-z0-9._-]+", "-", str(value)).strip("-.") or "x"
        name = f"{prefix}-{key.replace('_', '-')}-{label}"
        arms.append(_variant_arm(tables, name, {"profile": base, key: value}))
    return arms
