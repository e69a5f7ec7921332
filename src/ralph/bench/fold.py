"""Fold a stream of stage executions into per-run activity, in one pass and bounded memory.

Lines of concurrent runs interleave in one ``iterations.jsonl``; the fold keeps one accumulator per run.
Timelines (tasks accepted over the run's wall time since its first stage when stages carry start times
``ts``, else over summed stage time, as for the earlier ralph's lines) are thinned to ``TIMELINE_POINTS``.

``fold_ledgers`` reads the ledger files itself: each current line is parsed by msgspec straight into the
few fields the fold needs (no dict, no record per line); any line that does not fit those types exactly
(the earlier ralph's, odd values, bad JSON) goes through the ledger reader's dict path and ``_clean``, so
both give the same numbers.
"""

from __future__ import annotations

from array import array
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import msgspec

from ralph.ledger.reader import decode_line, line_blocks, visibly_other
from ralph.ledger.records import SCHEMA_VERSION
from ralph.ledger.upgrade import LedgerFile

__all__ = ["TIMELINE_POINTS", "RunActivity", "StageSummary", "fold_iterations", "fold_ledgers"]

TIMELINE_POINTS = 256
_NOT_FAILED = frozenset({"success", "skip", ""})


@dataclass(frozen=True)
class StageSummary:
    """Totals of one stage over a run (or summed over several)."""

    stage: str
    count: int = 0
    cost: float = 0.0
    tokens: int = 0
    duration_s: float = 0.0
    ok: int = 0
    failed: int = 0
    killed: int = 0
    auto_accepted: int = 0
    validation_retries: int = 0

    def __add__(self, other: StageSummary) -> StageSummary:
        return StageSummary(
            self.stage,
            self.count + other.count,
            self.cost + other.cost,
            self.tokens + other.tokens,
            self.duration_s + other.duration_s,
            self.ok + other.ok,
            self.failed + other.failed,
            self.killed + other.killed,
            self.auto_accepted + other.auto_accepted,
            self.validation_retries + other.validation_retries,
        )


@dataclass(frozen=True)
class RunActivity:
    """What a run's iteration records add to its run record."""

    run_id: str
    stages: Mapping[str, StageSummary] = field(default_factory=dict)
    cloud_tokens: int = 0
    local_tokens: int = 0
    kill_reasons: Mapping[str, int] = field(default_factory=dict)
    timeline: tuple[tuple[float, int], ...] = ()
    elapsed_s: float = 0.0
    accepted: int = 0


class _StageAcc:
    __slots__ = ("auto", "cost", "count", "duration", "failed", "killed", "ok", "tokens", "vretry")

    def __init__(self) -> None:
        self.count = self.tokens = self.ok = self.failed = self.killed = self.auto = self.vretry = 0
        self.cost = self.duration = 0.0


_Values = tuple[str, int, float, float, str, float, int, str, bool, int, bool]


def _read(line: Mapping[str, Any]) -> _Values:
    """The fields the fold needs, read without conversions (the fast path; raises on an odd line)."""
    tokens = line["tokens"]
    reconcile = line.get("reconcile")
    kill = line.get("kill_reason") or ""
    return (
        line["stage"].upper(),
        tokens.get("input", 0) + tokens.get("cached", 0) + tokens.get("output", 0),
        line.get("cost", 0) + 0.0,
        line.get("duration_s", 0) + 0.0,
        line.get("outcome", ""),
        line.get("ts", 0) + 0.0,
        _whole(reconcile.get("accepted", 0)) if reconcile else 0,
        kill if type(kill) is str else "",
        bool(line.get("precheck_accepted")),
        line.get("validation_retries", 0) + 0,
        bool(line.get("is_local")),
    )


def _whole(value: Any) -> int:
    """An int as it is (a bool as 0 or 1); anything else raises, so that the line is cleaned."""
    if isinstance(value, int):
        return value + 0
    raise TypeError(f"not a whole number: {value!r}")


def _number(value: Any) -> int | float:
    return value if type(value) in (int, float) else 0


def _clean(line: Mapping[str, Any]) -> dict[str, Any]:
    """A copy of an odd line with wrong-typed values replaced by zero or empty (the slow path)."""
    tokens = line.get("tokens")
    tokens = tokens if isinstance(tokens, Mapping) else {}
    reconcile = line.get("reconcile")
    accepted = reconcile.get("accepted") if isinstance(reconcile, Mapping) else 0
    return {
        "stage": str(line.get("stage", "")),
        "tokens": {key: int(_number(tokens.get(key))) for key in ("input", "cached", "output")},
        "cost": _number(line.get("cost")),
        "duration_s": _number(line.get("duration_s")),
        "outcome": str(line.get("outcome", "")),
        "ts": _number(line.get("ts")),
        "reconcile": {"accepted": int(_number(accepted))},
        "kill_reason": line.get("kill_reason") if isinstance(line.get("kill_reason"), str) else "",
        "precheck_accepted": line.get("precheck_accepted") is True,
        "validation_retries": int(_number(line.get("validation_retries"))),
        "is_local": line.get("is_local") is True,
    }


class _RunAcc:
    __slots__ = ("accepted", "cloud", "elapsed", "kills", "local", "stages", "start", "times", "totals")

    def __init__(self) -> None:
        self.stages: dict[str, _StageAcc] = {}
        self.kills: dict[str, int] = {}
        self.cloud = self.local = self.accepted = 0
        self.elapsed = 0.0
        self.start: float | None = None
        self.times = array("d")
        self.totals = array("q")

    def add(self, line: Mapping[str, Any]) -> None:
        """Fold one iteration line (a dict as the ledger reader yields it); odd values count as zero."""
        try:
            values = _read(line)
        except (KeyError, TypeError, AttributeError, ValueError):
            values = _read(_clean(line))
        self.put(*values)

    def put(
        self,
        stage: str,
        used: int,
        cost: float,
        duration: float,
        outcome: str,
        ts: float,
        accepted: int,
        kill: str,
        auto: bool,
        vretry: int,
        local: bool,
    ) -> None:
        """Fold one stage execution's values (see ``_read``)."""
        acc = self.stages.get(stage) or self.stages.setdefault(stage, _StageAcc())
        acc.count += 1
        acc.cost += cost
        acc.tokens += used
        acc.duration += duration
        if outcome == "success":
            acc.ok += 1
        elif outcome not in _NOT_FAILED:
            acc.failed += 1
        if auto:
            acc.auto += 1
        if vretry:
            acc.vretry += vretry
        if kill:
            self.kill(acc, kill)
        if local:
            self.local += used
        else:
            self.cloud += used
        if ts > 0:
            if self.start is None:
                self.start = ts
            end = ts + duration - self.start
            if end > self.elapsed:
                self.elapsed = end
        else:
            self.elapsed += duration
        if accepted:
            self.accepted += accepted
            self.times.append(self.elapsed)
            self.totals.append(self.accepted)

    def kill(self, acc: _StageAcc, reason: str) -> None:
        acc.killed += 1
        self.kills[reason] = self.kills.get(reason, 0) + 1

    def freeze(self, run_id: str) -> RunActivity:
        stages = {
            name: StageSummary(
                name, a.count, a.cost, a.tokens, a.duration, a.ok, a.failed, a.killed, a.auto, a.vretry
            )
            for name, a in self.stages.items()
        }
        return RunActivity(
            run_id=run_id,
            stages=stages,
            cloud_tokens=self.cloud,
            local_tokens=self.local,
            kill_reasons=dict(self.kills),
            timeline=_thin(self.times, self.totals),
            elapsed_s=self.elapsed,
            accepted=self.accepted,
        )


def _thin(times: array[float], totals: array[int]) -> tuple[tuple[float, int], ...]:
    n = len(times)
    if n <= TIMELINE_POINTS:
        return tuple(zip(times, totals, strict=True))
    step = (n - 1) / (TIMELINE_POINTS - 1)
    picks = sorted({round(i * step) for i in range(TIMELINE_POINTS)})
    return tuple((times[i], totals[i]) for i in picks)


def fold_iterations(
    lines: Iterable[Mapping[str, Any]], run_ids: Collection[str] | None = None
) -> dict[str, RunActivity]:
    """Per-run activity of the given runs (all runs when ``run_ids`` is None), in file order."""
    runs: dict[str, _RunAcc] = {}
    for line in lines:
        run_id = line.get("run_id")
        acc = runs.get(run_id) if isinstance(run_id, str) else None
        if acc is None:
            if not isinstance(run_id, str) or (run_ids is not None and run_id not in run_ids):
                continue
            acc = runs[run_id] = _RunAcc()
        acc.add(line)
    return {run_id: acc.freeze(run_id) for run_id, acc in runs.items()}


class _Tokens(msgspec.Struct, gc=False):
    input: int = 0
    cached: int = 0
    output: int = 0


class _Reconcile(msgspec.Struct, gc=False):
    accepted: int = 0


class _Line(msgspec.Struct, gc=False):
    """The fields of a current iteration line that the fold reads, with the defaults ``_read`` uses; a line
    whose values have other types fails to decode and takes the dict path."""

    stage: str
    tokens: _Tokens
    schema: int = 0
    run_id: str | None = None
    cost: float = 0.0
    duration_s: float = 0.0
    outcome: str = ""
    ts: float = 0.0
    reconcile: _Reconcile | None = None
    kill_reason: str | None = None
    precheck_accepted: bool = False
    validation_retries: int = 0
    is_local: bool = False


_DECODE_LINE = msgspec.json.Decoder(_Line).decode


def fold_ledgers(
    log_dirs: Sequence[Path],
    run_ids: Collection[str],
    warnings: list[str] | None = None,
    *,
    prefilter: bool = False,
) -> dict[str, RunActivity]:
    """Per-run activity of ``run_ids`` from the iterations.jsonl of each log dir, in file order: the same as
    ``fold_iterations(iter_iterations(...), run_ids)``, several times faster. ``prefilter`` skips lines that
    name another run by a text match before parsing (worth it when most lines are other runs')."""
    runs: dict[str | None, _RunAcc] = {}
    wanted = run_ids if isinstance(run_ids, set | frozenset) else set(run_ids)
    kind = LedgerFile.ITERATIONS
    decode = _DECODE_LINE
    for folder in log_dirs:
        for path, first, lines in line_blocks(folder, kind, warnings):
            for number, raw in enumerate(lines, first):
                if prefilter and visibly_other(raw, wanted):
                    continue
                try:
                    line = decode(raw)
                except (msgspec.DecodeError, ValueError):
                    line = None
                if line is None or line.schema != SCHEMA_VERSION:
                    data = decode_line(kind, path, number, raw, warnings)
                    if data is not None and isinstance(data.get("run_id"), str) and data["run_id"] in wanted:
                        run_id = data["run_id"]
                        (runs.get(run_id) or runs.setdefault(run_id, _RunAcc())).add(data)
                    continue
                run = runs.get(line.run_id)
                if run is None:
                    if line.run_id is None or line.run_id not in wanted:
                        continue
                    run = runs[line.run_id] = _RunAcc()
                # _RunAcc.put, inlined (a million calls cost a second here); keep the two in step
                stage = line.stage.upper()
                acc = run.stages.get(stage) or run.stages.setdefault(stage, _StageAcc())
                tokens = line.tokens
                used = tokens.input + tokens.cached + tokens.output
                duration = line.duration_s
                acc.count += 1
                acc.cost += line.cost
                acc.tokens += used
                acc.duration += duration
                if line.outcome == "success":
                    acc.ok += 1
                elif line.outcome not in _NOT_FAILED:
                    acc.failed += 1
                if line.precheck_accepted:
                    acc.auto += 1
                if line.validation_retries:
                    acc.vretry += line.validation_retries
                if line.kill_reason:
                    run.kill(acc, line.kill_reason)
                if line.is_local:
                    run.local += used
                else:
                    run.cloud += used
                ts = line.ts
                if ts > 0:
                    if run.start is None:
                        run.start = ts
                    end = ts + duration - run.start
                    if end > run.elapsed:
                        run.elapsed = end
                else:
                    run.elapsed += duration
                if line.reconcile is not None and line.reconcile.accepted:
                    run.accepted += line.reconcile.accepted
                    run.times.append(run.elapsed)
                    run.totals.append(run.accepted)
    return {run_id: acc.freeze(run_id) for run_id, acc in runs.items() if run_id is not None}
