"""The real `ralph construct` command (same function, same runner and exit codes) without the other command
groups: `ralph` itself imports the bench report (matplotlib, ~2 s of CPU) at start, which would dominate a
test that restarts the loop fifty times."""

from __future__ import annotations

import sys

import typer

from ralph.cli import construct_cmds
from ralph.cli.runner import run_app

app = typer.Typer(add_completion=False, pretty_exceptions_enable=False, rich_markup_mode=None)


@app.callback()
def _root() -> None:
    """Keeps `construct` a subcommand, as in `ralph`."""


construct_cmds.register(app)

if __name__ == "__main__":
    sys.exit(run_app(app, prog_name="ralph"))
