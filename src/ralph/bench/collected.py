"""The files ``collect`` leaves in ``results/<cell>/``, in the earlier layout, and reading them back.

``build.log``/``build-exit.txt``, ``test.log``/``test-exit.txt``,
``gate-<label>.log``/``gate-<label>-exit.txt`` (an exit file holds the code, plus ``timeout`` when the
command was cut), ``git-log.txt``,
``git-diffstat.txt`` and ``git-shortstat.txt`` for BASE_REF..HEAD.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from pathlib import Path

from ralph.bench.analysis import Correctness, GateOutcome

__all__ = ["exit_file", "log_file", "read_correctness", "read_gate", "write_gate"]

_SHORTSTAT = re.compile(r"(\d+) (insertion|deletion)")


def log_file(label: str, kind: str) -> str:
    """``build.log`` / ``test.log`` for the fixed checks, ``gate-<label>.log`` for custom gates."""
    return f"{label}.log" if kind == label else f"gate-{label}.log"


def exit_file(label: str, kind: str) -> str:
    return f"{label}-exit.txt" if kind == label else f"gate-{label}-exit.txt"


def write_gate(folder: Path, kind: str, outcome: GateOutcome, output: str) -> GateOutcome:
    """Write a check's log and exit file; returns the outcome with its log path (relative to the cell)."""
    log = log_file(outcome.label, kind)
    (folder / log).write_text(output, encoding="utf-8")
    code = "" if outcome.exit_code is None else str(outcome.exit_code)
    text = f"{code} timeout" if outcome.timed_out else code
    (folder / exit_file(outcome.label, kind)).write_text(text.strip() + "\n", encoding="utf-8")
    return GateOutcome(outcome.label, outcome.exit_code, outcome.timed_out, log)


def read_gate(folder: Path, label: str, kind: str) -> GateOutcome | None:
    """A check's outcome from its exit file; None when it was never collected."""
    path = folder / exit_file(label, kind)
    try:
        words = path.read_text(encoding="utf-8").split()
    except FileNotFoundError:
        return None
    code = int(words[0]) if words and words[0].lstrip("-").isdigit() else None
    timed_out = "timeout" in words
    return GateOutcome(label, code, timed_out, log_file(label, kind))


def _shortstat(folder: Path) -> tuple[int, int]:
    try:
        text = (folder / "git-shortstat.txt").read_text(encoding="utf-8")
    except FileNotFoundError:
        return 0, 0
    found = {kind: int(n) for n, kind in _SHORTSTAT.findall(text)}
    return found.get("insertion", 0), found.get("deletion", 0)


def _commits(folder: Path) -> int:
    try:
        text = (folder / "git-log.txt").read_text(encoding="utf-8")
    except FileNotFoundError:
        return 0
    return sum(1 for line in text.splitlines() if line.strip())


def read_correctness(folder: Path, gate_labels: Sequence[str]) -> Correctness | None:
    """A cell's collected results, or None if ``collect`` has not run for it."""
    if not (folder / "git-log.txt").exists() and not (folder / "build-exit.txt").exists():
        return None
    insertions, deletions = _shortstat(folder)
    gates = tuple(g for label in gate_labels if (g := read_gate(folder, label, "gate")) is not None)
    return Correctness(
        build=read_gate(folder, "build", "build"),
        test=read_gate(folder, "test", "test"),
        gates=gates,
        commits=_commits(folder),
        insertions=insertions,
        deletions=deletions,
    )
