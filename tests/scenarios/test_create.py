"""create_scenario makes a real git repo whose config selects the six simulated profiles."""

from __future__ import annotations

import subprocess
import time
from pathlib import Path

import pytest

from ralph.errors import UsageError
from ralph.scenarios import WORK_BRANCH, create_scenario, list_scenarios, load_scenario, scenario_for_spec
from ralph.settings import load_settings
from ralph.stage import Stage

PROFILES = {
    "hybrid": ("sim/opus-4.6", "sim/devstral-small-2"),
    "opus": ("sim/opus-4.6", "sim/opus-4.6"),
    "sonnet": ("sim/sonnet-4.5", "sim/sonnet-4.5"),
    "opus-sonnet": ("sim/opus-4.6", "sim/sonnet-4.5"),
    "sonnet-hybrid": ("sim/sonnet-4.5", "sim/devstral-small-2"),
    "devstral": ("sim/devstral-small-2", "sim/devstral-small-2"),
}


def git(repo: Path, *args: str) -> str:
    return subprocess.run(["git", "-C", str(repo), *args], capture_output=True, text=True, check=True).stdout


def test_list_and_load() -> None:
    names = [s.name for s in list_scenarios()]
    assert "c-runtime-refactor" in names
    scenario = load_scenario("c-runtime-refactor")
    assert scenario.spec_path.is_file()
    assert scenario_for_spec("ralph/specs/runtime-refactor.md") == scenario
    assert scenario_for_spec("other.md") is None


def test_unknown_scenario_lists_known_names() -> None:
    with pytest.raises(UsageError, match=r"unknown scenario 'nope' \(known: .*c-runtime-refactor"):
        load_scenario("nope")


def test_create_makes_repo_on_marked_work_branch(tmp_path: Path) -> None:
    dest = tmp_path / "demo"
    started = time.monotonic()
    created = create_scenario("c-runtime-refactor", dest)
    assert time.monotonic() - started < 10
    assert git(dest, "rev-parse", "--abbrev-ref", "HEAD").strip() == WORK_BRANCH
    assert git(dest, "config", f"branch.{WORK_BRANCH}.ralph-created").strip() == "true"
    assert git(dest, "rev-list", "--count", "main").strip() == "1"
    assert git(dest, "rev-parse", "main").strip() == created.commit
    assert git(dest, "status", "--porcelain") == ""
    tracked = git(dest, "ls-files").split()
    assert {"Makefile", "src/heap.c", "tests/tests.def", "ralph/config.toml", ".gitignore"} <= set(tracked)
    assert created.spec == "ralph/specs/runtime-refactor.md" and created.spec in tracked
    build = subprocess.run(["make", "-s", "test"], cwd=dest, capture_output=True, text=True)
    assert build.returncode == 0, build.stderr
    assert git(dest, "status", "--porcelain") == "", "build output must be ignored"


@pytest.mark.parametrize("profile", sorted(PROFILES))
def test_config_routes_profiles_to_simulated_models(profile: str, tmp_path: Path) -> None:
    dest = tmp_path / "demo"
    create_scenario("c-runtime-refactor", dest)
    settings = load_settings(dest, profile=profile, env={"HOME": str(tmp_path)})
    reasoning, build = PROFILES[profile]
    for stage in (Stage.PLAN, Stage.INVESTIGATE, Stage.VERIFY, Stage.DECOMPOSE):
        assert settings.route(stage).model == reasoning
        assert settings.route(stage).backend == "sim"
    route = settings.route(Stage.BUILD)
    assert route.model == build
    assert route.is_local == (build == "sim/devstral-small-2")
    assert (route.price is None) == route.is_local


def test_create_refuses_non_empty_destination(tmp_path: Path) -> None:
    dest = tmp_path / "full"
    dest.mkdir()
    (dest / "keep.txt").write_text("mine\n")
    with pytest.raises(UsageError, match="exists and is not an empty directory"):
        create_scenario("c-runtime-refactor", dest)
    assert [p.name for p in dest.iterdir()] == ["keep.txt"]


def test_create_accepts_empty_directory(tmp_path: Path) -> None:
    dest = tmp_path / "empty"
    dest.mkdir()
    assert create_scenario("c-runtime-refactor", dest).repo == dest


def test_create_accepts_a_relative_destination(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    created = create_scenario(list_scenarios()[0].name, Path("relative-target"))
    assert created.repo == tmp_path / "relative-target"
    assert (tmp_path / "relative-target" / ".git").is_dir()
