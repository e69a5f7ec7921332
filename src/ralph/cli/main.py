"""The `ralph` command: wires the command modules; each registers its own commands."""

from __future__ import annotations

import sys

import typer

from ralph import __version__
from ralph.cli.runner import run_app

__all__ = ["app", "main"]

app = typer.Typer(
    name="ralph",
    help="Run coding agents unattended: plan a spec into tickets, loop build -> verify under guardrails, "
    "record every call in a ledger, and bench model profiles against each other.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
)


def _version(value: bool) -> None:
    if value:
        print(f"ralph {__version__}")
        raise typer.Exit(0)


@app.callback()
def _root(
    version: bool = typer.Option(False, "--version", callback=_version, is_eager=True, help="Print version."),
) -> None:
    """Ralph: unattended coding-agent loops you can trust in the morning."""


def _register_all() -> None:
    """Each command module exposes ``register(app)`` and imports its libraries inside its commands, so
    ``ralph --help`` or ``ralph status`` load only what they use."""
    from ralph.cli import construct_cmds, ledger_cmds, scenario_cmds, settings_cmds, watch_cmds

    for module in (settings_cmds, construct_cmds, scenario_cmds, ledger_cmds, watch_cmds):
        module.register(app)


@app.command(
    "bench",
    context_settings={"allow_extra_args": True, "ignore_unknown_options": True},
    add_help_option=False,
)
def _bench(ctx: typer.Context) -> None:
    """Experiments: one spec and the same limits for several profiles, each in its own worktree."""
    from ralph.cli.bench import bench_app  # its libraries (analysis, Rich) load only for `ralph bench`

    command = typer.main.get_command(bench_app)
    command.main(args=ctx.args, prog_name="ralph bench", standalone_mode=True)


_register_all()


def main() -> None:
    sys.exit(run_app(app, prog_name="ralph"))
