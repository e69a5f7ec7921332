"""Fixtures of the reliability tests: planned scenario repos (planned once per session, copied per test)."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import pytest
from tests.reliability.crashes import Outcome, run_uninterrupted
from tests.reliability.harness import copy_repo, make_template

from ralph.proc import is_secret_name

Template = Callable[[str], Path]


def _session_env(home: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not is_secret_name(k) and not k.startswith("RALPH_")}
    (home / ".gitconfig").parent.mkdir(parents=True, exist_ok=True)
    (home / ".gitconfig").write_text("[user]\n\tname = Ralph Test\n\temail = ralph@example.invalid\n")
    return {
        **env,
        "HOME": str(home),
        "XDG_CONFIG_HOME": str(home / ".config"),
        "XDG_STATE_HOME": str(home / ".local" / "state"),
        "GIT_CONFIG_NOSYSTEM": "1",
        "NO_COLOR": "1",
    }


@pytest.fixture(scope="session")
def planned_template(tmp_path_factory: pytest.TempPathFactory) -> Template:
    """``planned_template(profile)``: a scenario repo planned with ``profile`` (do not modify it)."""
    base = tmp_path_factory.mktemp("templates")
    made: dict[str, Path] = {}

    def get(profile: str) -> Path:
        if profile not in made:
            env = _session_env(base / f"home-{profile}")
            made[profile] = make_template(base / profile, profile, env)
        return made[profile]

    return get


@pytest.fixture(scope="session")
def uninterrupted(
    planned_template: Template, tmp_path_factory: pytest.TempPathFactory
) -> Callable[[str], Outcome]:
    """``uninterrupted(profile)``: how one construct on a copy of the template ends (run once per session)."""
    base = tmp_path_factory.mktemp("uninterrupted")
    made: dict[str, Outcome] = {}

    def get(profile: str) -> Outcome:
        if profile not in made:
            repo = copy_repo(planned_template(profile), base / profile)
            env = _session_env(base / f"home-{profile}")
            made[profile] = run_uninterrupted(repo, base / f"logs-{profile}", profile, base=env)
        return made[profile]

    return get


@pytest.fixture
def planned_repo(planned_template: Template, tmp_path: Path) -> Callable[..., Path]:
    """``planned_repo(profile, name="repo")``: a fresh copy of the planned scenario repo."""

    def get(profile: str = "opus", name: str = "repo") -> Path:
        return copy_repo(planned_template(profile), tmp_path / name)

    return get
