"""`make demo`: the earlier "001 profile showdown" on the bundled scenario, with SIMULATED models.

Creates the scenario's target repo in a scratch folder (``demo-out/`` in this checkout, or ``--out``),
writes an experiment with the six profiles, then runs ``ralph bench setup / plan / run --all / collect /
analyze / report`` through the real CLI, and prints where the HTML report is. Everything it writes stays in
the scratch folder (the ledger and the agent logs included); running it again starts the folder afresh.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

from ralph.scenarios import load_scenario

SCENARIO = "c-runtime-refactor"
PROFILES = ["hybrid", "opus", "sonnet", "opus-sonnet", "sonnet-hybrid", "devstral"]
BANNER = (
    "SIMULATED MODELS: every model in this demo is played by Ralph's seeded simulator (backend 'sim').\n"
    "No model is called and nothing is bought; edits, builds, tests and git are real, costs and model\n"
    "latencies are simulated (a virtual clock), so the figures compare simulated profiles, not real ones."
)


def experiment_toml(target: Path, logs: Path, results: Path, worktrees: Path) -> str:
    """The experiment definition: six profiles, limits of the earlier showdown, the scenario's gates."""
    scenario = load_scenario(SCENARIO)
    gates = "\n".join(
        f"[[gates]]\nlabel = {gate.label!r}\ncommand = {_toml_str(gate.command)}\n" for gate in scenario.gates
    )
    profiles = ", ".join(f'"{p}"' for p in PROFILES)
    return f"""# 001 profile showdown on the bundled scenario ({SCENARIO}); every model is SIMULATED.
description = "Which profile completes the refactor best under a quota? (simulated models)"
target_repo = {_toml_str(str(target))}
base_ref = "main"
spec = {_toml_str(scenario.spec)}
profiles = [{profiles}]
replicates = 1

[limits]
max_iterations = 25
max_wall_time_s = 7200
max_failures = 3

[checks]
build = {_toml_str(scenario.build)}
test = {_toml_str(scenario.test)}
test_timeout_s = 120

{gates}
[concurrency]
cloud = 1
local = 1

[paths]
worktree_base = {_toml_str(str(worktrees))}
log_dir = {_toml_str(str(logs))}
results_dir = {_toml_str(str(results))}
"""


def _toml_str(text: str) -> str:
    """A TOML string: JSON string syntax is valid TOML basic-string syntax."""
    return json.dumps(text)


def ralph(*args: str, cwd: Path, env: dict[str, str]) -> None:
    """Run one `ralph` command, streaming its output; stop the demo if it fails."""
    print(f"\n$ ralph {' '.join(args)}", flush=True)
    code = subprocess.call([str(Path(sys.executable).parent / "ralph"), *args], cwd=cwd, env=env)
    if code != 0:
        raise SystemExit(f"demo: `ralph {' '.join(args)}` failed with exit code {code}")


def private_env(out: Path) -> dict[str, str]:
    """Keep every file the demo writes inside the scratch folder (no global config, no global ledger)."""
    env = dict(os.environ)
    for name in list(env):
        if name.startswith("RALPH_"):
            del env[name]
    env["XDG_CONFIG_HOME"] = str(out / "config")
    env["XDG_STATE_HOME"] = str(out / "state")
    env["NO_COLOR"] = env.get("NO_COLOR", "")
    return env


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path("demo-out"), help="scratch folder (recreated)")
    args = parser.parse_args()
    out = args.out.resolve()
    if out.exists():
        shutil.rmtree(out)
    out.mkdir(parents=True)
    env = private_env(out)
    started = time.monotonic()
    print(BANNER, flush=True)
    ralph("scenario", "create", SCENARIO, str(out / "target"), cwd=out, env=env)
    exp = out / "001-profile-showdown"
    exp.mkdir()
    (exp / "experiment.toml").write_text(
        experiment_toml(out / "target", out / "logs", exp / "results", out / "worktrees"), encoding="utf-8"
    )
    for step in (["setup"], ["plan"], ["run", "--all"], ["collect"], ["analyze"]):
        ralph("bench", step[0], str(exp), *step[1:], cwd=out, env=env)
    report = exp / "report.html"
    ralph("bench", "report", str(exp), "-o", str(report), cwd=out, env=env)
    print(f"\n{BANNER}\n")
    print(f"demo finished in {time.monotonic() - started:.0f} s; scratch folder: {out}")
    print(f"HTML report: {report}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
