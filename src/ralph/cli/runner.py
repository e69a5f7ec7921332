"""Run a Typer app so that every failure is one line on stderr and a meaningful exit code."""

from __future__ import annotations

import sys
from collections.abc import Sequence

import click
import typer

from ralph.errors import RalphError

__all__ = ["run_app"]


def run_app(app: typer.Typer, argv: Sequence[str] | None = None, prog_name: str | None = None) -> int:
    """Invoke ``app``; translate RalphError (and click usage errors) into ``error: ...`` + exit code."""
    command = typer.main.get_command(app)
    try:
        result = command.main(args=list(argv) if argv is not None else None, prog_name=prog_name,
                              standalone_mode=False)
    except RalphError as err:
        print(f"error: {err}", file=sys.stderr)
        return err.exit_code
    except click.exceptions.Exit as done:
        return int(done.exit_code or 0)
    except click.exceptions.Abort:
        print("error: interrupted", file=sys.stderr)
        return 130
    except click.ClickException as err:
        err.show()
        return err.exit_code
    except KeyboardInterrupt:
        print("error: interrupted", file=sys.stderr)
        return 130
    return result if isinstance(result, int) else 0
