"""``ralph bench init NAME``: a commented experiment.toml to start from."""

from __future__ import annotations

from pathlib import Path

from ralph.bench.experiment import safe_name
from ralph.errors import UsageError

__all__ = ["TEMPLATE", "init_experiment"]

TEMPLATE = """\
# Experiment {name}: one target repo and spec, one worktree per profile (and replicate), the same limits.
# Run: ralph bench setup {name} && ralph bench plan {name} && ralph bench run {name} --all
#      ralph bench collect {name} && ralph bench analyze {name} && ralph bench report {name}

description = "What question does this experiment answer?"
target_repo = "~/src/my-project"      # a git repository; its default branch is never touched
base_ref = "main"                     # every cell starts here (a tag is best)
spec = "my-spec.md"                   # a path in the repo at base_ref, or a name under ralph/specs/
profiles = ["opus", "sonnet"]         # profiles from the target's ralph/config.toml or your global config
replicates = 1                        # > 1 repeats every cell; analyze then reports intervals
seed = 0                              # seed of the bootstrap intervals

[limits]                              # passed to every `ralph construct`
max_iterations = 25
max_wall_time_s = 7200
max_failures = 3
# max_cost = 20.0
# max_api_calls = 500
# stage_timeout_s = 900

[checks]                              # run by `ralph bench collect` in each worktree
build = "make build"
test = "make test"
test_timeout_s = 300

# [[gates]]                           # custom gates: a label and a shell command (exit 0 = pass)
# label = "asan"
# command = "make asan"
# timeout_s = 600

[concurrency]
cloud = 1                             # cells using any remote model run this many at a time
local = 1                             # per local endpoint; local-only cells run beside the cloud ones

# [paths]                             # defaults shown
# worktree_base = "<target>-experiments"  (next to the target repo)
# log_dir = "logs"                    # relative paths are taken from this folder
# results_dir = "results"

# [settings]                          # setting overrides for every cell
# sim_seed = 1

# [overrides.opus]                    # overrides for one profile's cells
# max_retries_per_task = 2

# [inline_profiles.cheap]             # a profile defined here (add "cheap" to profiles)
# extends = "sonnet"
# model_build = "llamacpp/devstral"

# [variants.opus-short-stages]        # a base profile plus changed settings (or another spec)
# profile = "opus"
# stage_timeout_ms = 300000
# description = "five-minute stages"

# [[sweeps]]                          # one variant per value
# profile = "opus"
# key = "context_compact_pct"
# values = [70, 80, 90]
"""


def init_experiment(name: str, parent: Path) -> Path:
    """Write ``parent/NAME/experiment.toml``; refuses to overwrite an existing definition."""
    folder = parent / safe_name(name, "experiment name")
    target = folder / "experiment.toml"
    if target.exists() or (folder / "experiment.conf").exists():
        raise UsageError(f"{folder} already holds an experiment definition")
    folder.mkdir(parents=True, exist_ok=True)
    target.write_text(TEMPLATE.format(name=name), encoding="utf-8")
    return target
