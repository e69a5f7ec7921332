"""Bundled target projects with specs and known solutions, for the ``sim`` backend and demos.

Modules:
    model    Scenario, ScenarioTask, SolutionOp records and the ``scenario.toml`` loader
    ops      apply solution ops (rename, write_file, replace_text, append, insert_after) to a tree
    create   list and load bundled scenarios; create a scenario's git repository

Data: one folder per scenario (``scenario.toml``, ``project/``, ``specs/``, ``solutions/``) and
``sim-config.toml``, the ``ralph/config.toml`` a created scenario gets (six simulated profiles).
"""

from ralph.scenarios.create import (
    WORK_BRANCH,
    CreatedScenario,
    create_scenario,
    list_scenarios,
    load_scenario,
    scenario_for_spec,
    scenarios_dir,
)
from ralph.scenarios.model import Gate, OpKind, Scenario, ScenarioError, ScenarioTask, SolutionOp
from ralph.scenarios.ops import apply_op, apply_ops, apply_partial, files_with_symbol

__all__ = [
    "WORK_BRANCH",
    "CreatedScenario",
    "Gate",
    "OpKind",
    "Scenario",
    "ScenarioError",
    "ScenarioTask",
    "SolutionOp",
    "apply_op",
    "apply_ops",
    "apply_partial",
    "create_scenario",
    "files_with_symbol",
    "list_scenarios",
    "load_scenario",
    "scenario_for_spec",
    "scenarios_dir",
]
