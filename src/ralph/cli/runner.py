"""Run a Typer app so that every failure is one line on stderr and a meaningful exit code."""

from __future__ import annotations

import sys
from collections.abc import Sequence

import typer

from ralph.errors import RalphError

__all__ = ["run_app"]


def run_app(app: typer.Typer, argv: Sequence[str] | None = None, prog_name: str | None = None) -> int:
    """Invoke ``app`` in standalone mode (usage errors exit 2 with click's message) and translate
    RalphError into ``error: <message>`` plus its exit code."""
    try:
        app(args=list(argv) if argv is not None else None, prog_name=prog_name)
    except RalphError as err:
        print(f"error: {err}", file=sys.stderr)
        return err.exit_code
    except SystemExit as done:
        code = done.code
        if code is None:
            return 0
        if isinstance(code, int):
            return code
        print(code, file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("error: interrupted", file=sys.stderr)
        return 130
    return 0
