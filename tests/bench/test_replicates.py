"""The pure analysis with replicates and variants: per-arm intervals, pass^k, pairwise verdicts, tables."""

from __future__ import annotations

import pytest

from ralph.bench.analysis import ArmInfo, CellInput
from ralph.bench.analyze import analyze, completion_rate
from ralph.bench.facts import RunFacts
from ralph.bench.fold import fold_iterations
from ralph.bench.stats import Verdict
from ralph.bench.tables import analysis_tables

ARMS = (
    ArmInfo("cheap", "sonnet"),
    ArmInfo("pricey", "opus"),
    ArmInfo(
        "pricey-t5", "opus", base="pricey", changes=(("stage_timeout_ms", "300000"),), description="short"
    ),
)


def cell(
    arm: str, k: int, cost: float, done: int, exit_reason: str = "complete", schema: int = 1
) -> CellInput:
    run = RunFacts(
        run_id=f"{arm}-{k}", profile=arm, duration_s=100.0 * k, exit_reason=exit_reason, tasks_total=10,
        tasks_completed=done, cost=cost, api_remote=50 if arm != "cheap" else 0, api_local=20, schema=schema,
        kills={"timeout": 1} if exit_reason != "complete" else {},
    )  # fmt: skip
    return CellInput(cell=f"{arm}-r{k}", arm=arm, replicate=k, runs=(run,))


@pytest.fixture
def cells() -> list[CellInput]:
    out = [cell("cheap", k, 1.0 + 0.01 * k, 9) for k in (1, 2, 3)]
    out += [cell("pricey", k, 20.0 + 0.01 * k, 10) for k in (1, 2, 3)]
    out += [cell("pricey-t5", 1, 21.0, 4, "wall_time"), cell("pricey-t5", 2, 20.5, 10)]
    return out


def test_completion_rate_never_exceeds_one() -> None:
    assert completion_rate(9, 6) == 1.0 and completion_rate(0, 0) == 0.0 and completion_rate(3, 4) == 0.75


def test_summaries_pass_k_and_comparisons(cells: list[CellInput]) -> None:
    result = analyze("x", ARMS, cells, seed=3)
    summaries = {s.arm: s for s in result.summaries}
    cheap, pricey, t5 = summaries["cheap"], summaries["pricey"], summaries["pricey-t5"]
    assert (cheap.cells, cheap.successes, cheap.pass_k) == (3, 3, ((1, 1.0), (2, 1.0), (3, 1.0)))
    assert t5.pass_k == ((1, 0.5), (2, 0.0))
    assert cheap.completion.estimate == pytest.approx(27 / 30) and cheap.completion.method == "wilson"
    assert cheap.cost.low < cheap.cost.estimate < cheap.cost.high < 2.0
    assert cheap.tasks_per_remote_call is None and pricey.tasks_per_remote_call == pytest.approx(30 / 150)
    verdicts = {(c.a, c.b, c.metric): c.verdict for c in result.comparisons}
    assert verdicts[("cheap", "pricey", "cost")] is Verdict.B_HIGHER  # clearly cheaper
    assert verdicts[("cheap", "pricey", "completion")] is Verdict.INDISTINGUISHABLE  # 27/30 vs 30/30
    assert verdicts[("pricey", "pricey-t5", "cost")] is Verdict.INDISTINGUISHABLE
    assert len(result.comparisons) == 3 * 4
    again = analyze("x", ARMS, cells, seed=3)
    assert again.summaries == result.summaries and again.comparisons == result.comparisons


def test_recommendations_use_arm_means(cells: list[CellInput]) -> None:
    picks = {p.title: p.arm for p in analyze("x", ARMS, cells).recommendations.picks}
    assert picks["cheapest"] == "cheap" and picks["most tasks done"] == "pricey"
    assert picks["best unattended"] == "pricey"  # pricey-t5 had a kill; cheap did fewer tasks
    assert picks["fewest remote calls"] == "cheap" and picks["best quota efficiency"] == "cheap"


def test_tables_show_variant_changes_and_replicate_sections(cells: list[CellInput]) -> None:
    tables = {t.key: t for t in analysis_tables(analyze("x", ARMS, cells))}
    assert tables["arms"].rows[2] == ("pricey-t5", "opus", "pricey", "stage_timeout_ms=300000", "short")
    assert "summaries" in tables and "comparisons" in tables
    row = tables["summaries"].rows[0]
    assert row[0] == "cheap" and row[1] == "3" and "[" in row[3]  # cost with its interval
    single = analyze("x", ARMS[:1], cells[:1])
    assert {t.key for t in analysis_tables(single)} == {
        "arms", "runs", "stages", "quota", "ranking", "correctness", "recommendations",
    }  # fmt: skip


def test_resumed_cell_merges_its_runs_and_continues_the_timeline() -> None:
    first = RunFacts(run_id="a", exit_reason="interrupted", cost=1.0, iterations=2, tasks_total=5,
                     tasks_completed=2, schema=1, duration_s=50.0)  # fmt: skip
    second = RunFacts(run_id="b", exit_reason="complete", cost=2.0, iterations=3, tasks_total=5,
                      tasks_completed=5, schema=1, duration_s=70.0)  # fmt: skip
    lines = [
        {"run_id": "a", "stage": "BUILD", "tokens": {"input": 1}, "duration_s": 10.0, "ts": 100.0,
         "outcome": "success", "reconcile": {"accepted": 2}},
        {"run_id": "b", "stage": "VERIFY", "tokens": {"input": 1}, "duration_s": 5.0, "ts": 500.0,
         "outcome": "success", "reconcile": {"accepted": 3}},
        {"run_id": "b", "stage": "BUILD", "tokens": "garbage", "duration_s": "x", "outcome": "failure",
         "kill_reason": "timeout"},
    ]  # fmt: skip
    activity = fold_iterations(lines, {"a", "b"})
    merged = CellInput("c", "cheap", 1, (first, second), (activity["a"], activity["b"]))
    result = analyze("x", ARMS[:1], [merged])
    row = result.runs[0]
    assert (row.cost, row.iterations, row.tasks_completed, row.exit_reason) == (3.0, 5, 5, "complete")
    assert result.timelines[0].points == ((0.0, 0), (10.0, 2), (15.0, 5))
    stages = {s.summary.stage: s.summary for s in result.stages}
    assert (stages["BUILD"].count, stages["BUILD"].failed, stages["BUILD"].killed) == (2, 1, 1)
