"""The result of ``analyze``: the earlier six sections plus quota efficiency, local offload, replicate
statistics and pairwise comparisons, as frozen dataclasses (rendered by the CLI and the HTML report)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from ralph.bench.facts import RunFacts
from ralph.bench.fold import RunActivity, StageSummary
from ralph.bench.stats import Interval, Verdict

__all__ = [
    "Analysis",
    "ArmInfo",
    "ArmSummary",
    "CellInput",
    "Comparison",
    "Correctness",
    "CorrectnessRow",
    "GateOutcome",
    "KillRow",
    "Pick",
    "QuotaRow",
    "RankRow",
    "Recommendations",
    "RunRow",
    "StageRow",
    "Timeline",
]


@dataclass(frozen=True)
class GateOutcome:
    """One build/test/gate result of a cell; ``exit_code`` None when it timed out or never ran."""

    label: str
    exit_code: int | None
    timed_out: bool = False
    log: str = ""

    @property
    def passed(self) -> bool:
        return self.exit_code == 0 and not self.timed_out


@dataclass(frozen=True)
class Correctness:
    """What ``collect`` found in a cell's worktree."""

    build: GateOutcome | None = None
    test: GateOutcome | None = None
    gates: tuple[GateOutcome, ...] = ()
    commits: int = 0
    insertions: int = 0
    deletions: int = 0


@dataclass(frozen=True)
class ArmInfo:
    """An arm as the report shows it: which profile it runs and what it changed."""

    name: str
    profile: str | None
    base: str | None = None
    changes: tuple[tuple[str, str], ...] = ()
    description: str = ""


@dataclass(frozen=True)
class CellInput:
    """Everything analyze needs about one cell: its runs (start order), their activity, collected checks."""

    cell: str
    arm: str
    replicate: int
    runs: tuple[RunFacts, ...]
    activity: tuple[RunActivity, ...] = ()
    correctness: Correctness | None = None
    files: str = ""


@dataclass(frozen=True)
class RunRow:
    """Section 1: one cell (all its runs merged)."""

    cell: str
    arm: str
    replicate: int
    run_ids: tuple[str, ...]
    iterations: int
    duration_s: float
    cost: float
    tokens_in: int
    tokens_cached: int
    tokens_out: int
    tasks_completed: int
    tasks_total: int
    completion_rate: float
    kills: int
    api_remote: int
    api_local: int
    exit_reason: str | None
    simulated: bool = False
    files: str = ""


@dataclass(frozen=True)
class StageRow:
    """Section 2: one arm's totals for one stage."""

    arm: str
    summary: StageSummary


@dataclass(frozen=True)
class QuotaRow:
    """Section 3: remote/local calls and tokens of a cell, quota efficiency and local offload."""

    cell: str
    arm: str
    remote: int
    local: int
    local_pct: float
    cloud_tokens: int
    local_tokens: int
    offload_pct: float
    cache_hit_pct: float
    tasks_per_remote_call: float | None


@dataclass(frozen=True)
class RankRow:
    """Section 4: score = rate / (0.3 norm_cost + 0.3 norm_time + 0.01) x (1 - 0.1 min(kills, 5))."""

    rank: int
    cell: str
    arm: str
    completion_rate: float
    norm_cost: float
    norm_time: float
    kills: int
    penalty: float
    score: float


@dataclass(frozen=True)
class CorrectnessRow:
    """Section 5: build, test, commits, diff size and each gate (aligned with ``Analysis.gate_labels``)."""

    cell: str
    arm: str
    build: GateOutcome | None
    test: GateOutcome | None
    commits: int
    insertions: int
    deletions: int
    gates: tuple[GateOutcome | None, ...]
    collected: bool = True


@dataclass(frozen=True)
class Pick:
    """One recommendation: which arm wins a criterion and by what value."""

    title: str
    arm: str
    value: float | None
    detail: str


@dataclass(frozen=True)
class Recommendations:
    """Section 6."""

    picks: tuple[Pick, ...]
    guide: tuple[str, ...]


@dataclass(frozen=True)
class ArmSummary:
    """An arm over its replicates: mean and 95 % interval per metric, successes (exit complete), pass^k."""

    arm: str
    cells: int
    completion: Interval
    cost: Interval
    time: Interval
    remote_calls: Interval
    successes: int
    pass_k: tuple[tuple[int, float], ...]
    score: float
    tasks_done: float
    kills: int
    tasks_per_remote_call: float | None
    offload_pct: float


@dataclass(frozen=True)
class Comparison:
    """Arm ``a`` minus arm ``b`` on one metric, and whether the data can tell them apart."""

    a: str
    b: str
    metric: str
    diff: Interval
    verdict: Verdict


@dataclass(frozen=True)
class KillRow:
    """Stage kills by reason and run exit reasons, per arm."""

    arm: str
    kill_reasons: Mapping[str, int] = field(default_factory=dict)
    exit_reasons: Mapping[str, int] = field(default_factory=dict)


@dataclass(frozen=True)
class Timeline:
    """Tasks completed over the cell's wall time in seconds (see ``fold``), for the report."""

    cell: str
    arm: str
    points: tuple[tuple[float, int], ...]


@dataclass(frozen=True)
class Analysis:
    """Every section of ``ralph bench analyze``."""

    experiment: str
    arms: tuple[ArmInfo, ...]
    runs: tuple[RunRow, ...]
    stages: tuple[StageRow, ...]
    quota: tuple[QuotaRow, ...]
    ranking: tuple[RankRow, ...]
    gate_labels: tuple[str, ...]
    correctness: tuple[CorrectnessRow, ...]
    recommendations: Recommendations
    summaries: tuple[ArmSummary, ...] = ()
    comparisons: tuple[Comparison, ...] = ()
    kills: tuple[KillRow, ...] = ()
    timelines: tuple[Timeline, ...] = ()
    seed: int = 0
    warnings: tuple[str, ...] = ()
    """Ledger lines that could not be read (skipped), as the ledger reader reported them."""
