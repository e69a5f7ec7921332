"""The bench's reads of a log dir (through ``ralph.ledger``, so earlier-ralph lines are upgraded) and
verbatim copies of one cell's ledger lines."""

from __future__ import annotations

import json
from collections.abc import Collection, Iterator
from pathlib import Path

from ralph.bench.facts import RunFacts, run_facts
from ralph.ledger.reader import final_run_lines

__all__ = ["LEDGER_FILES", "copy_run_lines", "read_run_facts"]

LEDGER_FILES = ("runs.jsonl", "iterations.jsonl", "calls.jsonl")


def read_run_facts(log_dir: Path, warnings: list[str] | None = None) -> list[RunFacts]:
    """The final record of every run in ``log_dir`` (an end record beats a start record)."""
    return [run_facts(line) for line in final_run_lines(log_dir, warnings)]


def copy_run_lines(log_dir: Path, run_ids: Collection[str], dest: Path) -> dict[str, int]:
    """Copy the ledger lines of ``run_ids`` verbatim into ``dest``; returns lines copied per file."""
    dest.mkdir(parents=True, exist_ok=True)
    wanted = {f'"{run_id}"' for run_id in run_ids}
    counts: dict[str, int] = {}
    for name in LEDGER_FILES:
        count = 0
        with (dest / name).open("w", encoding="utf-8") as out:
            for line in _lines(log_dir / name):
                if any(token in line for token in wanted) and _run_id(line) in run_ids:
                    out.write(line if line.endswith("\n") else line + "\n")
                    count += 1
        counts[name] = count
    return counts


def _lines(path: Path) -> Iterator[str]:
    try:
        with path.open(encoding="utf-8", errors="replace") as handle:
            yield from handle
    except FileNotFoundError:
        return


def _run_id(line: str) -> str | None:
    try:
        obj = json.loads(line)
    except ValueError:
        return None
    value = obj.get("run_id") if isinstance(obj, dict) else None
    return value if isinstance(value, str) else None
