"""Build, test and custom gates: a shell command in the cell's worktree, with a timeout and a scrubbed
environment, through ``proc`` (the whole process group is killed on timeout)."""

from __future__ import annotations

from pathlib import Path

from ralph.bench.analysis import GateOutcome
from ralph.bench.experiment import Gate
from ralph.proc import run_command, scrubbed_env

__all__ = ["run_gate"]

OUTPUT_CAP = 2_000_000


def run_gate(gate: Gate, cwd: Path) -> tuple[GateOutcome, str]:
    """Run ``gate.command`` with ``sh -c``; the outcome and the combined output (stderr after stdout)."""
    done = run_command(
        ["/bin/sh", "-c", gate.command],
        cwd=cwd,
        timeout_s=gate.timeout_s,
        env=scrubbed_env(),
        cap_bytes=OUTPUT_CAP,
    )
    output = done.stdout + (f"\n--- stderr ---\n{done.stderr}" if done.stderr else "")
    if done.timed_out:
        output += f"\n--- timed out after {gate.timeout_s:g} s ---\n"
        return GateOutcome(gate.label, None, timed_out=True), output
    return GateOutcome(gate.label, done.returncode), output
