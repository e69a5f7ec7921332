"""`ralph watch`: a live view of a running `ralph construct` (or of a bench's cells), redrawn from files."""

from __future__ import annotations

from pathlib import Path

import typer

__all__ = ["register"]


def watch_cmd(
    repo: Path = typer.Option(Path("."), "--repo", help="Repository whose run to watch (default: cwd)."),
    log_dir: Path | None = typer.Option(None, "--log-dir", help="Ledger directory (default: the run's)."),
    experiment: Path | None = typer.Option(
        None, "--experiment", help="Watch a bench: an experiment folder or its results folder."
    ),
    once: bool = typer.Option(False, "--once", help="Print one frame and exit."),
    interval: float = typer.Option(0.5, "--interval", min=0.05, help="Seconds between redraws."),
) -> None:
    """Live view of a running `ralph construct`: stage, task, limits, cost, kills, agent activity; q quits."""
    from ralph.cli.watch_screen import bench_render, live, make_console, run_render

    if experiment is not None:
        render, close = bench_render(experiment, log_dir)
    else:
        render, close = run_render(repo, log_dir)
    console = make_console()
    try:
        if once:
            console.print(render(0))
        else:
            live(console, render, interval)
    except KeyboardInterrupt:
        pass
    finally:
        close()


def register(app: typer.Typer) -> None:
    """Add `watch` to the ralph app."""
    app.command("watch")(watch_cmd)
