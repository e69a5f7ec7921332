"""The analysis itself: pure functions from cells (ledger facts + collected checks) to ``Analysis``.

Formulas follow the earlier analyze.py (inventory §8) with one fix: completion rate is
``completed / max(total, completed)``, so it never exceeds 100 %.
"""

from __future__ import annotations

from collections.abc import Sequence

from ralph.bench.analysis import (
    Analysis,
    ArmInfo,
    CellInput,
    CorrectnessRow,
    KillRow,
    QuotaRow,
    RankRow,
    RunRow,
    StageRow,
    Timeline,
)
from ralph.bench.facts import RunFacts
from ralph.bench.fold import StageSummary
from ralph.bench.replicates import compare_arms, recommend, summarize_arms

__all__ = ["STAGE_ORDER", "analyze", "completion_rate", "rank_runs", "run_row"]

STAGE_ORDER = ("PLAN", "INVESTIGATE", "BUILD", "VERIFY", "DECOMPOSE", "DEDUP")
UNFINISHED = "unfinished"


def completion_rate(completed: int, total: int) -> float:
    """Share of tasks completed, in [0, 1] even when an earlier ledger under-counts the total."""
    denominator = max(total, completed)
    return completed / denominator if denominator > 0 else 0.0


def _tasks(runs: Sequence[RunFacts]) -> tuple[int, int]:
    """(completed, total) of a cell: the store's counts from the last finished run (schema >= 1), or the
    earlier ralph's per-session accept counts summed."""
    if runs and all(r.schema >= 1 for r in runs):
        finished = [r for r in runs if r.exit_reason is not None] or list(runs)
        return finished[-1].tasks_completed, finished[-1].tasks_total
    return sum(r.tasks_completed for r in runs), max((r.tasks_total for r in runs), default=0)


def run_row(cell: CellInput) -> RunRow:
    """Section 1 row: a cell's runs merged (sums; exit reason and task counts from the last run)."""
    runs = cell.runs
    completed, total = _tasks(runs)
    last = runs[-1] if runs else None
    return RunRow(
        cell=cell.cell,
        arm=cell.arm,
        replicate=cell.replicate,
        run_ids=tuple(r.run_id for r in runs),
        iterations=sum(r.iterations for r in runs),
        duration_s=sum(r.duration_s for r in runs),
        cost=sum(r.cost for r in runs),
        tokens_in=sum(r.tokens_input for r in runs),
        tokens_cached=sum(r.tokens_cached for r in runs),
        tokens_out=sum(r.tokens_output for r in runs),
        tasks_completed=completed,
        tasks_total=max(total, completed),
        completion_rate=completion_rate(completed, total),
        kills=sum(sum(r.kills.values()) for r in runs),
        api_remote=sum(r.api_remote for r in runs),
        api_local=sum(r.api_local for r in runs),
        exit_reason=last.exit_reason if last else None,
        simulated=any(r.simulated for r in runs),
        files=cell.files,
    )


def _pct(part: float, whole: float) -> float:
    return 100.0 * part / whole if whole > 0 else 0.0


def quota_row(cell: CellInput, row: RunRow) -> QuotaRow:
    """Section 3 row plus quota efficiency (tasks per remote call) and local offload (local token share)."""
    cloud = sum(a.cloud_tokens for a in cell.activity)
    local = sum(a.local_tokens for a in cell.activity)
    return QuotaRow(
        cell=row.cell,
        arm=row.arm,
        remote=row.api_remote,
        local=row.api_local,
        local_pct=_pct(row.api_local, row.api_remote + row.api_local),
        cloud_tokens=cloud,
        local_tokens=local,
        offload_pct=_pct(local, cloud + local),
        cache_hit_pct=_pct(row.tokens_cached, row.tokens_in + row.tokens_cached),
        tasks_per_remote_call=row.tasks_completed / row.api_remote if row.api_remote else None,
    )


def rank_runs(rows: Sequence[RunRow]) -> tuple[RankRow, ...]:
    """Section 4: the earlier efficiency score, best first (ties keep input order)."""
    max_cost = max(max((r.cost for r in rows), default=0.0), 0.001)
    max_time = max(max((r.duration_s for r in rows), default=0.0), 1.0)
    scored = []
    for row in rows:
        norm_cost, norm_time = row.cost / max_cost, row.duration_s / max_time
        penalty = 1 - 0.1 * min(row.kills, 5)
        score = row.completion_rate / (0.3 * norm_cost + 0.3 * norm_time + 0.01) * penalty
        scored.append((row, norm_cost, norm_time, penalty, score))
    scored.sort(key=lambda item: -item[4])
    return tuple(
        RankRow(i + 1, r.cell, r.arm, r.completion_rate, nc, nt, r.kills, p, s)
        for i, (r, nc, nt, p, s) in enumerate(scored)
    )


def _stage_key(stage: str) -> tuple[int, str]:
    return (STAGE_ORDER.index(stage), "") if stage in STAGE_ORDER else (len(STAGE_ORDER), stage)


def stage_rows(arms: Sequence[ArmInfo], cells: Sequence[CellInput]) -> tuple[StageRow, ...]:
    """Section 2: per arm and stage, summed over the arm's cells."""
    out: list[StageRow] = []
    for arm in arms:
        # field by field, in the order StageSummary.__add__ would add them (one summary per stage at the end)
        totals: dict[str, list[int | float]] = {}
        for cell in (c for c in cells if c.arm == arm.name):
            for activity in cell.activity:
                for name, x in activity.stages.items():
                    t = totals.get(name)
                    if t is None:
                        totals[name] = [x.count, x.cost, x.tokens, x.duration_s, x.ok, x.failed, x.killed,
                                        x.auto_accepted, x.validation_retries]  # fmt: skip
                        continue
                    t[0] += x.count
                    t[1] += x.cost
                    t[2] += x.tokens
                    t[3] += x.duration_s
                    t[4] += x.ok
                    t[5] += x.failed
                    t[6] += x.killed
                    t[7] += x.auto_accepted
                    t[8] += x.validation_retries
        out += [
            StageRow(arm.name, StageSummary(name, *totals[name]))  # type: ignore[arg-type]
            for name in sorted(totals, key=_stage_key)
        ]
    return tuple(out)


def correctness_rows(cells: Sequence[CellInput], labels: Sequence[str]) -> tuple[CorrectnessRow, ...]:
    """Section 5: collected build/test/gate results; cells not yet collected are marked so."""
    rows = []
    for cell in cells:
        found = cell.correctness
        gates = {g.label: g for g in found.gates} if found else {}
        rows.append(
            CorrectnessRow(
                cell=cell.cell,
                arm=cell.arm,
                build=found.build if found else None,
                test=found.test if found else None,
                commits=found.commits if found else 0,
                insertions=found.insertions if found else 0,
                deletions=found.deletions if found else 0,
                gates=tuple(gates.get(label) for label in labels),
                collected=found is not None,
            )
        )
    return tuple(rows)


def kill_rows(
    arms: Sequence[ArmInfo], cells: Sequence[CellInput], rows: Sequence[RunRow]
) -> tuple[KillRow, ...]:
    """Stage kills by reason (iteration records) and exit reasons (run records) per arm."""
    out = []
    for arm in arms:
        kills: dict[str, int] = {}
        for cell in (c for c in cells if c.arm == arm.name):
            for activity in cell.activity:
                for reason, count in activity.kill_reasons.items():
                    kills[reason] = kills.get(reason, 0) + count
        exits: dict[str, int] = {}
        for row in (r for r in rows if r.arm == arm.name):
            key = row.exit_reason or UNFINISHED
            exits[key] = exits.get(key, 0) + 1
        out.append(KillRow(arm.name, dict(sorted(kills.items())), dict(sorted(exits.items()))))
    return tuple(out)


def timeline(cell: CellInput) -> Timeline:
    """A cell's tasks-completed curve; resumed runs continue where the previous one stopped."""
    points: list[tuple[float, int]] = [(0.0, 0)]
    offset_t, offset_n = 0.0, 0
    for activity in cell.activity:
        points += [(offset_t + t, offset_n + n) for t, n in activity.timeline]
        offset_t += activity.elapsed_s
        offset_n += activity.accepted
    if offset_t > points[-1][0]:
        points.append((offset_t, offset_n))
    return Timeline(cell.cell, cell.arm, tuple(points))


def analyze(
    experiment: str,
    arms: Sequence[ArmInfo],
    cells: Sequence[CellInput],
    *,
    gate_labels: Sequence[str] = (),
    seed: int = 0,
    warnings: Sequence[str] = (),
) -> Analysis:
    """Every section over ``cells`` (in arm order, replicate order)."""
    runs = tuple(run_row(cell) for cell in cells)
    ranking = rank_runs(runs)
    quota = tuple(quota_row(cell, row) for cell, row in zip(cells, runs, strict=True))
    summaries = summarize_arms(arms, runs, ranking, quota, seed=seed)
    return Analysis(
        experiment=experiment,
        arms=tuple(arms),
        runs=runs,
        stages=stage_rows(arms, cells),
        quota=quota,
        ranking=ranking,
        gate_labels=tuple(gate_labels),
        correctness=correctness_rows(cells, gate_labels),
        recommendations=recommend(summaries),
        summaries=summaries,
        comparisons=compare_arms(summaries, runs),
        kills=kill_rows(arms, cells, runs),
        timelines=tuple(timeline(cell) for cell in cells),
        seed=seed,
        warnings=tuple(warnings),
    )
