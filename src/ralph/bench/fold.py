"""Fold a stream of stage executions into per-run activity, in one pass and bounded memory.

Lines of concurrent runs interleave in one ``iterations.jsonl``; the fold keeps one accumulator per run.
Timelines (tasks accepted over the run's wall time since its first stage when stages carry start times
``ts``, else over summed stage time, as for the earlier ralph's lines) are thinned to ``TIMELINE_POINTS``.
"""

from __future__ import annotations

from array import array
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

__all__ = ["TIMELINE_POINTS", "RunActivity", "StageSummary", "fold_iterations"]

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
        reconcile.get("accepted", 0) + 0 if reconcile else 0,
        kill if type(kill) is str else "",
        bool(line.get("precheck_accepted")),
        line.get("validation_retries", 0) + 0,
        bool(line.get("is_local")),
    )


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
            stage, used, cost, duration, outcome, ts, accepted, kill, auto, vretry, local = _read(line)
        except (KeyError, TypeError, AttributeError, ValueError):
            stage, used, cost, duration, outcome, ts, accepted, kill, auto, vretry, local = _read(
                _clean(line)
            )
        acc = self.stages.get(stage) or self.stages.setdefault(stage, _StageAcc())
        acc.count += 1
        acc.cost += cost
        acc.tokens += used
        acc.duration += duration
        acc.ok += outcome == "success"
        acc.failed += outcome not in _NOT_FAILED
        acc.auto += auto
        acc.vretry += vretry
        if kill:
            self._kill(acc, kill)
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

    def _kill(self, acc: _StageAcc, reason: str) -> None:
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
