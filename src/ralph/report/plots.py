"""The report's figures, drawn with matplotlib's Agg renderer into PNG bytes (no pyplot, no global state).

Five figures: completion vs remote API calls and vs cost (Pareto front marked), per-stage cost and time by
profile, kills and exit reasons by profile, tasks completed over wall time per cell. With more than
``MAX_POINTS`` cells the scatter plots draw an even sample of each profile's cells (plus its extremes) and
each profile's mean, the Pareto front still over every cell; with more than ``MAX_LINES`` the timeline draws
a sample of cells thin and each profile's mean curve thick (matplotlib took seconds per figure at 10,000).
"""

from __future__ import annotations

import io
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
from matplotlib.axes import Axes
from matplotlib.collections import LineCollection
from matplotlib.figure import Figure

from ralph.bench.analysis import Analysis, RunRow

__all__ = ["MAX_LINES", "MAX_POINTS", "Plot", "draw_plots", "mean_curve", "pareto_front"]

_COLORS = ("#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22")
_MAX_LEGEND = 12
MAX_POINTS = 2500
"""Cells drawn one by one in a scatter plot; beyond, an even sample per profile plus each profile's mean."""
MAX_LINES = 250
"""Cells drawn one by one in the timeline; beyond, an even sample per profile plus each profile's mean."""
CURVE_POINTS = 400


@dataclass(frozen=True)
class Plot:
    """One rendered figure: ``cells`` are the cells it shows (for the links under it)."""

    key: str
    title: str
    png: bytes
    caption: str
    cells: tuple[str, ...]


def pareto_front(points: Sequence[tuple[float, float]]) -> list[int]:
    """Indices of points not dominated when lower x and higher y are better, sorted by x."""
    order = sorted(range(len(points)), key=lambda i: (points[i][0], -points[i][1]))
    front: list[int] = []
    best_y = float("-inf")
    for i in order:
        if points[i][1] > best_y:
            front.append(i)
            best_y = points[i][1]
    return front


def _png(fig: Figure) -> bytes:
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=96)
    return buffer.getvalue()


def _arm_colors(arms: Sequence[str]) -> dict[str, str]:
    return {arm: _COLORS[i % len(_COLORS)] for i, arm in enumerate(arms)}


def _legend(ax: Axes, count: int) -> None:
    """A legend when there is something to name and not too much of it."""
    _, labels = ax.get_legend_handles_labels()
    if labels and count <= _MAX_LEGEND:
        ax.legend(fontsize=8, loc="best")


def _spread(indices: Sequence[int], k: int) -> list[int]:
    """At most ``k`` of ``indices``, evenly spaced, first and last included."""
    n = len(indices)
    if n <= k:
        return list(indices)
    if k <= 1:
        return list(indices[:k])
    return [indices[round(i * (n - 1) / (k - 1))] for i in range(k)]


def _by_arm(a: Analysis, members: Sequence[str]) -> dict[str, list[int]]:
    """Arm name -> indices of its cells in ``members`` (the arm of each cell, in order)."""
    out: dict[str, list[int]] = {arm.name: [] for arm in a.arms}
    for i, arm in enumerate(members):
        if arm in out:
            out[arm].append(i)
    return out


def _sampled(indices: list[int], share: int, keys: Sequence[Callable[[int], float]]) -> list[int]:
    """An even sample of ``share`` of the indices, plus the lowest and highest by each key (so the axes still
    span every cell), in order."""
    if not indices:
        return indices
    chosen = set(_spread(indices, share))
    for key in keys:
        chosen.update((min(indices, key=key), max(indices, key=key)))
    return sorted(chosen)


def _share(count: int, total: int, limit: int) -> int:
    """How many of an arm's ``count`` cells to draw when ``limit`` may be drawn of ``total``."""
    return max(1, limit * count // max(total, 1))


def _tradeoff(a: Analysis, key: str, xlabel: str, x_of: Callable[[RunRow], float]) -> Plot:
    fig = Figure(figsize=(7.5, 4.5), layout="constrained")
    ax = fig.subplots()
    colors = _arm_colors([arm.name for arm in a.arms])
    points = [(x_of(r), 100 * r.completion_rate) for r in a.runs]
    many = len(points) > MAX_POINTS
    arms = _by_arm(a, [r.arm for r in a.runs])
    drawn = 0
    for arm in a.arms:
        if not many:
            mine = [p for p, r in zip(points, a.runs, strict=True) if r.arm == arm.name]
            if mine:
                ax.scatter(
                    [p[0] for p in mine], [p[1] for p in mine], s=28, color=colors[arm.name], label=arm.name
                )
            continue
        share = _share(len(arms[arm.name]), len(points), MAX_POINTS)
        keys = (lambda i: points[i][0], lambda i: points[i][1])
        mine = [points[i] for i in _sampled(arms[arm.name], share, keys)]
        drawn += len(mine)
        if mine:
            ax.scatter([p[0] for p in mine], [p[1] for p in mine], s=10, alpha=0.4, linewidths=0,
                       color=colors[arm.name], label=arm.name)  # fmt: skip
    if many:
        _means(ax, a, points, colors)
    front = pareto_front(points)
    if front:
        ax.step(
            [points[i][0] for i in front], [points[i][1] for i in front], where="post", color="black", lw=1
        )
        ax.scatter([points[i][0] for i in front], [points[i][1] for i in front], s=90, facecolors="none",
                   edgecolors="black", label="Pareto front")  # fmt: skip
    ax.set(xlabel=xlabel, ylabel="completion rate (%)", ylim=(-5, 105))
    ax.grid(alpha=0.3)
    _legend(ax, len(a.arms) + 1 + many)
    title = f"Completion vs {xlabel}"
    caption = f"Each point is a cell; circled points are on the Pareto front ({len(front)} cells)."
    if many:
        caption = (
            f"Points are cells: {drawn:,} of {len(points):,} drawn (an even sample of each profile's "
            "replicates, plus its extremes); diamonds are each profile's mean over all its cells; circled "
            f"points are the Pareto front over all cells ({len(front)} cells)."
        )
    return Plot(key, title, _png(fig), caption, tuple(r.cell for r in a.runs))


def _means(ax: Axes, a: Analysis, points: Sequence[tuple[float, float]], colors: dict[str, str]) -> None:
    """Each arm's mean point (over all its cells) as a large diamond."""
    sums: dict[str, list[float]] = {}
    for (x, y), row in zip(points, a.runs, strict=True):
        acc = sums.setdefault(row.arm, [0.0, 0.0, 0.0])
        acc[0] += x
        acc[1] += y
        acc[2] += 1
    for arm in a.arms:
        if arm.name in sums:
            sx, sy, n = sums[arm.name]
            ax.scatter([sx / n], [sy / n], s=110, marker="D", color=colors[arm.name], edgecolors="black",
                       linewidths=1.2, zorder=3)  # fmt: skip
    ax.scatter([], [], s=60, marker="D", color="white", edgecolors="black", label="profile mean")


def _grouped_bars(ax: Axes, a: Analysis, value: Callable[[str, str], float], ylabel: str) -> None:
    stages = list(dict.fromkeys(s.summary.stage for s in a.stages))
    arms = [arm.name for arm in a.arms if any(s.arm == arm.name for s in a.stages)]
    colors = _arm_colors([arm.name for arm in a.arms])
    width = 0.8 / max(len(arms), 1)
    for j, arm in enumerate(arms):
        xs = [i + j * width for i in range(len(stages))]
        ax.bar(xs, [value(arm, st) for st in stages], width, color=colors[arm], label=arm)
    ax.set_xticks([i + 0.4 - width / 2 for i in range(len(stages))], stages)
    ax.set_ylabel(ylabel)
    ax.grid(axis="y", alpha=0.3)
    _legend(ax, len(arms))


def _stages(a: Analysis) -> Plot:
    fig = Figure(figsize=(9, 4.2), layout="constrained")
    left, right = fig.subplots(1, 2)
    table = {(s.arm, s.summary.stage): s.summary for s in a.stages}

    def get(attr: str, scale: float = 1.0) -> Callable[[str, str], float]:
        return lambda arm, st: getattr(table[(arm, st)], attr) / scale if (arm, st) in table else 0.0

    _grouped_bars(left, a, get("cost"), "cost (USD)")
    _grouped_bars(right, a, get("duration_s", 60.0), "stage time (min)")
    left.set_title("cost by stage", fontsize=10)
    right.set_title("time by stage", fontsize=10)
    cells = tuple(r.cell for r in a.runs)
    return Plot(
        "stages", "Per-stage cost and time by profile", _png(fig), "Summed over each profile's cells.", cells
    )


def _stacked(ax: Axes, arms: Sequence[str], counts: Sequence[dict[str, int]], title: str) -> None:
    reasons = sorted({reason for c in counts for reason in c})
    bottoms = [0] * len(arms)
    for i, reason in enumerate(reasons):
        heights = [c.get(reason, 0) for c in counts]
        ax.bar(arms, heights, bottom=bottoms, color=_COLORS[i % len(_COLORS)], label=reason)
        bottoms = [b + h for b, h in zip(bottoms, heights, strict=True)]
    ax.set_title(title, fontsize=10)
    ax.tick_params(axis="x", labelrotation=30, labelsize=8)
    if not reasons:
        ax.text(0.5, 0.5, "none", ha="center", va="center", transform=ax.transAxes)
    _legend(ax, len(reasons))


def _kills(a: Analysis) -> Plot:
    fig = Figure(figsize=(9, 4.2), layout="constrained")
    left, right = fig.subplots(1, 2)
    arms = [k.arm for k in a.kills]
    _stacked(left, arms, [dict(k.kill_reasons) for k in a.kills], "stage kills by reason")
    _stacked(right, arms, [dict(k.exit_reasons) for k in a.kills], "runs by exit reason")
    cells = tuple(r.cell for r in a.runs)
    return Plot(
        "kills", "Kills and exit reasons by profile", _png(fig), "Counts over each profile's cells.", cells
    )


def _steps(points: Sequence[tuple[float, int]]) -> list[tuple[float, float]]:
    """A staircase in minutes: the count jumps when a task is accepted."""
    out: list[tuple[float, float]] = []
    for t, n in points:
        if out:
            out.append((t / 60.0, out[-1][1]))
        out.append((t / 60.0, float(n)))
    return out


def _timeline(a: Analysis) -> Plot:
    fig = Figure(figsize=(7.5, 4.5), layout="constrained")
    ax = fig.subplots()
    colors = _arm_colors([arm.name for arm in a.arms])
    many = len(a.timelines) > MAX_LINES
    lines = list(a.timelines)
    if many:
        arms = _by_arm(a, [t.arm for t in a.timelines])
        keys = (lambda i: a.timelines[i].points[-1][0], lambda i: a.timelines[i].points[-1][1])
        picks = [
            i
            for arm in a.arms
            for i in _sampled(arms[arm.name], _share(len(arms[arm.name]), len(lines), MAX_LINES), keys)
        ]
        lines = [a.timelines[i] for i in sorted(picks)]
    segments = [_steps(line.points) for line in lines]
    ax.add_collection(
        LineCollection(
            segments,
            colors=[colors.get(t.arm, "#333") for t in lines],
            lw=0.8 if many else 1.2,
            alpha=0.35 if many else 1.0,
        )
    )
    if many:
        _mean_curves(ax, a, colors)
    ax.autoscale()
    if not many:
        for arm in a.arms:
            ax.plot([], [], color=colors[arm.name], label=arm.name)
    ax.set(xlabel="wall time (min)", ylabel="tasks completed")
    ax.grid(alpha=0.3)
    _legend(ax, len(a.arms))
    cells = tuple(t.cell for t in a.timelines)
    caption = (
        "One line per cell: tasks accepted over the run's wall time (summed stage time for earlier-ralph "
        "ledgers); a resumed cell continues where it stopped."
    )
    if many:
        caption = (
            f"Thin lines: {len(lines):,} of {len(a.timelines):,} cells (an even sample of each profile's "
            "replicates, plus its longest and most productive), tasks accepted over the run's wall time; "
            "thick lines: each profile's mean over all its cells (a finished cell keeps its final count)."
        )
    return Plot("timeline", "Tasks completed over wall time", _png(fig), caption, cells)


def mean_curve(
    lines: Sequence[Sequence[tuple[float, int]]], samples: int = CURVE_POINTS
) -> tuple[list[float], list[float]]:
    """The mean of several staircases (tasks done at time t = count of the last point at or before t; a
    finished line keeps its last count), sampled at ``samples`` evenly spaced times from 0 to the last
    point. Exact at those times: every line's steps are summed in time order."""
    lines = [line for line in lines if line]
    if not lines:
        return [], []
    times = np.fromiter((t for line in lines for t, _ in line), dtype=float)
    counts = np.fromiter((n for line in lines for _, n in line), dtype=float)
    steps = np.diff(counts, prepend=0.0)
    starts = np.cumsum([0] + [len(line) for line in lines[:-1]])
    steps[starts] = counts[starts]  # a line starts from nothing, not from the previous line's end
    order = np.argsort(times, kind="stable")
    times, level = times[order], np.cumsum(steps[order]) / len(lines)
    grid = np.linspace(min(0.0, float(times[0])), float(times[-1]), samples)
    at = np.searchsorted(times, grid, side="right") - 1
    values = np.where(at >= 0, level[np.maximum(at, 0)], 0.0)
    return grid.tolist(), values.tolist()


def _mean_curves(ax: Axes, a: Analysis, colors: dict[str, str]) -> None:
    """Each arm's mean tasks-completed curve over all its cells, as a thick line."""
    for arm in a.arms:
        grid, values = mean_curve([t.points for t in a.timelines if t.arm == arm.name])
        if grid:
            minutes = [t / 60.0 for t in grid]
            ax.step(minutes, values, where="post", color=colors[arm.name], lw=2.4, label=arm.name)


def draw_plots(a: Analysis) -> tuple[Plot, ...]:
    """Every figure of the report, in order."""
    return (
        _tradeoff(a, "remote", "remote API calls", lambda r: float(r.api_remote)),
        _tradeoff(a, "cost", "cost (USD)", lambda r: r.cost),
        _stages(a),
        _kills(a),
        _timeline(a),
    )
