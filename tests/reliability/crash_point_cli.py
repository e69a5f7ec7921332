"""`ralph construct` (as construct_cli.py) that kills itself with SIGKILL right after the first append to
plan.jsonl whose text contains ``RALPH_TEST_KILL_AFTER`` (a deterministic crash point between two writes,
which random timing only hits by luck)."""

from __future__ import annotations

import os
import signal
import sys
from collections.abc import Sequence

from tests.reliability.construct_cli import app

from ralph.cli.runner import run_app
from ralph.tix.journal import Journal

_append = Journal.append


def _append_then_die(self: Journal, lines: Sequence[str]) -> None:
    _append(self, lines)
    if os.environ["RALPH_TEST_KILL_AFTER"] in "".join(lines):
        os.kill(os.getpid(), signal.SIGKILL)


if __name__ == "__main__":
    Journal.append = _append_then_die  # type: ignore[method-assign]
    sys.exit(run_app(app, prog_name="ralph"))
