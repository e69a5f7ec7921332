"""Experiments: one target and spec, one worktree per profile (and replicate), the same limits, compared.

experiment    Experiment, Arm, Cell, Gate, Limits, Concurrency; cell names, branches, selection
toml_format   experiment.toml -> Experiment (strict keys, one-line errors)
conf_format   the earlier bash-style experiment.conf, read as-is with the earlier defaults
arms          profiles, inline profiles, per-profile overrides, variants and sweeps -> arms
loading       find and parse an experiment; validate it against git and the settings
template      `ralph bench init`: a commented experiment.toml
worktrees     setup (worktrees + marked branches) and plan (one plan commit in every cell)
launch        a cell's argv, environment and cloud/local slots
host          host facts for experiment-meta.json
meta          results/<cell>/experiment-meta.json and cell status (finished, interrupted, ...)
progress      live progress rows, the incremental ledger tail, the slot scheduler (pure)
runner        run cells as `ralph construct` subprocesses; resume; clean Ctrl-C
gates         build/test/custom gate commands through proc
collect       store state, git stats, gates and the cell's ledger lines into results/<cell>/
collected     the files collect writes, and reading them back (also the earlier layout)
facts         ledger lines (either schema) -> RunFacts / IterationFacts
ledger_files  reads through ralph.ledger; verbatim copy of one cell's lines
fold          iterations -> per-run activity in one pass (stages, tokens, kills, timeline)
gather        runs -> cells (branch, worktree, or earlier-format profile), then analyze
analysis      the Analysis dataclasses (six sections + replicate statistics)
analyze       the pure analysis; replicates: per-arm intervals, pass^k, pairwise, recommendations
stats         Wilson/Newcombe intervals, seeded bootstrap, pass^k (stdlib only)
tables        the analysis as tables of strings; jsonout: --json
"""

from ralph.bench.analysis import Analysis
from ralph.bench.collect import CollectResult, collect_cell
from ralph.bench.experiment import Arm, Cell, Experiment
from ralph.bench.gather import analyze_experiment
from ralph.bench.jsonout import analysis_json
from ralph.bench.loading import load_experiment, validate_experiment
from ralph.bench.progress import CellProgress
from ralph.bench.runner import run_cells
from ralph.bench.tables import analysis_tables
from ralph.bench.template import init_experiment
from ralph.bench.worktrees import PlanResult, SetupResult, plan_experiment, setup_experiment

__all__ = [
    "Analysis",
    "Arm",
    "Cell",
    "CellProgress",
    "CollectResult",
    "Experiment",
    "PlanResult",
    "SetupResult",
    "analysis_json",
    "analysis_tables",
    "analyze_experiment",
    "collect_cell",
    "init_experiment",
    "load_experiment",
    "plan_experiment",
    "run_cells",
    "setup_experiment",
    "validate_experiment",
]
