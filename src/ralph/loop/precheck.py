"""Acceptance precheck: each done task's runnable ``check`` runs sandboxed (timeout, worktree cwd, API keys
scrubbed, no network where possible); results go into the VERIFY prompt."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from ralph.loop.run import Run
from ralph.sandbox import run_check
from ralph.tix import Ticket

__all__ = ["CheckRun", "run_prechecks"]

_OUTPUT_TAIL = 2000


@dataclass(frozen=True)
class CheckRun:
    task_id: str
    command: str
    passed: bool
    exit_code: int | None
    timed_out: bool
    output: str

    def as_prompt(self) -> dict[str, Any]:
        return {
            "task_id": self.task_id,
            "command": self.command,
            "passed": self.passed,
            "exit_code": self.exit_code,
            "timed_out": self.timed_out,
            "output": self.output[-_OUTPUT_TAIL:],
        }


def run_prechecks(run: Run, tickets: Sequence[Ticket]) -> list[CheckRun]:
    """Run the checks of the tickets that have one; a check never accepts or rejects on its own here."""
    runs: list[CheckRun] = []
    for ticket in tickets:
        if not ticket.check.strip():
            continue
        result = run_check(
            ticket.check,
            cwd=run.repo,
            timeout_s=float(run.settings.check_timeout_s),
            mode=run.settings.sandbox,
        )
        runs.append(
            CheckRun(
                task_id=ticket.id,
                command=ticket.check,
                passed=bool(result.passed),
                exit_code=result.exit_code,
                timed_out=bool(result.timed_out),
                output=result.output_tail,
            )
        )
        run.sink.note(f"check {ticket.id}: {'passed' if result.passed else 'failed'} ({ticket.check[:80]})")
    return runs
