"""Find bundled scenarios and turn one into a fresh git repository ready for ``ralph plan``."""

from __future__ import annotations

import shutil
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from ralph.errors import GitError, UsageError
from ralph.proc import run_command, scrubbed_env
from ralph.scenarios.model import Scenario, parse_scenario

__all__ = [
    "WORK_BRANCH",
    "CreatedScenario",
    "create_scenario",
    "list_scenarios",
    "load_scenario",
    "scenario_for_spec",
    "scenarios_dir",
]

WORK_BRANCH = "ralph/work"
_CONFIG = "sim-config.toml"
_AUTHOR = {
    "GIT_AUTHOR_NAME": "Ralph scenario",
    "GIT_AUTHOR_EMAIL": "scenario@ralph.invalid",
    "GIT_COMMITTER_NAME": "Ralph scenario",
    "GIT_COMMITTER_EMAIL": "scenario@ralph.invalid",
}


@dataclass(frozen=True)
class CreatedScenario:
    """What ``create_scenario`` made: the repo, its working branch, the initial commit and the spec path."""

    scenario: Scenario
    repo: Path
    branch: str
    commit: str
    spec: str


def scenarios_dir() -> Path:
    return Path(__file__).resolve().parent


def list_scenarios() -> list[Scenario]:
    """Every bundled scenario, by name."""
    roots = sorted(p.parent for p in scenarios_dir().glob("*/scenario.toml"))
    return [parse_scenario(root) for root in roots]


def load_scenario(name: str) -> Scenario:
    """The bundled scenario ``name``; UsageError listing the known names otherwise."""
    root = scenarios_dir() / name
    if not name or "/" in name or not (root / "scenario.toml").is_file():
        known = ", ".join(s.name for s in list_scenarios()) or "none"
        raise UsageError(f"unknown scenario '{name}' (known: {known})")
    return parse_scenario(root)


def scenario_for_spec(spec: str) -> Scenario | None:
    """The scenario whose spec file has the same base name as ``spec`` (a path or a name)."""
    base = Path(spec).name
    stem = Path(spec).stem
    return next((s for s in list_scenarios() if base in (s.spec, f"{s.name}.md") or stem == s.name), None)


def create_scenario(name: str, dest: Path) -> CreatedScenario:
    """Make ``dest`` a git repo holding the scenario: one commit on ``main`` with the project, the spec in
    ``ralph/specs/`` and ``ralph/config.toml``; then check out the Ralph-created branch ``ralph/work``."""
    scenario = load_scenario(name)
    dest = dest.absolute()
    if dest.exists() and (not dest.is_dir() or any(dest.iterdir())):
        raise UsageError(f"destination {dest} exists and is not an empty directory")
    dest.mkdir(parents=True, exist_ok=True)
    _copy_tree(scenario, dest)
    _git(dest, "init", "-q", "-b", "main")
    _git(dest, "add", "-A")
    message = f"Scenario {scenario.name}: initial project (target of simulated runs)"
    _git(dest, "-c", "commit.gpgsign=false", "commit", "-q", "-m", message)
    _git(dest, "checkout", "-q", "-b", WORK_BRANCH)
    _git(dest, "config", f"branch.{WORK_BRANCH}.ralph-created", "true")
    commit = _git(dest, "rev-parse", "HEAD").strip()
    return CreatedScenario(scenario, dest, WORK_BRANCH, commit, f"ralph/specs/{scenario.spec}")


def _copy_tree(scenario: Scenario, dest: Path) -> None:
    shutil.copytree(scenario.project_dir, dest, dirs_exist_ok=True)
    specs = dest / "ralph" / "specs"
    shutil.copytree(scenario.root / "specs", specs)
    own = scenario.root / "config.toml"
    shutil.copyfile(own if own.is_file() else scenarios_dir() / _CONFIG, dest / "ralph" / "config.toml")
    if scenario.gitignore:
        lines = "".join(f"{line}\n" for line in scenario.gitignore)
        (dest / ".gitignore").write_text(lines, encoding="utf-8")


def _git(repo: Path, *args: str) -> str:
    argv: Sequence[str] = ("git", "-C", str(repo), *args)
    done = run_command(argv, cwd=repo, timeout_s=60, env=scrubbed_env(extra=_AUTHOR))
    if not done.ok:
        raise GitError(f"git {' '.join(args)} failed in {repo}: {done.stderr.strip() or done.stdout.strip()}")
    return done.stdout
