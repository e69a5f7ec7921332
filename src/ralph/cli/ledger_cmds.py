"""`ralph log` (runs in the ledger) and `ralph compare` (runs side by side, grouped by spec)."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING

import typer

from ralph.errors import UsageError

if TYPE_CHECKING:
    from rich.console import Console
    from rich.table import Table

    from ralph.ledger.summary import RunRow

__all__ = ["register"]

_LOG_DIR = typer.Option(None, "--log-dir", help="Ledger directory (default: settings log_dir).")
_PROFILE = typer.Option(None, "--profile", help="Profile whose settings give the default log dir.")
_JSON = typer.Option(False, "--json", help="Print JSON instead of a table.")
_EXIT_STYLES = {"complete": "green", "no_work": "green", "interrupted": "yellow", "error": "red"}
_LIMIT_REASONS = {"max_iterations", "wall_time", "cost_limit", "token_limit", "api_call_limit"}


def _log_dir(log_dir: Path | None, profile: str | None) -> Path:
    if log_dir is not None:
        return log_dir
    from ralph.gitops import repo_root
    from ralph.settings import load_settings

    try:
        repo: Path | None = repo_root(Path.cwd())
    except UsageError:
        repo = None
    return load_settings(repo, profile=profile).log_dir


def _duration(seconds: float) -> str:
    if seconds < 60:
        return f"{seconds:.0f}s"
    minutes, secs = divmod(int(seconds), 60)
    if minutes < 60:
        return f"{minutes}m{secs:02d}s"
    return f"{minutes // 60}h{minutes % 60:02d}m"


def _tokens(count: int) -> str:
    if count >= 1_000_000:
        return f"{count / 1_000_000:.1f}M"
    return f"{count / 1_000:.0f}K" if count >= 1_000 else str(count)


def _exit(reason: str | None) -> str:
    if reason is None:
        return "[yellow](no end record)[/]"
    style = _EXIT_STYLES.get(reason, "yellow" if reason in _LIMIT_REASONS else "red")
    return f"[{style}]{reason}[/]"


def _console() -> Console:
    """A console that does not squeeze tables into 80 columns when the output is piped."""
    from rich.console import Console

    return Console() if sys.stdout.isatty() else Console(width=200)


def _warn(warnings: list[str]) -> None:
    for warning in warnings:
        print(f"warning: {warning}", file=sys.stderr)


def log_cmd(
    spec: str | None = typer.Option(None, "--spec", help="Only runs of this spec."),
    profile: str | None = typer.Option(None, "--profile", help="Only runs of this profile."),
    limit: int = typer.Option(20, "--limit", min=0, help="Newest N runs (0 = all)."),
    as_json: bool = _JSON,
    log_dir: Path | None = _LOG_DIR,
) -> None:
    """List runs from the ledger, newest first."""
    from rich.table import Table

    from ralph.ledger.summary import list_runs

    warnings: list[str] = []
    where = _log_dir(log_dir, profile)
    rows = list_runs(where, spec=spec, profile=profile, limit=limit or None, warnings=warnings)
    _warn(warnings)
    if as_json:
        print(json.dumps([row.to_json() for row in rows], indent=2))
        return
    table = Table(
        "Run", "Spec", "Profile", "Started", "Time", "Exit", "Iter", "Done", "Cost", "API", title=str(where)
    )
    for row in rows:
        table.add_row(
            row.run_id,
            row.spec,
            row.profile,
            row.started_at[:16].replace("T", " "),
            _duration(row.duration_s),
            _exit(row.exit_reason),
            str(row.iterations),
            f"{row.tasks_done}/{row.tasks_total}",
            f"${row.cost:.4f}",
            f"{row.api_remote}r/{row.api_local}l",
        )
    _console().print(table if rows else f"no runs in {where}")


def _compare_table(spec: str, rows: list[RunRow]) -> Table:
    from rich.table import Table

    table = Table(
        "Profile", "Branch", "Iter", "Time", "Cost", "Tokens", "API", "Done", "Exit", title=f"Spec: {spec}"
    )
    for row in rows:
        table.add_row(
            row.profile,
            row.branch,
            str(row.iterations),
            _duration(row.duration_s),
            f"${row.cost:.4f}",
            _tokens(row.tokens_total),
            f"{row.api_remote}r/{row.api_local}l",
            f"{row.tasks_done}/{row.tasks_total}",
            _exit(row.exit_reason),
        )
    return table


def compare_cmd(
    spec: str | None = typer.Option(None, "--spec", help="Only runs of this spec."),
    profile_filter: str | None = typer.Option(None, "--profile-filter", help="Only runs of this profile."),
    as_json: bool = _JSON,
    log_dir: Path | None = _LOG_DIR,
    profile: str | None = _PROFILE,
) -> None:
    """Compare runs side by side, grouped by spec."""
    from ralph.ledger.summary import compare_runs

    warnings: list[str] = []
    where = _log_dir(log_dir, profile)
    groups = compare_runs(where, spec=spec, profile=profile_filter, warnings=warnings)
    _warn(warnings)
    if as_json:
        print(json.dumps({name: [row.to_json() for row in rows] for name, rows in groups.items()}, indent=2))
        return
    console = _console()
    if not groups:
        console.print(f"no matching runs in {where}")
    for name, rows in groups.items():
        console.print(_compare_table(name, rows))


def register(app: typer.Typer) -> None:
    """Add `log` and `compare` to the ralph app."""
    app.command("log")(log_cmd)
    app.command("compare")(compare_cmd)
