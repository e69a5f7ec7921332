"""Small honest statistics for repeated runs: Wilson and Newcombe intervals, seeded bootstrap, pass^k.

Pure functions over numbers; standard library only. Every interval is 95 % unless ``z``/``level`` say
otherwise. The bootstrap is percentile-based and seeded, so the same data always gives the same interval; when
the sample is too large for ``MIN_RESAMPLES`` resamples within ``BOOTSTRAP_BUDGET`` drawn values, the interval
is the normal approximation instead, and its ``method`` says so.
"""

from __future__ import annotations

import math
import random
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum
from statistics import NormalDist

__all__ = [
    "BOOTSTRAP_BUDGET",
    "MIN_RESAMPLES",
    "Interval",
    "Verdict",
    "bootstrap_diff",
    "bootstrap_mean",
    "compare_intervals",
    "newcombe_diff",
    "pass_hat_k",
    "t975",
    "welch_diff",
    "wilson",
]

Z95 = 1.959963984540054
BOOTSTRAP_BUDGET = 100_000
"""Upper bound on resampled values drawn for one interval."""
MIN_RESAMPLES = 1000
"""Fewest resamples worth a percentile interval; larger samples use the normal approximation."""


@dataclass(frozen=True)
class Interval:
    """A point estimate with lower and upper bounds; ``method`` names how it was computed."""

    estimate: float
    low: float
    high: float
    method: str
    n: int

    def contains(self, value: float) -> bool:
        return self.low <= value <= self.high


class Verdict(StrEnum):
    """Outcome of comparing two arms on one metric (differences are ``a - b``)."""

    A_HIGHER = "a_higher"
    B_HIGHER = "b_higher"
    INDISTINGUISHABLE = "not_distinguishable"
    TOO_FEW = "too_few_replicates"


def wilson(successes: int, trials: int, z: float = Z95) -> Interval:
    """Wilson score interval for a proportion; never leaves [0, 1]; (0, 1) when there are no trials."""
    if trials <= 0:
        return Interval(0.0, 0.0, 1.0, "wilson", 0)
    successes = min(max(successes, 0), trials)
    p = successes / trials
    z2 = z * z
    denom = 1 + z2 / trials
    centre = (p + z2 / (2 * trials)) / denom
    half = z * math.sqrt(p * (1 - p) / trials + z2 / (4 * trials * trials)) / denom
    low = 0.0 if successes == 0 else max(0.0, centre - half)
    high = 1.0 if successes == trials else min(1.0, centre + half)
    return Interval(p, low, high, "wilson", trials)


def newcombe_diff(a: tuple[int, int], b: tuple[int, int], z: float = Z95) -> Interval:
    """Newcombe's hybrid score interval for p_a - p_b from (successes, trials) pairs."""
    wa, wb = wilson(*a, z=z), wilson(*b, z=z)
    d = wa.estimate - wb.estimate
    low = d - math.sqrt((wa.estimate - wa.low) ** 2 + (wb.high - wb.estimate) ** 2)
    high = d + math.sqrt((wa.high - wa.estimate) ** 2 + (wb.estimate - wb.low) ** 2)
    return Interval(d, max(-1.0, low), min(1.0, high), "newcombe", wa.n + wb.n)


def _resamples(n: int, wanted: int) -> int:
    """Resamples to draw for ``n`` values; 0 means the sample is large: use the normal approximation."""
    rounds = min(wanted, BOOTSTRAP_BUDGET // max(n, 1))
    return rounds if rounds >= min(MIN_RESAMPLES, wanted) else 0


def _variance(values: Sequence[float], mean: float) -> float:
    return math.fsum((v - mean) ** 2 for v in values) / (len(values) - 1)


def _z(level: float) -> float:
    return Z95 if level == 0.95 else NormalDist().inv_cdf(0.5 + level / 2)


def _percentile(sorted_values: Sequence[float], q: float) -> float:
    """Linear-interpolated percentile of already sorted values, ``q`` in [0, 1]."""
    pos = q * (len(sorted_values) - 1)
    lo = math.floor(pos)
    hi = min(lo + 1, len(sorted_values) - 1)
    frac = pos - lo
    return sorted_values[lo] * (1 - frac) + sorted_values[hi] * frac


def _resampled_means(values: Sequence[float], rounds: int, rng: random.Random) -> list[float]:
    n = len(values)
    pick = rng.choices
    return [math.fsum(pick(values, k=n)) / n for _ in range(rounds)]


def bootstrap_mean(
    values: Sequence[float], *, seed: int = 0, resamples: int = 2000, level: float = 0.95
) -> Interval:
    """Percentile bootstrap interval of the mean; a single value gives a zero-width interval."""
    n = len(values)
    if n == 0:
        return Interval(math.nan, math.nan, math.nan, "bootstrap", 0)
    mean = math.fsum(values) / n
    if n == 1 or min(values) == max(values):
        return Interval(mean, mean, mean, "bootstrap", n)
    rounds = _resamples(n, resamples)
    if not rounds:
        half = _z(level) * math.sqrt(_variance(values, mean) / n)
        return Interval(mean, mean - half, mean + half, "normal", n)
    means = sorted(_resampled_means(values, rounds, random.Random(seed)))
    alpha = (1 - level) / 2
    return Interval(mean, _percentile(means, alpha), _percentile(means, 1 - alpha), "bootstrap", n)


def bootstrap_diff(
    a: Sequence[float], b: Sequence[float], *, seed: int = 0, resamples: int = 2000, level: float = 0.95
) -> Interval:
    """Percentile bootstrap interval of mean(a) - mean(b), resampling each group independently."""
    if not a or not b:
        return Interval(math.nan, math.nan, math.nan, "bootstrap", len(a) + len(b))
    mean_a, mean_b = math.fsum(a) / len(a), math.fsum(b) / len(b)
    diff = mean_a - mean_b
    rounds = _resamples(len(a) + len(b), resamples)
    if not rounds:
        var_a = _variance(a, mean_a) if len(a) > 1 else 0.0
        var_b = _variance(b, mean_b) if len(b) > 1 else 0.0
        half = _z(level) * math.sqrt(var_a / len(a) + var_b / len(b))
        return Interval(diff, diff - half, diff + half, "normal", len(a) + len(b))
    rng = random.Random(seed)
    diffs = sorted(
        x - y for x, y in zip(_resampled_means(a, rounds, rng), _resampled_means(b, rounds, rng), strict=True)
    )
    alpha = (1 - level) / 2
    low, high = _percentile(diffs, alpha), _percentile(diffs, 1 - alpha)
    return Interval(diff, low, high, "bootstrap", len(a) + len(b))


# two-sided 95 % quantiles of Student's t for 1..30 degrees of freedom (index = df - 1)
_T975 = (
    12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228, 2.201, 2.179, 2.160, 2.145, 2.131,
    2.120, 2.110, 2.101, 2.093, 2.086, 2.080, 2.074, 2.069, 2.064, 2.060, 2.056, 2.052, 2.048, 2.045, 2.042,
)  # fmt: skip


def t975(df: float) -> float:
    """Student's t 97.5 % quantile, rounding the degrees of freedom down (conservative); normal past 120."""
    if df >= 120:
        return Z95
    whole = max(1, math.floor(df))
    if whole <= len(_T975):
        return _T975[whole - 1]
    return 2.021 if whole < 60 else 2.000 if whole < 120 else 1.980


def welch_diff(a: Sequence[float], b: Sequence[float]) -> Interval:
    """95 % Welch interval for mean(a) - mean(b): honest for the handful of replicates a bench has,
    where a percentile bootstrap of two values is far too narrow."""
    if len(a) < 2 or len(b) < 2:
        return Interval(math.nan, math.nan, math.nan, "welch", len(a) + len(b))
    mean_a, mean_b = math.fsum(a) / len(a), math.fsum(b) / len(b)
    va, vb = _variance(a, mean_a) / len(a), _variance(b, mean_b) / len(b)
    diff = mean_a - mean_b
    if va + vb == 0:
        return Interval(diff, diff, diff, "welch", len(a) + len(b))
    df = (va + vb) ** 2 / (va**2 / (len(a) - 1) + vb**2 / (len(b) - 1))
    half = t975(df) * math.sqrt(va + vb)
    return Interval(diff, diff - half, diff + half, "welch", len(a) + len(b))


def compare_intervals(diff: Interval, n_a: int, n_b: int, min_n: int = 2) -> Verdict:
    """Verdict on a difference interval: distinguishable only if it excludes zero and both arms repeat."""
    if n_a < min_n or n_b < min_n or math.isnan(diff.low):
        return Verdict.TOO_FEW
    if diff.low > 0:
        return Verdict.A_HIGHER
    if diff.high < 0:
        return Verdict.B_HIGHER
    return Verdict.INDISTINGUISHABLE


def pass_hat_k(successes: int, trials: int, k: int) -> float | None:
    """Unbiased pass^k: chance that k independent runs all succeed, C(c, k) / C(n, k); None if k > n."""
    if k <= 0 or k > trials:
        return None
    successes = min(max(successes, 0), trials)
    if successes < k:
        return 0.0  # C(c, k) = 0: skip the big C(n, k)
    if successes == trials:
        return 1.0
    return math.comb(successes, k) / math.comb(trials, k)
