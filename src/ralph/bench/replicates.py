"""Per-arm statistics over replicates, pairwise comparisons and the recommendations (section 6).

Completion: Wilson interval on tasks pooled over the arm's cells (Newcombe for differences). Cost, time and
remote calls: seeded percentile bootstrap of the per-cell mean (normal approximation for samples beyond the
bootstrap budget; ``Interval.method`` tells which); their differences use Welch's t interval, because a
bootstrap of two or three replicates is far too narrow. Success for pass^k = the run ended ``complete``.
Two arms are called distinguishable on a metric only when the 95 % interval of the difference excludes zero
and each arm has at least two cells.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from itertools import combinations

from ralph.bench.analysis import (
    ArmInfo,
    ArmSummary,
    Comparison,
    Pick,
    QuotaRow,
    RankRow,
    Recommendations,
    RunRow,
)
from ralph.bench.stats import (
    bootstrap_mean,
    compare_intervals,
    newcombe_diff,
    pass_hat_k,
    welch_diff,
    wilson,
)

__all__ = ["GUIDE", "compare_arms", "recommend", "summarize_arms"]

GUIDE = (
    "Quota-bound (subscription limits): take the best quota efficiency or the fewest remote calls.",
    "Budget-bound: take the cheapest arm whose completion you can accept.",
    "Unattended overnight: take the best unattended arm (no stage kills).",
    "Quality first: take the most tasks done, then confirm in the correctness matrix.",
)
METRICS: tuple[tuple[str, Callable[[RunRow], float]], ...] = (
    ("cost", lambda r: r.cost),
    ("time", lambda r: r.duration_s),
    ("remote_calls", lambda r: float(r.api_remote)),
)


def _seed(base: int, *parts: int) -> int:
    value = base
    for part in parts:
        value = value * 1_000_003 + part
    return value


def summarize_arms(
    arms: Sequence[ArmInfo],
    runs: Sequence[RunRow],
    ranking: Sequence[RankRow],
    quota: Sequence[QuotaRow],
    *,
    seed: int = 0,
) -> tuple[ArmSummary, ...]:
    """One summary per arm that has cells."""
    scores = {r.cell: r.score for r in ranking}
    out = []
    for index, arm in enumerate(arms):
        rows = [r for r in runs if r.arm == arm.name]
        if not rows:
            continue
        quotas = [q for q in quota if q.arm == arm.name]
        out.append(_summary(arm.name, rows, [scores[r.cell] for r in rows], quotas, _seed(seed, index)))
    return tuple(out)


def _summary(
    arm: str, rows: list[RunRow], scores: list[float], quotas: list[QuotaRow], seed: int
) -> ArmSummary:
    n = len(rows)
    successes = sum(r.exit_reason == "complete" for r in rows)
    done = sum(r.tasks_completed for r in rows)
    remote = sum(r.api_remote for r in rows)
    cloud, local = sum(q.cloud_tokens for q in quotas), sum(q.local_tokens for q in quotas)
    intervals = [
        bootstrap_mean([get(r) for r in rows], seed=_seed(seed, i)) for i, (_, get) in enumerate(METRICS)
    ]
    pass_k = tuple((k, value) for k in range(1, n + 1) if (value := pass_hat_k(successes, n, k)) is not None)
    return ArmSummary(
        arm=arm,
        cells=n,
        completion=wilson(done, sum(r.tasks_total for r in rows)),
        cost=intervals[0],
        time=intervals[1],
        remote_calls=intervals[2],
        successes=successes,
        pass_k=pass_k,
        score=sum(scores) / n,
        tasks_done=done / n,
        kills=sum(r.kills for r in rows),
        tasks_per_remote_call=done / remote if remote else None,
        offload_pct=100.0 * local / (cloud + local) if cloud + local else 0.0,
    )


def compare_arms(summaries: Sequence[ArmSummary], runs: Sequence[RunRow]) -> tuple[Comparison, ...]:
    """Every pair of arms on completion, cost, time and remote calls; empty without any replicated arm."""
    if all(s.cells < 2 for s in summaries):
        return ()
    rows = {s.arm: [r for r in runs if r.arm == s.arm] for s in summaries}
    out = []
    for a, b in combinations(summaries, 2):
        ra, rb = rows[a.arm], rows[b.arm]
        pooled = [(sum(r.tasks_completed for r in g), sum(r.tasks_total for r in g)) for g in (ra, rb)]
        diff = newcombe_diff(pooled[0], pooled[1])
        out.append(Comparison(a.arm, b.arm, "completion", diff, compare_intervals(diff, a.cells, b.cells)))
        for metric, get in METRICS:
            diff = welch_diff([get(r) for r in ra], [get(r) for r in rb])
            out.append(Comparison(a.arm, b.arm, metric, diff, compare_intervals(diff, a.cells, b.cells)))
    return tuple(out)


def _best(
    title: str,
    pool: Sequence[ArmSummary],
    key: Callable[[ArmSummary], float],
    detail: Callable[[ArmSummary], str],
) -> Pick | None:
    """The first arm with the highest ``key`` (ties keep arm order)."""
    if not pool:
        return None
    winner = max(pool, key=key)
    return Pick(title, winner.arm, key(winner), detail(winner))


def _quota_key(s: ArmSummary) -> float:
    if s.tasks_per_remote_call is None:
        return float("inf") if s.tasks_done > 0 else 0.0
    return s.tasks_per_remote_call


def recommend(summaries: Sequence[ArmSummary]) -> Recommendations:
    """Best score, most tasks done, cheapest, fewest remote calls, best unattended, best quota efficiency."""
    working = [s for s in summaries if s.tasks_done > 0] or list(summaries)
    unattended = [s for s in summaries if s.kills == 0]
    candidates = [
        _best("best score", summaries, lambda s: s.score, lambda s: f"score {s.score:.2f}"),
        _best("most tasks done", summaries, lambda s: s.tasks_done, lambda s: f"{s.tasks_done:g} tasks"),
        _best("cheapest", working, lambda s: -s.cost.estimate, lambda s: f"${s.cost.estimate:.2f}"),
        _best(
            "fewest remote calls",
            working,
            lambda s: -s.remote_calls.estimate,
            lambda s: f"{s.remote_calls.estimate:g} remote calls",
        ),
        _best(
            "best unattended",
            unattended,
            lambda s: s.tasks_done,
            lambda s: f"{s.tasks_done:g} tasks, 0 kills",
        ),
        _best("best quota efficiency", summaries, _quota_key, _quota_detail),
    ]
    picks = tuple(
        Pick(p.title, p.arm, None if p.value is None or p.value == float("inf") else abs(p.value), p.detail)
        for p in candidates
        if p is not None
    )
    return Recommendations(picks, GUIDE)


def _quota_detail(s: ArmSummary) -> str:
    if s.tasks_per_remote_call is None:
        return f"{s.tasks_done:g} tasks with no remote calls" if s.tasks_done else "no tasks, no remote calls"
    return f"{s.tasks_per_remote_call:.3f} tasks per remote call"
