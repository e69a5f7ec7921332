"""Interval methods against published values, and the bootstrap's determinism and verdicts."""

from __future__ import annotations

import math
import statistics

import pytest

from ralph.bench.stats import (
    Verdict,
    bootstrap_diff,
    bootstrap_mean,
    compare_intervals,
    newcombe_diff,
    pass_hat_k,
    t975,
    welch_diff,
    wilson,
)


def test_wilson_matches_published_values() -> None:
    w = wilson(8, 10)
    assert (w.estimate, round(w.low, 4), round(w.high, 4)) == (0.8, 0.4902, 0.9433)
    full = wilson(10, 10)
    assert full.high == 1.0 and round(full.low, 4) == 0.7225
    assert (wilson(0, 0).low, wilson(0, 0).high) == (0.0, 1.0)


def test_wilson_clamps_successes_above_trials() -> None:
    assert wilson(12, 10).estimate == 1.0


def test_newcombe_difference_matches_newcombe_1998_example() -> None:
    diff = newcombe_diff((56, 70), (48, 80))
    assert round(diff.estimate, 4) == 0.2
    assert (round(diff.low, 4), round(diff.high, 4)) == (0.0524, 0.3339)


def test_bootstrap_is_seeded_and_brackets_the_mean() -> None:
    values = [1.0, 2.0, 3.0, 4.0, 10.0]
    first, again = bootstrap_mean(values, seed=7), bootstrap_mean(values, seed=7)
    assert first == again
    assert first.estimate == 4.0 and first.low < 4.0 < first.high
    assert first.low >= 1.0 and first.high <= 10.0
    assert bootstrap_mean(values, seed=8) != first


def test_bootstrap_degenerate_inputs() -> None:
    single = bootstrap_mean([5.0])
    assert (single.low, single.high) == (5.0, 5.0)
    assert math.isnan(bootstrap_mean([]).estimate)


def test_bootstrap_diff_verdicts() -> None:
    far = bootstrap_diff([10.0, 11.0, 12.0, 10.5], [1.0, 2.0, 1.5, 2.5], seed=1)
    assert compare_intervals(far, 4, 4) is Verdict.A_HIGHER
    near = bootstrap_diff([1.0, 5.0, 3.0, 2.0], [2.0, 4.0, 3.5, 1.0], seed=1)
    assert compare_intervals(near, 4, 4) is Verdict.INDISTINGUISHABLE
    assert compare_intervals(far, 1, 4) is Verdict.TOO_FEW
    lower = bootstrap_diff([1.0, 2.0, 1.5], [10.0, 11.0, 12.0], seed=3)
    assert compare_intervals(lower, 3, 3) is Verdict.B_HIGHER


def test_welch_interval_is_wide_for_tiny_samples() -> None:
    # pricey 20.01/20.02/20.03 vs 21.0/20.5: a bootstrap of two values would call this a difference
    diff = welch_diff([20.01, 20.02, 20.03], [21.0, 20.5])
    assert diff.method == "welch" and diff.low < 0 < diff.high
    assert compare_intervals(diff, 3, 2) is Verdict.INDISTINGUISHABLE
    # textbook check: means 5 and 3, variances 1 and 1, n 10 each -> df 18, t 2.101, se sqrt(0.2)
    a = [5 + (1 if i % 2 else -1) * math.sqrt(0.9) for i in range(10)]
    b = [x - 2 for x in a]
    wide = welch_diff(a, b)
    assert wide.estimate == pytest.approx(2.0)
    assert wide.high - wide.estimate == pytest.approx(2.101 * math.sqrt(0.2), rel=1e-3)
    assert welch_diff([1.0, 1.0], [2.0, 2.0]) == welch_diff([1.0, 1.0], [2.0, 2.0])
    assert compare_intervals(welch_diff([1.0, 1.0], [2.0, 2.0]), 2, 2) is Verdict.B_HIGHER
    assert math.isnan(welch_diff([1.0], [2.0, 3.0]).low)
    assert (t975(1), t975(2.9), t975(45), t975(500)) == (12.706, 4.303, 2.021, pytest.approx(1.96, abs=1e-3))


def test_pass_hat_k() -> None:
    assert pass_hat_k(3, 4, 1) == 0.75
    assert pass_hat_k(3, 4, 2) == 0.5  # C(3,2)/C(4,2)
    assert pass_hat_k(3, 4, 4) == 0.0
    assert pass_hat_k(4, 4, 4) == 1.0
    assert pass_hat_k(1, 2, 3) is None


def test_large_samples_use_the_normal_approximation_and_say_so() -> None:
    values = [float(i % 17) for i in range(5000)]
    interval = bootstrap_mean(values, seed=0)
    assert interval.method == "normal" and interval.low < interval.estimate < interval.high
    sd = statistics.stdev(values)
    assert interval.high - interval.low == pytest.approx(2 * 1.959964 * sd / math.sqrt(5000))
    diff = bootstrap_diff(values, [v + 1 for v in values])
    assert diff.method == "normal" and diff.estimate == pytest.approx(-1.0) and diff.high < 0
    small = bootstrap_mean(values[:50], seed=0)
    assert small.method == "bootstrap"


def test_bootstrap_agrees_with_the_normal_approximation_on_moderate_samples() -> None:
    values = [float((i * 7919) % 101) for i in range(80)]
    boot = bootstrap_mean(values, seed=5)
    half = 1.959964 * statistics.stdev(values) / math.sqrt(80)
    assert boot.method == "bootstrap"
    assert boot.low == pytest.approx(boot.estimate - half, rel=0.1)
    assert boot.high == pytest.approx(boot.estimate + half, rel=0.1)
