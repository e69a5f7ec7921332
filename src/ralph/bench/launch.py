"""How a cell's ``ralph`` subprocess is started: argv, environment, and the slots it holds.

A cell whose profile routes any stage to a remote model holds a ``cloud`` slot; each local model it uses
holds a slot on that model's endpoint (the provider's base_url when configured, else the model id).
"""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping

from ralph.bench.experiment import Arm, Cell, Experiment, env_for_overrides
from ralph.bench.loading import settings_for
from ralph.settings import Settings
from ralph.stage import Stage

__all__ = ["CLOUD", "capacity", "cell_env", "construct_argv", "plan_argv", "ralph_command", "slots_of"]

CLOUD = "cloud"


def ralph_command(exp: Experiment) -> tuple[str, ...]:
    """The experiment's ``ralph_command``, else this Python running Ralph's CLI."""
    if exp.ralph_command:
        return exp.ralph_command
    return (sys.executable, "-c", "from ralph.cli.main import main; main()")


def construct_argv(exp: Experiment, cell: Cell) -> list[str]:
    """``ralph construct`` with the experiment's limits, profile, experiment name, replicate and log dir."""
    limits = exp.limits
    argv = [*ralph_command(exp), "construct"]
    if cell.arm.profile:
        argv += ["--profile", cell.arm.profile]
    argv += [
        "--max-iterations", str(limits.max_iterations),
        "--max-wall-time", str(limits.max_wall_time_s),
        "--max-failures", str(limits.max_failures),
    ]  # fmt: skip
    optional = (
        ("--max-cost", limits.max_cost),
        ("--max-tokens", limits.max_tokens),
        ("--max-api-calls", limits.max_api_calls),
        ("--stage-timeout", limits.stage_timeout_s),
    )
    for flag, value in optional:
        if value is not None:
            argv += [flag, str(value)]
    argv += ["--log-dir", str(exp.log_dir), "--experiment", exp.name, "--replicate", str(cell.replicate)]
    return argv


def plan_argv(exp: Experiment, arm: Arm, spec_path: str) -> list[str]:
    argv = [*ralph_command(exp), "plan", spec_path]
    if arm.profile:
        argv += ["--profile", arm.profile]
    return [*argv, "--log-dir", str(exp.log_dir)]


def cell_env(arm: Arm, base: Mapping[str, str] | None = None) -> dict[str, str]:
    """The caller's environment plus the arm's setting overrides as ``RALPH_<KEY>`` variables."""
    env = dict(os.environ if base is None else base)
    env.update(env_for_overrides(arm.overrides))
    return env


def _endpoint(settings: Settings, model: str) -> str:
    provider = settings.providers.get(model.split("/", 1)[0]) if "/" in model else None
    return provider.base_url if provider is not None and provider.base_url else model


def slots_of(exp: Experiment, cell: Cell) -> frozenset[str]:
    """``cloud`` if any stage is remote, plus ``local:<endpoint>`` per local model (the cell's settings)."""
    settings = settings_for(exp, cell.arm, cell.worktree if cell.worktree.is_dir() else None)
    slots: set[str] = set()
    for stage in (s for s in Stage.routed() if s is not Stage.PLAN):  # construct never plans
        route = settings.route(stage)
        slots.add(f"local:{_endpoint(settings, route.model)}" if route.is_local else CLOUD)
    return frozenset(slots)


def capacity(exp: Experiment, slot: str) -> int:
    return exp.concurrency.cloud if slot == CLOUD else exp.concurrency.local
