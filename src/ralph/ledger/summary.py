"""Run rows for `ralph log` and the per-spec comparison of `ralph compare`, read from the ledger."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from ralph.ledger.reader import final_run_lines, iter_iterations

__all__ = ["RunRow", "compare_runs", "list_runs"]


@dataclass(frozen=True)
class RunRow:
    """One run as the listings show it; ``exit_reason`` None means no end record (running or killed)."""

    run_id: str
    spec: str
    profile: str
    branch: str
    started_at: str
    duration_s: float
    exit_reason: str | None
    iterations: int
    tasks_done: int
    tasks_total: int
    cost: float
    tokens_input: int
    tokens_cached: int
    tokens_output: int
    api_remote: int
    api_local: int
    experiment: str = ""
    replicate: int = 0

    @property
    def tokens_total(self) -> int:
        return self.tokens_input + self.tokens_cached + self.tokens_output

    def to_json(self) -> dict[str, Any]:
        return {**asdict(self), "tokens_total": self.tokens_total}


def _number(value: Any) -> float:
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else 0.0


def _count(table: Any, key: str) -> int:
    return int(_number(table.get(key))) if isinstance(table, Mapping) else 0


def _row(data: Mapping[str, Any], live: Mapping[str, Any] | None = None) -> RunRow:
    source = {**data, **live} if live else data
    tokens, tasks, api = source.get("tokens"), source.get("tasks"), source.get("api_calls")
    return RunRow(
        run_id=str(data.get("run_id", "")),
        spec=str(data.get("spec") or "unknown"),
        profile=str(data.get("profile") or "?"),
        branch=str(data.get("branch") or ""),
        started_at=str(data.get("started_at") or ""),
        duration_s=_number(source.get("duration_s")),
        exit_reason=data.get("exit_reason") if isinstance(data.get("exit_reason"), str) else None,
        iterations=int(_number(source.get("iterations"))),
        tasks_done=_count(tasks, "completed"),
        tasks_total=_count(tasks, "total"),
        cost=_number(source.get("cost")),
        tokens_input=_count(tokens, "input"),
        tokens_cached=_count(tokens, "cached"),
        tokens_output=_count(tokens, "output"),
        api_remote=_count(api, "remote"),
        api_local=_count(api, "local"),
        experiment=str(data.get("experiment") or ""),
        replicate=int(_number(data.get("replicate"))),
    )


def _live_totals(log_dir: Path, run_ids: set[str]) -> dict[str, dict[str, Any]]:
    """Totals of runs without an end record, added up from their iteration lines."""
    totals: dict[str, dict[str, Any]] = {}
    for line in iter_iterations(log_dir, run_ids):
        entry = totals.setdefault(
            str(line.get("run_id")),
            {"iterations": 0, "cost": 0.0, "tokens": {"input": 0, "cached": 0, "output": 0}, "api_calls": {}},
        )
        entry["iterations"] = max(entry["iterations"], int(_number(line.get("iteration"))))
        entry["cost"] += _number(line.get("cost"))
        for key in ("input", "cached", "output"):
            entry["tokens"][key] += _count(line.get("tokens"), key)
        where = "local" if line.get("is_local") else "remote"
        calls = line.get("api_calls", 1)
        entry["api_calls"][where] = entry["api_calls"].get(where, 0) + int(_number(calls))
    return totals


def _filtered(log_dir: Path, spec: str | None, profile: str | None, warnings: list[str] | None) -> list[Any]:
    lines = final_run_lines(log_dir, warnings)
    return [
        line
        for line in lines
        if (spec is None or line.get("spec") == spec) and (profile is None or line.get("profile") == profile)
    ]


def list_runs(
    log_dir: Path,
    *,
    spec: str | None = None,
    profile: str | None = None,
    limit: int | None = None,
    warnings: list[str] | None = None,
) -> list[RunRow]:
    """Runs newest first (by ledger order), filtered; unfinished runs get totals from their iterations."""
    lines = list(reversed(_filtered(log_dir, spec, profile, warnings)))
    if limit is not None:
        lines = lines[: max(limit, 0)]
    open_ids = {str(line.get("run_id")) for line in lines if line.get("exit_reason") is None}
    live = _live_totals(log_dir, open_ids) if open_ids else {}
    return [_row(line, live.get(str(line.get("run_id")))) for line in lines]


def compare_runs(
    log_dir: Path,
    *,
    spec: str | None = None,
    profile: str | None = None,
    warnings: list[str] | None = None,
) -> dict[str, list[RunRow]]:
    """Runs grouped by spec (specs sorted, runs in ledger order), like the earlier `ralph compare`."""
    groups: dict[str, list[RunRow]] = {}
    for line in _filtered(log_dir, spec, profile, warnings):
        row = _row(line)
        groups.setdefault(row.spec, []).append(row)
    return dict(sorted(groups.items()))
