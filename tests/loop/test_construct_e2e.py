"""`ralph plan` and `ralph construct` through the CLI (subprocesses) on the bundled scenario, sim backend."""

from __future__ import annotations

import json
import subprocess
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest
from tests.loop.e2e import (
    SPEC,
    copy_repo,
    create,
    end_records,
    git,
    lines,
    log_dir,
    ralph,
    tree_state,
    write_global_config,
)

from ralph.tix import TaskStatus, TicketStore

IDENTITY = (("NAME", "Test Author"), ("EMAIL", "author@example.invalid"))


@pytest.fixture(scope="module")
def planned(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """A scenario repo planned once with the opus profile (copied per test)."""
    base = tmp_path_factory.mktemp("planned")
    home = base / "home"
    env = {"HOME": str(home), "XDG_CONFIG_HOME": str(home / ".config"), "XDG_STATE_HOME": str(home / "state")}
    env |= {f"GIT_{who}_{what}": value for who in ("AUTHOR", "COMMITTER") for what, value in IDENTITY}
    repo = create(base / "repo")
    done = ralph(repo, "plan", SPEC, env={**env, "RALPH_PROFILE": "opus"})
    assert done.returncode == 0, done.stderr
    yield repo


@pytest.fixture
def repo(planned: Path, tmp_path: Path, isolated_home: Path) -> Path:
    write_global_config(isolated_home)
    return copy_repo(planned, tmp_path / "repo")


def _tasks(repo: Path) -> list[str]:
    return [
        t.name for t in TicketStore.open(repo).tasks(status=tuple(TaskStatus)) if t.status.label != "deleted"
    ]


def test_plan_records_a_run_and_replanning_does_not_duplicate(repo: Path, isolated_home: Path) -> None:
    before = _tasks(repo)
    done = ralph(repo, "plan", SPEC, env={"RALPH_PROFILE": "opus"})
    assert done.returncode == 0, done.stderr
    assert "0 added" in done.stdout
    assert sorted(_tasks(repo)) == sorted(before) and len(before) == len(set(before))
    runs = lines(log_dir(isolated_home) / "runs.jsonl")
    assert [r["record"] for r in runs] == ["start", "end"]
    stages = lines(log_dir(isolated_home) / "iterations.jsonl")
    assert [(s["stage"], s["iteration"]) for s in stages] == [("PLAN", 0)]
    assert lines(log_dir(isolated_home) / "calls.jsonl")


def test_strong_profile_completes_and_the_gate_passes(repo: Path, isolated_home: Path) -> None:
    done = ralph(repo, "construct", "--max-iterations", "40", env={"RALPH_PROFILE": "opus"})
    assert done.returncode == 0, done.stdout + done.stderr
    assert "complete:" in done.stdout
    assert any(
        line.startswith("  VERIFY ") and ": accepted | sim/" in line for line in done.stdout.splitlines()
    )
    assert "exit: complete - every task of the spec is accepted" in done.stdout
    gate = "! grep -rnwE 'heap_t|heap_create|str_t|str_new|value_t|gc_t|gc_init' src include tests"
    assert subprocess.run(["bash", "-c", gate], cwd=repo, check=False).returncode == 0
    assert subprocess.run(["make", "-s", "test"], cwd=repo, capture_output=True, check=False).returncode == 0
    end = end_records(isolated_home)[-1]
    assert end["exit_reason"] == "complete" and end["tasks"]["completed"] == end["tasks"]["total"]
    assert end["config_snapshot"]["max_iterations"] == 40
    iterations = lines(log_dir(isolated_home) / "iterations.jsonl")
    assert {r["stage"] for r in iterations} >= {"BUILD", "VERIFY"}
    subjects = git(repo, "log", "--format=%s").splitlines()
    assert sum(1 for s in subjects if s.startswith("ralph: accept")) >= 4
    assert git(repo, "status", "--porcelain", "--", ".", ":!.tix") == ""
    status = ralph(repo, "status", "--json")
    assert '"spec": "runtime-refactor.md"' in status.stdout


@pytest.mark.parametrize(
    ("flags", "env", "reason", "code"),
    [
        (["--max-iterations", "1"], {}, "max_iterations", 3),
        (["--max-wall-time", "30"], {}, "wall_time", 3),
        (["--max-cost", "0.01"], {}, "cost_limit", 3),
        (["--max-tokens", "1000"], {}, "token_limit", 3),
        (["--max-api-calls", "2"], {}, "api_call_limit", 3),
        (["--max-failures", "1"], {"RALPH_PROFILE": "broken"}, "circuit_breaker", 4),
        ([], {"RALPH_PROGRESS_STALL_ABORT_S": "20"}, "progress_stall", 4),
        ([], {"RALPH_LOOP_DETECTION_THRESHOLD": "1"}, "loop_detected", 4),
    ],
)
def test_each_limit_stops_the_run_with_its_reason(
    repo: Path, isolated_home: Path, flags: list[str], env: dict[str, str], reason: str, code: int
) -> None:
    done = ralph(repo, "construct", *flags, env={"RALPH_PROFILE": "opus", **env})
    assert done.returncode == code, done.stdout + done.stderr
    end = end_records(isolated_home)[-1]
    assert end["exit_reason"] == reason
    assert end["tasks"]["completed"] <= end["tasks"]["total"]


def test_killed_build_is_decomposed_into_subtasks(repo: Path, isolated_home: Path) -> None:
    done = ralph(repo, "construct", "--max-iterations", "1", env={"RALPH_PROFILE": "broken"})
    assert done.returncode == 3, done.stdout + done.stderr
    store = TicketStore.open(repo)
    parents = [t for t in store.tasks(status=TaskStatus.DELETED)]
    assert len(parents) == 1 and parents[0].kill_reason == "timeout" and parents[0].kill_count == 1
    subtasks = [t for t in store.tasks() if t.parent == parents[0].id]
    assert 2 <= len(subtasks) <= 5
    assert all(t.decompose_depth == 1 and t.spec == parents[0].spec for t in subtasks)
    stages = [
        (r["stage"], r["outcome"], r.get("kill_reason"))
        for r in lines(log_dir(isolated_home) / "iterations.jsonl")
    ]
    assert ("BUILD", "failure", "timeout") in stages and ("DECOMPOSE", "success", None) in stages
    assert git(repo, "status", "--porcelain", "--", ".", ":!.tix") == ""
    out = done.stdout.splitlines()
    build = next(line for line in out if line.startswith("  BUILD "))
    assert f"{parents[0].id} " in build and ": failed: timeout |" in build and "[local, simulated]" in build
    assert any(line.startswith("  DECOMPOSE ") and ": decomposed into " in line for line in out)
    assert any(line.startswith("iteration 1 done: 0/") and " local, " in line for line in out)
    assert any(line.startswith("exit: max_iterations - ") and "--max-iterations" in line for line in out)
    state = json.loads((repo / ".tix" / "ralph-state.json").read_text())
    assert state["exit_reason"] == "max_iterations" and state["ended_at"] >= state["started_at"]
    assert [(k["stage"], k["task_id"], k["reason"]) for k in state["recent_kills"]] == [
        ("BUILD", parents[0].id, "timeout")
    ]
    assert state["host"] and state["last_progress_at"] and state["loop_repeats"] >= 1


def test_repeated_rejection_raises_one_issue_and_reverts_exactly(repo: Path, isolated_home: Path) -> None:
    (repo / "notes.txt").write_text("an ignored user file\n")
    (repo / ".git" / "info" / "exclude").write_text("notes.txt\n")
    before = tree_state(repo)
    env = {"RALPH_PROFILE": "wrong", "RALPH_MAX_RETRIES_PER_TASK": "1"}
    done = ralph(repo, "construct", "--max-iterations", "2", env=env)
    assert done.returncode == 3, done.stdout + done.stderr
    store = TicketStore.open(repo)
    parked = [t for t in store.tasks() if "parked" in t.labels]
    assert parked and all(t.retries == 1 for t in parked)
    for task in parked:
        stones = [s for s in store.tombstones() if s.id == task.id]
        assert len(stones) == 1 and not stones[0].is_accept
        assert str(task.meta.get("last_revert", "")).strip()
    texts = [i.name for i in store.issues(open_only=False)]
    assert sum(1 for t in texts if t.startswith("REPEATED REJECTION")) == len(parked)
    assert tree_state(repo) == before
    assert (repo / "notes.txt").read_text() == "an ignored user file\n"
    verify = [line for line in done.stdout.splitlines() if line.startswith("  VERIFY ")]
    assert verify and all(": rejected: " in line and ", parked |" in line for line in verify)


def test_bad_input_is_one_line_exit_2_and_changes_nothing(repo: Path, tmp_path: Path) -> None:
    plain = tmp_path / "plain"
    plain.mkdir()
    assert ralph(plain, "construct").returncode == 2
    head = git(repo, "rev-parse", "HEAD")
    cases = [
        (["construct", "--spec", "missing.md"], {}),
        (["construct"], {"RALPH_PROFILE": "no-such-profile"}),
        (["plan", "ralph/specs/nope.md"], {}),
    ]
    for args, env in cases:
        done = ralph(repo, *args, env=env)
        assert done.returncode == 2, (args, done.stdout, done.stderr)
        assert len(done.stderr.strip().splitlines()) == 1, done.stderr
    (repo / "src" / "heap.c").write_text("dirty\n")
    dirty = ralph(repo, "construct", env={"RALPH_PROFILE": "opus"})
    assert dirty.returncode == 2 and "uncommitted" in dirty.stderr
    git(repo, "checkout", "--", "src/heap.c")
    git(repo, "switch", "-q", "main")
    on_main = ralph(repo, "construct", "--spec", "runtime-refactor.md", env={"RALPH_PROFILE": "opus"})
    assert on_main.returncode == 2 and "default branch" in on_main.stderr
    assert git(repo, "rev-parse", "ralph/work") == head


def test_no_store_is_a_usage_error(tmp_path: Path) -> None:
    repo = create(tmp_path / "fresh")
    done = ralph(repo, "construct", "--spec", "runtime-refactor.md")
    assert done.returncode == 2 and "ralph init" in done.stderr


def test_init_creates_the_layout_and_a_marked_branch(git_repo: Path) -> None:
    done = ralph(git_repo, "init", "--branch", "ralph/try")
    assert done.returncode == 0, done.stderr
    assert (git_repo / "ralph" / "specs" / "example.md").is_file() and (git_repo / ".tix").is_dir()
    assert git(git_repo, "branch", "--show-current").strip() == "ralph/try"
    assert git(git_repo, "config", "branch.ralph/try.ralph-created").strip() == "true"
    assert ralph(git_repo, "init", "--branch", "ralph/try").returncode == 0
    status = ralph(git_repo, "status", "--json")
    assert status.returncode == 0 and '"spec": null' in status.stdout


def test_iteration_records_count_every_stage_once(repo: Path, isolated_home: Path) -> None:
    done = ralph(repo, "construct", "--max-iterations", "3", env={"RALPH_PROFILE": "opus"})
    assert done.returncode == 3
    records = lines(log_dir(isolated_home) / "iterations.jsonl")
    calls = lines(log_dir(isolated_home) / "calls.jsonl")
    assert sum(r["api_calls"] for r in records) == len(calls)
    end = end_records(isolated_home)[-1]
    assert end["api_calls"]["remote"] + end["api_calls"]["local"] == len(calls)
    assert Counter(r["iteration"] for r in records).keys() == {1, 2, 3}
    names = _tasks(repo)
    assert len(names) == len(set(names))
