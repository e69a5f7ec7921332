"""Build the one ``Settings`` object from its layers.

defaults < global ``$XDG_CONFIG_HOME/ralph/config.toml`` (its ``[default]`` section overlays its top level)
< ``[profiles.NAME]`` (global table overlaid by the repo's) < repo ``ralph/config.toml`` top level
< environment ``RALPH_<KEY>`` < flags (``UNSET``/None values are skipped).
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Final

from ralph.errors import ConfigError
from ralph.settings.layers import MERGED_KEYS, Layer, check_layer, env_values
from ralph.settings.model import Settings

__all__ = ["UNSET", "flag_overrides", "global_config_path", "load_settings", "repo_config_path"]


class _Unset:
    """Type of ``UNSET``: a flag the user did not give."""

    def __repr__(self) -> str:
        return "UNSET"

    def __bool__(self) -> bool:
        return False


UNSET: Final = _Unset()
"""Marks a flag the user did not give; ``load_settings`` skips it so it never hides a file value."""

_RESERVED = ("profiles", "default")


def global_config_path(environ: Mapping[str, str]) -> Path:
    """``$XDG_CONFIG_HOME/ralph/config.toml``, else ``~/.config/ralph/config.toml``."""
    base = environ.get("XDG_CONFIG_HOME") or str(Path(_home(environ)) / ".config")
    return Path(base) / "ralph" / "config.toml"


def repo_config_path(repo: Path, ralph_dir: str = "ralph") -> Path:
    """The repo's config file."""
    return repo / ralph_dir / "config.toml"


def _home(environ: Mapping[str, str]) -> str:
    return environ.get("HOME") or str(Path.home())


def _default_log_dir(environ: Mapping[str, str]) -> Path:
    base = environ.get("XDG_STATE_HOME") or str(Path(_home(environ)) / ".local" / "state")
    return Path(base) / "ralph" / "logs"


def _read_toml(path: Path) -> dict[str, Any]:
    try:
        with path.open("rb") as handle:
            return tomllib.load(handle)
    except FileNotFoundError:
        return {}
    except tomllib.TOMLDecodeError as err:
        raise ConfigError(f"{path}: invalid TOML: {err}") from None
    except OSError as err:
        raise ConfigError(f"{path}: cannot read: {err.strerror}") from None


def _table(value: Any, where: str, key: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise ConfigError(f"{where}: key '{key}': expected a table, got {type(value).__name__}")
    return value


def _top_level(doc: Mapping[str, Any], where: str) -> dict[str, Any]:
    """Top-level keys, with a legacy ``[default]`` section overlaid; reserved sections removed."""
    top = {key: value for key, value in doc.items() if key not in _RESERVED}
    top.update(_table(doc.get("default", {}), where, "default"))
    return top


def _profile_tables(doc: Mapping[str, Any], where: str) -> dict[str, dict[str, Any]]:
    profiles = _table(doc.get("profiles", {}), where, "profiles")
    return {name: _table(body, where, f"profiles.{name}") for name, body in profiles.items()}


def _merge(into: dict[str, Any], layer: Layer, sources: dict[str, str]) -> None:
    for key, value in layer.values.items():
        if key in MERGED_KEYS and isinstance(into.get(key), dict):
            into[key] = _merge_table(key, into[key], value)
        else:
            into[key] = value
        sources[key] = layer.source


def _merge_table(key: str, old: dict[str, Any], new: dict[str, Any]) -> dict[str, Any]:
    merged = dict(old)
    for name, entry in new.items():
        if key == "sim_models" and isinstance(merged.get(name), dict):
            merged[name] = {**merged[name], **entry}
        else:
            merged[name] = entry
    return merged


def _expand_home(values: dict[str, Any], environ: Mapping[str, str]) -> None:
    path = values.get("log_dir")
    if isinstance(path, Path) and str(path).startswith("~"):
        values["log_dir"] = Path(_home(environ)) / str(path)[1:].lstrip("/")


def flag_overrides(flags: Mapping[str, Any]) -> dict[str, Any]:
    """CLI flag names -> settings keys (``max_wall_time`` s, ``stage_timeout`` s -> ms, ``no_commit``)."""
    out: dict[str, Any] = {}
    for name, value in flags.items():
        if value is UNSET or value is None:
            continue
        if name == "max_wall_time":
            out["max_wall_time_s"] = value
        elif name == "stage_timeout":
            out["stage_timeout_ms"] = int(float(value) * 1000)
        elif name == "no_commit":
            if value:
                out["commit"] = False
        else:
            out[name] = value
    return out


def load_settings(
    repo: Path | None,
    *,
    profile: str | None = None,
    overrides: Mapping[str, Any] | None = None,
    env: Mapping[str, str] | None = None,
) -> Settings:
    """Resolve settings for ``repo`` (None: no repo layer); ConfigError names file, key and expected type."""
    environ: Mapping[str, str] = os.environ if env is None else env
    global_path = global_config_path(environ)
    global_doc = _read_toml(global_path)
    global_layer = check_layer(
        _top_level(global_doc, str(global_path)),
        source=f"global:{global_path}",
        where=str(global_path),
        strict=True,
    )
    env_layers = _env_layers(environ)
    repo_path, repo_doc = _repo_doc(repo, [global_layer, *env_layers])
    tables = _profile_tables(global_doc, str(global_path))
    for name, body in _profile_tables(repo_doc, str(repo_path)).items():
        tables[name] = {**tables.get(name, {}), **body}
    chosen = profile or environ.get("RALPH_PROFILE") or None
    layers = [
        _default_layer(environ),
        global_layer,
        _profile_layer(chosen, tables),
        _repo_layer(repo_path, repo_doc),
        *env_layers,
        _flag_layer(overrides or {}),
    ]
    return _build(layers, tables, environ)


def _default_layer(environ: Mapping[str, str]) -> Layer:
    """Defaults that depend on the environment, and the table defaults other layers merge into."""
    tables = {key: Settings.model_fields[key].get_default(call_default_factory=True) for key in MERGED_KEYS}
    return Layer("default", {"log_dir": _default_log_dir(environ), **tables})


def _env_layers(environ: Mapping[str, str]) -> list[Layer]:
    return [
        check_layer({key: value}, source=f"env:{name}", where=f"environment {name}", strict=False)
        for key, (name, value) in env_values(environ).items()
    ]


def _repo_doc(repo: Path | None, below: list[Layer]) -> tuple[Path | None, dict[str, Any]]:
    if repo is None:
        return None, {}
    ralph_dir = "ralph"
    for layer in below:
        ralph_dir = layer.values.get("ralph_dir", ralph_dir)
    path = repo_config_path(repo, ralph_dir)
    return path, _read_toml(path)


def _repo_layer(path: Path | None, doc: Mapping[str, Any]) -> Layer:
    if path is None:
        return Layer("repo")
    return check_layer(_top_level(doc, str(path)), source=f"repo:{path}", where=str(path), strict=True)


def _profile_layer(name: str | None, tables: Mapping[str, dict[str, Any]]) -> Layer:
    if name is None or (name == "default" and name not in tables):
        return Layer("profile")
    if name not in tables:
        known = ", ".join(sorted(tables)) or "none"
        raise ConfigError(f"unknown profile '{name}' (known: {known})")
    body = {key: value for key, value in tables[name].items() if key != "profile"}
    layer = check_layer(body, source=f"profile:{name}", where=f"profile '{name}'", strict=True)
    return Layer(layer.source, {**layer.values, "profile": name})


def _flag_layer(overrides: Mapping[str, Any]) -> Layer:
    given = {key: value for key, value in overrides.items() if value is not UNSET and value is not None}
    return check_layer(given, source="flag", where="flag", strict=False)


def _build(layers: list[Layer], tables: dict[str, dict[str, Any]], environ: Mapping[str, str]) -> Settings:
    values: dict[str, Any] = {}
    sources: dict[str, str] = {}
    for layer in layers:
        _merge(values, layer, sources)
    _expand_home(values, environ)
    settings = Settings.model_validate(values)
    settings._sources.update({key: src for key, src in sources.items() if src != "default"})
    settings._profiles.update({name: dict(body) for name, body in tables.items()})
    return settings
