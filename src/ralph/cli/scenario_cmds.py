"""`ralph scenario list|create`: the bundled simulated targets, and a fresh repo holding one of them."""

from __future__ import annotations

import time
from pathlib import Path

import typer

__all__ = ["register"]

scenario_app = typer.Typer(
    name="scenario",
    help="Bundled scenarios: small real projects with a spec and known solutions, worked by the sim backend.",
    no_args_is_help=True,
    add_completion=False,
    rich_markup_mode=None,
)


@scenario_app.command("list")
def list_cmd() -> None:
    """List the bundled scenarios."""
    from ralph.scenarios import list_scenarios

    for scenario in list_scenarios():
        subtasks = sum(len(task.subtasks) for task in scenario.tasks)
        counts = f"{len(scenario.tasks)} tasks, {subtasks} subtasks"
        print(f"{scenario.name}  (specs/{scenario.spec}; {counts}; for the simulated backend)")
        print(f"    {scenario.title}")


@scenario_app.command("create")
def create_cmd(
    name: str = typer.Argument(..., help="Scenario name (see `ralph scenario list`)."),
    dest: Path = typer.Argument(..., help="New or empty directory for the repository."),
) -> None:
    """Create a git repo holding scenario NAME at DEST, on the Ralph-created branch ralph/work."""
    from ralph.scenarios import create_scenario

    started = time.monotonic()
    created = create_scenario(name, dest)
    took = time.monotonic() - started
    print(f"created scenario {name} in {created.repo} ({took:.1f}s), branch {created.branch}")
    print("every model in its ralph/config.toml is simulated (backend = sim); profiles:")
    print("  hybrid, opus, sonnet, opus-sonnet, sonnet-hybrid, devstral")
    print(f"next: cd {created.repo} && RALPH_PROFILE=hybrid ralph plan {created.spec} && ralph construct")


def register(app: typer.Typer) -> None:
    """Add the `scenario` group to the ralph app."""
    app.add_typer(scenario_app, name="scenario")
