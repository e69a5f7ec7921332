"""Fold a stream of stage executions into per-run activity, in one pass and bounded memory.

Lines of concurrent runs interleave in one ``iterations.jsonl``; the fold keeps one accumulator per run.
Timelines (tasks accepted over the run's wall time since its first stage, or over summed stage time for the
earlier ralph's lines, which carry no start times) are thinned to at most ``TIMELINE_POINTS``.
"""

from __future__ import annotations

from array import array
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass, field

from ralph.bench.facts import IterationFacts

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

    def add(self, it: IterationFacts) -> None:
        acc = self.stages.get(it.stage)
        if acc is None:
            acc = self.stages[it.stage] = _StageAcc()
        tokens = it.tokens_input + it.tokens_cached + it.tokens_output
        acc.count += 1
        acc.cost += it.cost
        acc.tokens += tokens
        acc.duration += it.duration_s
        acc.ok += it.outcome == "success"
        acc.failed += it.outcome not in _NOT_FAILED
        acc.auto += it.precheck_accepted
        acc.vretry += it.validation_retries
        if it.kill_reason:
            acc.killed += 1
            self.kills[it.kill_reason] = self.kills.get(it.kill_reason, 0) + 1
        if it.is_local:
            self.local += tokens
        else:
            self.cloud += tokens
        self._advance(it)
        if it.accepted:
            self.accepted += it.accepted
            self.times.append(self.elapsed)
            self.totals.append(self.accepted)

    def _advance(self, it: IterationFacts) -> None:
        """Wall time since the first stage when stages carry start times, else summed stage time."""
        if it.ts > 0:
            if self.start is None:
                self.start = it.ts
            self.elapsed = max(self.elapsed, it.ts + it.duration_s - self.start)
        else:
            self.elapsed += it.duration_s

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
    items: Iterable[IterationFacts], run_ids: Collection[str] | None = None
) -> dict[str, RunActivity]:
    """Per-run activity of the given runs (all runs when ``run_ids`` is None), in file order."""
    runs: dict[str, _RunAcc] = {}
    for it in items:
        acc = runs.get(it.run_id)
        if acc is None:
            if run_ids is not None and it.run_id not in run_ids:
                continue
            acc = runs[it.run_id] = _RunAcc()
        acc.add(it)
    return {run_id: acc.freeze(run_id) for run_id, acc in runs.items()}
