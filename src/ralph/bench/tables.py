"""The analysis as plain tables of strings: the CLI renders them with Rich, the report as HTML."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from ralph.bench.analysis import Analysis, GateOutcome
from ralph.bench.stats import Interval

__all__ = ["Table", "analysis_tables", "fmt_cost", "fmt_duration", "fmt_gate", "fmt_tokens"]

SCORE_NOTE = (
    "score = rate / (0.3*norm_cost + 0.3*norm_time + 0.01) x (1 - 0.1*min(kills, 5)); "
    "norm_cost = cost / max(cost) (floor $0.001), norm_time = time / max(time) (floor 1 s)"
)


@dataclass(frozen=True)
class Table:
    """One section: ``links`` holds, per row, the cell's results folder (or "")."""

    key: str
    title: str
    headers: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]
    note: str = ""
    links: tuple[str, ...] = ()


def fmt_duration(seconds: float) -> str:
    total = round(seconds)
    hours, rest = divmod(total, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}h{minutes:02d}m" if hours else f"{minutes}m{secs:02d}s"


def fmt_cost(value: float) -> str:
    return f"${value:,.2f}"


def fmt_tokens(value: float) -> str:
    for limit, suffix in ((1e9, "G"), (1e6, "M"), (1e3, "k")):
        if abs(value) >= limit:
            return f"{value / limit:.1f}{suffix}"
    return f"{value:g}"


def fmt_gate(gate: GateOutcome | None) -> str:
    if gate is None:
        return "-"
    if gate.timed_out:
        return "TIMEOUT"
    return "PASS" if gate.passed else f"FAIL({gate.exit_code})"


def _pct(value: float) -> str:
    return f"{value:.1f}%"


def _ci(i: Interval, fmt: str = "{:.2f}", unit: str = "") -> str:
    if i.n <= 1 or i.low == i.high:
        return f"{unit}{fmt.format(i.estimate)}"
    return f"{unit}{fmt.format(i.estimate)} [{unit}{fmt.format(i.low)}, {unit}{fmt.format(i.high)}]"


def _exit(reason: str | None, simulated: bool) -> str:
    return (reason or "unfinished") + (" (sim)" if simulated else "")


def _run_table(a: Analysis) -> Table:
    rows = tuple(
        (r.cell, r.arm, str(r.iterations), fmt_duration(r.duration_s), fmt_cost(r.cost),
         fmt_tokens(r.tokens_in + r.tokens_cached), fmt_tokens(r.tokens_out),
         f"{r.tasks_completed}/{r.tasks_total}", _pct(100 * r.completion_rate), str(r.kills),
         str(r.api_remote), str(r.api_local), _exit(r.exit_reason, r.simulated))
        for r in a.runs
    )  # fmt: skip
    headers = ("Cell", "Profile", "Iter", "Time", "Cost", "Tok(in)", "Tok(out)", "Done/Tot", "Rate", "Kill",
               "API(R)", "API(L)", "Exit")  # fmt: skip
    return Table("runs", "1. Run comparison", headers, rows, links=tuple(r.files for r in a.runs))


def _stage_table(a: Analysis) -> Table:
    rows = tuple(
        (s.arm, x.stage, str(x.count), fmt_cost(x.cost), fmt_tokens(x.tokens), fmt_duration(x.duration_s),
         str(x.ok), str(x.failed), str(x.killed), str(x.auto_accepted), str(x.validation_retries))
        for s in a.stages
        for x in (s.summary,)
    )  # fmt: skip
    headers = (
        "Profile",
        "Stage",
        "Count",
        "Cost",
        "Tokens",
        "Time",
        "OK",
        "Fail",
        "Kill",
        "AutoAcc",
        "VRetry",
    )
    return Table("stages", "2. Per-stage breakdown", headers, rows)


def _quota_table(a: Analysis) -> Table:
    rows = tuple(
        (q.cell, q.arm, str(q.remote), str(q.local), _pct(q.local_pct), fmt_tokens(q.cloud_tokens),
         fmt_tokens(q.local_tokens), _pct(q.offload_pct), _pct(q.cache_hit_pct),
         "-" if q.tasks_per_remote_call is None else f"{q.tasks_per_remote_call:.3f}")
        for q in a.quota
    )  # fmt: skip
    headers = ("Cell", "Profile", "Remote", "Local", "%Local", "CloudTok", "LocalTok", "Offload", "CacheHit",
               "Tasks/remote call")  # fmt: skip
    note = "Offload = local share of tokens; tasks/remote call = quota efficiency ('-' = no remote calls)."
    return Table("quota", "3. Quota impact", headers, rows, note)


def _rank_table(a: Analysis) -> Table:
    rows = tuple(
        (str(r.rank), r.cell, r.arm, _pct(100 * r.completion_rate), f"{r.norm_cost:.3f}",
         f"{r.norm_time:.3f}", str(r.kills), f"{r.penalty:.1f}", f"{r.score:.3f}")
        for r in a.ranking
    )  # fmt: skip
    headers = ("Rank", "Cell", "Profile", "Rate", "NormCost", "NormTime", "Kills", "Penalty", "Score")
    return Table("ranking", "4. Efficiency ranking", headers, rows, SCORE_NOTE)


def _correctness_table(a: Analysis) -> Table:
    rows = tuple(
        (c.cell, c.arm, fmt_gate(c.build), fmt_gate(c.test), str(c.commits),
         f"+{c.insertions}/-{c.deletions}", *(fmt_gate(g) for g in c.gates))
        if c.collected
        else (c.cell, c.arm, "not collected", "", "", "", *("" for _ in c.gates))
        for c in a.correctness
    )  # fmt: skip
    headers = ("Cell", "Profile", "Build", "Test", "Commits", "Diff", *a.gate_labels)
    return Table("correctness", "5. Correctness matrix", headers, rows)


def _recommend_table(a: Analysis) -> Table:
    rows = tuple((p.title, p.arm, p.detail) for p in a.recommendations.picks)
    note = " ".join(a.recommendations.guide)
    return Table("recommendations", "6. Recommendations", ("Criterion", "Profile", "Why"), rows, note)


def _summary_table(a: Analysis) -> Table:
    rows = tuple(
        (s.arm, str(s.cells), _ci(s.completion, "{:.1%}"), _ci(s.cost, unit="$"),
         _ci(s.time, "{:.0f}") + " s", _ci(s.remote_calls, "{:.1f}"), f"{s.successes}/{s.cells}",
         " ".join(f"^{k}={v:.2f}" for k, v in s.pass_k),
         "-" if s.tasks_per_remote_call is None else f"{s.tasks_per_remote_call:.3f}", _pct(s.offload_pct))
        for s in a.summaries
    )  # fmt: skip
    headers = ("Profile", "Cells", "Completion", "Cost", "Time", "Remote calls", "Complete", "pass^k",
               "Tasks/remote call", "Offload")  # fmt: skip
    note = (
        f"Mean [95% interval]: Wilson for completion (tasks pooled), seeded bootstrap (seed {a.seed}) for "
        "cost, time and remote calls; pass^k = chance that k runs all end 'complete'."
    )
    return Table("summaries", "Profiles over replicates", headers, rows, note)


def _comparison_table(a: Analysis) -> Table:
    rows = tuple(
        (c.a, c.b, c.metric, _ci(c.diff, "{:+.3f}"), c.verdict.value.replace("_", " ")) for c in a.comparisons
    )
    note = (
        "Difference a - b with its 95% interval (Newcombe for completion, Welch t for the others); "
        "'not distinguishable' when the interval contains 0."
    )
    return Table("comparisons", "Pairwise comparison", ("A", "B", "Metric", "A - B", "Verdict"), rows, note)


def _arms_table(a: Analysis) -> Table:
    rows = tuple(
        (arm.name, arm.profile or "(none)", arm.base or "-",
         ", ".join(f"{k}={v}" for k, v in arm.changes) or "-", arm.description)
        for arm in a.arms
    )  # fmt: skip
    headers = ("Profile/variant", "--profile", "Base", "Changes", "Description")
    return Table("arms", "What each profile and variant changed", headers, rows)


def analysis_tables(a: Analysis) -> tuple[Table, ...]:
    """Every section in print order; replicate tables only when some arm repeats."""
    tables: Sequence[Table] = (
        _arms_table(a),
        _run_table(a),
        _stage_table(a),
        _quota_table(a),
        _rank_table(a),
        _correctness_table(a),
        _recommend_table(a),
    )
    extra = [_summary_table(a)] if any(s.cells > 1 for s in a.summaries) else []
    extra += [_comparison_table(a)] if a.comparisons else []
    return (*tables, *extra)
