"""Find, parse and check an experiment: one-line errors for missing keys, a target that is not a git repo,
an unknown base ref, a missing spec, an unknown profile or a bad override (all exit 2)."""

from __future__ import annotations

from pathlib import Path

from ralph.bench.conf_format import load_conf
from ralph.bench.experiment import Arm, Experiment
from ralph.bench.toml_format import load_toml
from ralph.errors import ConfigError, UsageError
from ralph.proc import run_command
from ralph.settings import Settings, load_settings

__all__ = ["git", "load_experiment", "resolve_spec", "settings_for", "validate_experiment"]

TOML_NAME = "experiment.toml"
CONF_NAME = "experiment.conf"


def load_experiment(path: Path) -> Experiment:
    """Parse ``path`` (a folder holding experiment.toml or experiment.conf, or either file)."""
    path = path.resolve()
    if path.is_dir():
        for name, loader in ((TOML_NAME, load_toml), (CONF_NAME, load_conf)):
            if (path / name).is_file():
                return loader(path / name)
        raise UsageError(f"{path}: no {TOML_NAME} or {CONF_NAME} here (start with `ralph bench init NAME`)")
    if not path.is_file():
        raise UsageError(f"{path}: no such experiment folder or file")
    return load_conf(path) if path.suffix == ".conf" else load_toml(path)


def git(repo: Path, *args: str, timeout_s: float = 60.0) -> str:
    """Run git in ``repo``; return stdout, raise UsageError with git's message on failure."""
    done = run_command(["git", "-C", str(repo), *args], cwd=repo, timeout_s=timeout_s)
    if not done.ok:
        detail = (done.stderr or done.stdout).strip().splitlines()
        raise UsageError(f"git {' '.join(args)} in {repo}: {detail[-1] if detail else 'failed'}")
    return done.stdout


def _check_target(exp: Experiment) -> None:
    target = exp.target_repo
    if not target.is_dir():
        raise UsageError(f"{exp.source}: target repo {target} does not exist")
    done = run_command(["git", "-C", str(target), "rev-parse", "--git-dir"], cwd=target, timeout_s=30)
    if not done.ok:
        raise UsageError(f"{exp.source}: target repo {target} is not a git repository")
    ref = run_command(
        ["git", "-C", str(target), "rev-parse", "--verify", "--quiet", f"{exp.base_ref}^{{commit}}"],
        cwd=target,
        timeout_s=30,
    )
    if not ref.ok:
        raise UsageError(f"{exp.source}: unknown base ref {exp.base_ref!r} in {target}")


def resolve_spec(exp: Experiment, spec: str) -> str:
    """Where ``spec`` is: a path in the tree at BASE_REF (as given or under ralph/specs/), else a file
    relative to the experiment folder (returned absolute)."""
    candidates = [spec] if "/" in spec else [spec, f"ralph/specs/{spec}"]
    for candidate in candidates:
        done = run_command(
            ["git", "-C", str(exp.target_repo), "cat-file", "-e", f"{exp.base_ref}:{candidate}"],
            cwd=exp.target_repo,
            timeout_s=30,
        )
        if done.ok:
            return candidate
    local = (exp.folder / spec).resolve()
    if local.is_file():
        return str(local)
    looked = ", ".join(candidates)
    raise UsageError(
        f"{exp.source}: spec {spec!r} not found at {exp.base_ref} (looked for {looked}) or in {exp.folder}"
    )


def settings_for(exp: Experiment, arm: Arm, repo: Path | None = None) -> Settings:
    """The settings a cell of ``arm`` resolves to (config of ``repo``, default the target); UsageError if the
    profile is unknown or an override names an unknown key or a wrong type."""
    try:
        return load_settings(repo or exp.target_repo, profile=arm.profile, overrides=dict(arm.overrides))
    except ConfigError as err:
        raise UsageError(f"{exp.source}: {arm.name}: {err}") from None


def validate_experiment(exp: Experiment) -> None:
    """Check the experiment against git and the settings; raise a one-line UsageError on the first problem."""
    _check_target(exp)
    for spec in dict.fromkeys([exp.spec, *(a.spec for a in exp.arms if a.spec)]):
        resolve_spec(exp, spec)
    for arm in exp.arms:
        settings_for(exp, arm)
