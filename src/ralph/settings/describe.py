"""What `ralph config` and `ralph profiles` show: values with their origin, the key reference, routes."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ralph.settings.layers import expected_type
from ralph.settings.load import load_settings
from ralph.settings.model import Settings
from ralph.stage import Stage

__all__ = ["ProfileRoutes", "SettingRow", "describe_settings", "profile_routes", "reference_markdown"]


@dataclass(frozen=True)
class SettingRow:
    """One resolved key: its (redacted) value and where it came from."""

    key: str
    value: Any
    source: str


@dataclass(frozen=True)
class ProfileRoutes:
    """A profile's stage routing (backend, model, agent, local) per routed stage."""

    name: str
    routes: dict[str, dict[str, Any]]

    @property
    def local_stages(self) -> list[str]:
        return [stage for stage, route in self.routes.items() if route["is_local"]]

    def to_json(self) -> dict[str, Any]:
        return {"name": self.name, "routes": self.routes, "local_stages": self.local_stages}


def describe_settings(settings: Settings) -> list[SettingRow]:
    """Every key with its redacted value and source, in field order."""
    snapshot = settings.snapshot()
    return [SettingRow(key, snapshot[key], settings.source_of(key)) for key in Settings.model_fields]


def _default_text(key: str) -> str:
    if key == "log_dir":
        return "`$XDG_STATE_HOME/ralph/logs`"
    info = Settings.model_fields[key]
    value = info.get_default(call_default_factory=True)
    if hasattr(value, "model_dump"):
        value = value.model_dump()
    text = json.dumps(value, separators=(", ", ": "), default=str)
    return f"`{text}`"


def reference_markdown() -> str:
    """A Markdown table of every key: type, default and meaning, generated from the Settings model."""
    lines = ["| Key | Type | Default | Meaning |", "| --- | --- | --- | --- |"]
    for key, info in Settings.model_fields.items():
        meaning = (info.description or "").replace("|", "\\|").replace("\n", " ")
        kind = expected_type(key).replace("|", "\\|")
        lines.append(f"| `{key}` | {kind} | {_default_text(key).replace('|', chr(92) + '|')} | {meaning} |")
    return "\n".join(lines) + "\n"


def _routes(settings: Settings) -> dict[str, dict[str, Any]]:
    out: dict[str, dict[str, Any]] = {}
    for stage in Stage.routed():
        route = settings.route(stage)
        out[stage.key] = {
            "backend": route.backend,
            "model": route.model,
            "agent": route.agent,
            "is_local": route.is_local,
        }
    return out


def profile_routes(
    repo: Path | None,
    *,
    only: str | None = None,
    env: Mapping[str, str] | None = None,
) -> list[ProfileRoutes]:
    """Routing of every profile (global and repo), or of ``only``; ConfigError for an unknown profile."""
    base = load_settings(repo, profile=only, env=env)
    names = [only] if only else sorted(base.profiles())
    if not names:
        return [ProfileRoutes(name=base.profile, routes=_routes(base))]
    result: list[ProfileRoutes] = []
    for name in names:
        settings = base if name == only else load_settings(repo, profile=name, env=env)
        result.append(ProfileRoutes(name=name, routes=_routes(settings)))
    return result
