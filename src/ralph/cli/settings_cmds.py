"""`ralph config` and `ralph profiles`: resolved settings with their origins, the key reference, routing."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import typer

from ralph.errors import UsageError

__all__ = ["register"]

_PROFILE = typer.Option(None, "--profile", "-p", help="Profile to apply (default: $RALPH_PROFILE).")
_JSON = typer.Option(False, "--json", help="Print JSON instead of a table.")


def _repo() -> Path | None:
    """The git work tree around the current directory, or None (then there is no repo layer)."""
    from ralph.gitops import repo_root

    try:
        return repo_root(Path.cwd())
    except UsageError:
        return None


def _cell(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value, separators=(",", ":"))


def config_cmd(
    profile: str | None = _PROFILE,
    as_json: bool = _JSON,
    reference: bool = typer.Option(False, "--reference", help="Print the Markdown table of every key."),
) -> None:
    """Show the resolved settings and where each value came from."""
    from rich.console import Console
    from rich.table import Table

    from ralph.settings import load_settings
    from ralph.settings.describe import describe_settings, reference_markdown

    if reference:
        print(reference_markdown(), end="")
        return
    rows = describe_settings(load_settings(_repo(), profile=profile))
    if as_json:
        data = {row.key: {"value": row.value, "source": row.source} for row in rows}
        print(json.dumps(data, indent=2))
        return
    table = Table("Key", "Value", "Source", title="ralph config")
    for row in rows:
        table.add_row(row.key, _cell(row.value), row.source)
    Console().print(table)


def profiles_cmd(profile: str | None = _PROFILE, as_json: bool = _JSON) -> None:
    """List profiles with their stage routing and which stages run locally."""
    from rich.console import Console
    from rich.table import Table

    from ralph.settings.describe import profile_routes

    found = profile_routes(_repo(), only=profile)
    if as_json:
        print(json.dumps([item.to_json() for item in found], indent=2))
        return
    console = Console()
    for item in found:
        table = Table("Stage", "Backend", "Model", "Agent", "Where", title=f"profile {item.name}")
        for stage, route in item.routes.items():
            where = "local" if route["is_local"] else "remote"
            table.add_row(
                stage, route["backend"], route["model"] or "(agent default)", route["agent"] or "", where
            )
        console.print(table)


def register(app: typer.Typer) -> None:
    """Add `config` and `profiles` to the ralph app."""
    app.command("config")(config_cmd)
    app.command("profiles")(profiles_cmd)
