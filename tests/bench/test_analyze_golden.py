"""Golden test: a hand-written ledger in the earlier ralph's format (inventory §5) through every section.

Expected numbers are worked out by hand from tests/fixtures/earlier-ledger (see the comments); the sonnet run
is not in PROFILES and must not appear anywhere.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from ralph.bench.analysis import Analysis
from ralph.bench.gather import analyze_experiment
from ralph.bench.jsonout import analysis_json
from ralph.bench.loading import load_experiment

FIXTURE = Path(__file__).resolve().parents[1] / "fixtures" / "earlier-ledger" / "001-profile-showdown"
H, OP, D = "hybrid", "opus", "devstral"


@pytest.fixture(scope="module")
def analysis(tmp_path_factory: pytest.TempPathFactory) -> Analysis:
    folder = tmp_path_factory.mktemp("exp") / FIXTURE.name
    shutil.copytree(FIXTURE, folder)
    return analyze_experiment(load_experiment(folder))


def by(rows: tuple, key: str = "cell") -> dict:  # type: ignore[type-arg]
    return {getattr(r, key): r for r in rows}


def test_section1_run_table(analysis: Analysis) -> None:
    rows = by(analysis.runs)
    assert list(rows) == [H, OP, D]  # arm order of PROFILES; sonnet filtered out
    h, o, d = rows[H], rows[OP], rows[D]
    assert (h.iterations, h.duration_s, h.cost) == (12, 3600.0, 4.5)
    assert (h.tokens_in + h.tokens_cached, h.tokens_out) == (400000, 20000)
    assert (h.tasks_completed, h.tasks_total, h.completion_rate) == (8, 10, 0.8)
    assert (h.kills, h.api_remote, h.api_local) == (1, 20, 12)
    assert h.exit_reason == "wall_time"  # earlier "wall_time_limit", upgraded by the ledger reader
    # earlier bug: completed 9 of "total" 6 -> the rate is clamped to 100 % (9/9)
    assert (o.tasks_completed, o.tasks_total, o.completion_rate) == (9, 9, 1.0)
    assert (o.exit_reason, o.cost, o.duration_s) == ("complete", 9.0, 5400.0)
    # matched by profile (branch "main" is no cell's branch)
    assert (d.tasks_completed, d.tasks_total, d.kills, d.exit_reason) == (2, 10, 5, "progress_stall")
    assert d.run_ids == ("20260211_040000_112233",)


def test_section2_stage_breakdown(analysis: Analysis) -> None:
    rows = {(r.arm, r.summary.stage): r.summary for r in analysis.stages}
    assert [s for a, s in rows if a == H] == ["BUILD", "VERIFY", "DECOMPOSE"]
    build = rows[(H, "BUILD")]
    # 32000 + 6000 + 11500 tokens; 300 + 900 + 200 s; one timeout kill; one validation retry
    assert (build.count, build.cost, build.tokens, build.duration_s) == (3, 0.0, 49500, 1400.0)
    assert (build.ok, build.failed, build.killed, build.auto_accepted, build.validation_retries) == (
        2,
        1,
        1,
        0,
        1,
    )
    verify = rows[(H, "VERIFY")]
    assert (verify.count, verify.cost, verify.tokens, verify.duration_s) == (2, 2.5, 120500, 220.0)
    assert (verify.ok, verify.failed, verify.auto_accepted) == (2, 0, 1)
    assert rows[(H, "DECOMPOSE")].tokens == 11000
    assert (rows[(OP, "BUILD")].cost, rows[(OP, "BUILD")].tokens, rows[(OP, "BUILD")].duration_s) == (
        4.5,
        312000,
        1300.0,
    )
    assert (rows[(OP, "VERIFY")].cost, rows[(OP, "VERIFY")].tokens) == (2.5, 166000)
    dbuild = rows[(D, "BUILD")]
    assert (dbuild.count, dbuild.tokens, dbuild.duration_s, dbuild.ok, dbuild.failed, dbuild.killed) == (
        4, 185000, 3200.0, 1, 3, 3,
    )  # fmt: skip


def test_section3_quota_impact(analysis: Analysis) -> None:
    rows = by(analysis.quota)
    h, o, d = rows[H], rows[OP], rows[D]
    assert (h.remote, h.local, h.local_pct, h.cache_hit_pct) == (20, 12, 37.5, 75.0)
    assert (h.cloud_tokens, h.local_tokens) == (131500, 49500)
    assert h.offload_pct == pytest.approx(100 * 49500 / 181000)
    assert h.tasks_per_remote_call == pytest.approx(0.4)
    assert (o.local_pct, o.cache_hit_pct, o.offload_pct, o.cloud_tokens) == (0.0, 75.0, 0.0, 478000)
    assert o.tasks_per_remote_call == pytest.approx(9 / 40)
    assert (d.local_pct, d.cache_hit_pct, d.offload_pct, d.local_tokens) == (100.0, 0.0, 100.0, 242000)
    assert d.tasks_per_remote_call is None


def test_section4_efficiency_ranking(analysis: Analysis) -> None:
    ranked = [(r.rank, r.cell) for r in analysis.ranking]
    assert ranked == [(1, H), (2, OP), (3, D)]
    rows = by(analysis.ranking)
    # max cost 9.0, max time 7200
    assert (rows[H].norm_cost, rows[H].norm_time, rows[H].penalty) == (0.5, 0.5, pytest.approx(0.9))
    assert rows[H].score == pytest.approx(0.8 / 0.31 * 0.9)
    assert (rows[OP].norm_cost, rows[OP].norm_time) == (1.0, 0.75)
    assert rows[OP].score == pytest.approx(1.0 / 0.535)
    assert (rows[D].norm_cost, rows[D].norm_time, rows[D].penalty) == (0.0, 1.0, pytest.approx(0.5))
    assert rows[D].score == pytest.approx(0.2 / 0.31 * 0.5)


def test_section5_correctness_matrix(analysis: Analysis) -> None:
    assert analysis.gate_labels == ("asan",)
    rows = by(analysis.correctness)
    h, o, d = rows[H], rows[OP], rows[D]
    assert h.build and h.build.passed and h.test and h.test.passed
    assert (h.commits, h.insertions, h.deletions) == (7, 340, 25)
    assert h.gates[0] is not None and h.gates[0].passed
    assert o.test is not None and (o.test.passed, o.test.exit_code) == (False, 2)
    assert o.gates[0] is not None and o.gates[0].exit_code == 1
    assert (o.commits, o.insertions, o.deletions) == (5, 120, 0)
    assert d.build is not None and d.build.exit_code == 2 and d.test is not None and d.test.exit_code == 124
    assert d.gates == (None,)
    assert (d.commits, d.insertions, d.deletions) == (1, 0, 3)


def test_section6_recommendations(analysis: Analysis) -> None:
    picks = {p.title: (p.arm, p.value) for p in analysis.recommendations.picks}
    assert picks["best score"] == (H, pytest.approx(0.8 / 0.31 * 0.9))
    assert picks["most tasks done"] == (OP, 9)
    assert picks["cheapest"] == (D, 0.0)
    assert picks["fewest remote calls"] == (D, 0.0)
    assert picks["best unattended"] == (OP, 9)  # the only arm without kills
    assert picks["best quota efficiency"] == (D, None)  # two tasks, no remote calls at all
    assert len(analysis.recommendations.guide) == 4


def test_extras_kills_timelines_and_single_replicate_statistics(analysis: Analysis) -> None:
    kills = by(analysis.kills, "arm")
    assert dict(kills[D].kill_reasons) == {"context": 1, "loop": 1, "timeout": 1}  # earlier names upgraded
    assert dict(kills[H].exit_reasons) == {"wall_time": 1}
    lines = by(analysis.timelines)
    assert lines[H].points == ((0.0, 0), (420.0, 2), (1680.0, 5))
    assert lines[OP].points == ((0.0, 0), (800.0, 4), (1800.0, 9))
    assert lines[D].points == ((0.0, 0), (2800.0, 2), (3700.0, 2))
    summaries = by(analysis.summaries, "arm")
    assert summaries[H].completion.estimate == 0.8
    assert (summaries[H].completion.low, summaries[H].completion.high) == (
        pytest.approx(0.4902, abs=1e-4),
        pytest.approx(0.9433, abs=1e-4),
    )
    assert summaries[OP].pass_k == ((1, 1.0),) and summaries[H].pass_k == ((1, 0.0),)
    assert analysis.comparisons == ()  # one run per arm: nothing to compare honestly


def test_json_output_carries_the_same_numbers(analysis: Analysis) -> None:
    data = json.loads(analysis_json(analysis))
    assert [r["cell"] for r in data["runs"]] == [H, OP, D]
    assert data["runs"][1]["completion_rate"] == 1.0
    assert data["ranking"][0]["cell"] == H
    assert data["quota"][2]["tasks_per_remote_call"] is None
    assert "timelines" not in data
