"""experiment.toml and experiment.conf parsing, arms/variants/sweeps, cells, and validation errors."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from ralph.bench.experiment import env_for_overrides
from ralph.bench.loading import load_experiment, validate_experiment
from ralph.errors import UsageError

PROFILES_TOML = """
[profiles.opus]
model = "sim/opus-4.6"
[profiles.sonnet]
model = "sim/sonnet-4.5"
"""


@pytest.fixture
def target(git_repo: Path) -> Path:
    (git_repo / "ralph" / "specs").mkdir(parents=True)
    (git_repo / "ralph" / "specs" / "refactor.md").write_text("# Refactor\n")
    (git_repo / "ralph" / "config.toml").write_text(PROFILES_TOML)
    subprocess.run(["git", "-C", str(git_repo), "add", "."], check=True)
    subprocess.run(["git", "-C", str(git_repo), "commit", "-qm", "spec"], check=True)
    subprocess.run(["git", "-C", str(git_repo), "tag", "v1"], check=True)
    return git_repo


def write(folder: Path, text: str, name: str = "experiment.toml") -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / name).write_text(text)
    return folder


def toml(target: Path, extra: str = "", profiles: str = '["opus", "sonnet"]') -> str:
    return f'target_repo = "{target}"\nbase_ref = "v1"\nspec = "refactor.md"\nprofiles = {profiles}\n{extra}'


def test_minimal_toml_defaults_and_cells(tmp_path: Path, target: Path) -> None:
    exp = load_experiment(write(tmp_path / "001-showdown", toml(target, "replicates = 2\n")))
    assert exp.name == "001-showdown" and exp.replicates == 2
    assert (exp.limits.max_iterations, exp.limits.max_wall_time_s, exp.limits.max_failures) == (25, 7200, 3)
    assert exp.log_dir == tmp_path / "001-showdown" / "logs"
    assert exp.worktree_base == target.parent / f"{target.name}-experiments"
    assert exp.build is not None and exp.build.command == "make build"
    assert [c.name for c in exp.cells()] == ["opus-r1", "opus-r2", "sonnet-r1", "sonnet-r2"]
    cell = exp.cells()[1]
    assert cell.branch == "exp/001-showdown/opus-r2"
    assert cell.worktree == exp.worktree_base / "001-showdown" / "opus-r2"
    assert cell.results == exp.results_dir / "opus-r2"
    validate_experiment(exp)


def test_single_replicate_cells_are_named_by_profile(tmp_path: Path, target: Path) -> None:
    exp = load_experiment(write(tmp_path / "e", toml(target)))
    assert [c.branch for c in exp.cells()] == ["exp/e/opus", "exp/e/sonnet"]


def test_variants_sweeps_overrides_and_gates(tmp_path: Path, target: Path) -> None:
    extra = """
[settings]
sim_seed = 3
[overrides.opus]
max_retries_per_task = 2
[inline_profiles.cheap]
extends = "sonnet"
model_build = "sim/devstral-small-2"
[variants.opus-t5]
profile = "opus"
stage_timeout_ms = 300000
description = "five-minute stages"
[variants.opus-spec2]
profile = "opus"
spec = "other.md"
[[sweeps]]
profile = "sonnet"
key = "context_compact_pct"
values = [70, 90]
[[gates]]
label = "asan"
command = "make asan | tee x"
timeout_s = 30
[concurrency]
cloud = 2
local = 3
"""
    exp = load_experiment(write(tmp_path / "e", toml(target, extra, '["opus", "cheap"]')))
    names = [a.name for a in exp.arms]
    sweep = ["sonnet-context-compact-pct-70", "sonnet-context-compact-pct-90"]
    assert names == ["opus", "cheap", "opus-t5", "opus-spec2", *sweep]
    opus, cheap, t5, spec2, c70, _ = exp.arms
    assert (opus.profile, dict(opus.overrides)) == ("opus", {"sim_seed": 3, "max_retries_per_task": 2})
    assert (cheap.profile, cheap.overrides["model_build"], dict(cheap.changes)) == (
        "sonnet", "sim/devstral-small-2", {"model_build": "sim/devstral-small-2"},
    )  # fmt: skip
    assert t5.base == "opus" and t5.overrides["max_retries_per_task"] == 2  # inherits the base's overrides
    assert dict(t5.changes) == {"stage_timeout_ms": 300000} and t5.description == "five-minute stages"
    assert (
        spec2.spec == "other.md"
        and exp.spec_of(spec2) == "other.md"
        and dict(spec2.changes) == {"spec": "other.md"}
    )
    assert (c70.profile, c70.overrides["context_compact_pct"], c70.base) == ("sonnet", 70, "sonnet")
    assert exp.gates[0].command == "make asan | tee x" and exp.gates[0].timeout_s == 30
    assert (exp.concurrency.cloud, exp.concurrency.local) == (2, 3)
    assert env_for_overrides({"use_acp": False, "sim_seed": 3, "local_providers": ["x"]}) == {
        "RALPH_USE_ACP": "false", "RALPH_SIM_SEED": "3", "RALPH_LOCAL_PROVIDERS": '["x"]',
    }  # fmt: skip


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('base_ref = "v1"\nspec = "x"\nprofiles = ["a"]\n', "missing key 'target_repo'"),
        (
            'target_repo = "/x"\nbase_ref = "v1"\nspec = "x"\nprofiles = ["a"]\nbogus = 1\n',
            "key 'bogus': unknown",
        ),
        (
            'target_repo = "/x"\nbase_ref = "v1"\nspec = "x"\nprofiles = ["a"]\nreplicates = "2"\n',
            "expected int",
        ),
        ('target_repo = "/x"\nbase_ref = "v1"\nspec = "x"\nprofiles = ["a", "a"]\n', "defined twice"),
        ('target_repo = "/x"\nbase_ref = "v1"\nspec = "x"\nprofiles = ["a b/c"]\n', "names branches"),
        ('target_repo = "/x"\nbase_ref = "v1"\nspec = "x"\n', "missing key 'profiles'"),
        (
            'target_repo = "/x"\nbase_ref = "v1"\nspec = "x"\nprofiles = ["a"]\n[overrides.z]\nk = 1\n',
            "overrides.z",
        ),
        ('target_repo = "/x"\nbase_ref = "v1"\nspec = "x"\n[variants.v]\nk = 1\n', "variants.v.profile"),
        (
            'target_repo = "/x"\nbase_ref = "v1"\nspec = "x"\nprofiles = ["a"]\n[limits]\nmax_iters = 1\n',
            "limits.max",
        ),
        ("target_repo = \n", "invalid TOML"),
    ],
)
def test_toml_errors_are_one_line(tmp_path: Path, text: str, message: str) -> None:
    with pytest.raises(UsageError) as err:
        load_experiment(write(tmp_path / "e", text))
    assert message in str(err.value) and "\n" not in str(err.value)


def test_earlier_conf_is_read_as_is(tmp_path: Path, target: Path, isolated_home: Path) -> None:
    conf = f"""# comment
TARGET_REPO="{target}"
BASE_REF=v1   # trailing comment
SPEC='refactor.md'
PROFILES="opus sonnet"
MAX_WALL_TIME=3600
WORKTREE_BASE="$HOME/wt"
RALPH_LOG_DIR=${{HOME}}/logs
GATE_CHECKS="lint|ruff check . | head -5"
TEST_TIMEOUT=42
"""
    exp = load_experiment(write(tmp_path / "002-local", conf, "experiment.conf"))
    assert [a.name for a in exp.arms] == ["opus", "sonnet"]
    assert (exp.limits.max_wall_time_s, exp.limits.max_iterations) == (3600, 25)
    assert exp.worktree_base == isolated_home / "wt" and exp.log_dir == isolated_home / "logs"
    assert exp.results_dir == tmp_path / "002-local" / "results"
    assert [(g.label, g.command) for g in exp.gates] == [("lint", "ruff check . | head -5")]
    assert exp.test is not None and (exp.test.command, exp.test.timeout_s) == ("make test", 42.0)
    validate_experiment(exp)


def test_conf_defaults_follow_the_earlier_scripts(tmp_path: Path, isolated_home: Path) -> None:
    conf = 'TARGET_REPO=/src/valk\nBASE_REF=v1\nSPEC=s.md\nPROFILES="a"\n'
    exp = load_experiment(write(tmp_path / "e", conf, "experiment.conf"))
    assert exp.worktree_base == isolated_home / "src" / "valk-experiments"
    assert exp.log_dir == Path("/tmp/ralph-logs") and exp.gates == ()


def test_conf_missing_key(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="missing key BASE_REF"):
        load_experiment(write(tmp_path / "e", "TARGET_REPO=/x\nSPEC=s\nPROFILES=a\n", "experiment.conf"))


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"target_repo": "/nonexistent/repo"}, "does not exist"),
        ({"target_repo": "{plain}"}, "is not a git repository"),
        ({"base_ref": "v9"}, "unknown base ref 'v9'"),
        ({"spec": "missing.md"}, "spec 'missing.md' not found"),
        ({"profiles": '["opus", "haiku"]'}, "unknown profile 'haiku'"),
        ({"extra": "[overrides.opus]\nmax_iteratons = 3\n"}, "unknown key 'max_iteratons'"),
        ({"extra": "[overrides.opus]\nmax_iterations = 'many'\n"}, "max_iterations"),
    ],
)
def test_validation_errors(tmp_path: Path, target: Path, change: dict[str, str], message: str) -> None:
    plain = tmp_path / "plain"
    plain.mkdir()
    fields = {"target_repo": str(target), "base_ref": "v1", "spec": "refactor.md", "profiles": '["opus"]'}
    fields.update({k: v.replace("{plain}", str(plain)) for k, v in change.items() if k != "extra"})
    text = "\n".join(f'{k} = "{v}"' if k != "profiles" else f"{k} = {v}" for k, v in fields.items())
    exp = load_experiment(write(tmp_path / "e", text + "\n" + change.get("extra", "")))
    with pytest.raises(UsageError) as err:
        validate_experiment(exp)
    assert message in str(err.value) and "\n" not in str(err.value)
    assert err.value.exit_code == 2
