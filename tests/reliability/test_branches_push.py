"""Ralph works only on a branch it created unless told (`--allow-branch`), never on the default branch, and
pushes only with `--push`, fast-forward only: a local bare remote shows the branch unchanged without the
flag, moved with it, and a diverged remote branch left as it was."""

from __future__ import annotations

import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest
from tests.reliability.harness import finish, git, json_lines, read_state, start_construct

from ralph.tix import TicketStore

ONE = ("--max-iterations", "1")


def construct(repo: Path, *args: str) -> tuple[int, str]:
    return finish(start_construct(repo, *args, env={"RALPH_PROFILE": "opus"}, full_cli=True))


def sha(repo: Path, ref: str) -> str:
    return git(repo, "rev-parse", ref).strip()


@pytest.fixture
def repo(planned_repo: Callable[..., Path]) -> Path:
    return planned_repo("opus")


@pytest.fixture
def remote(repo: Path, tmp_path: Path) -> Path:
    """A bare remote ``origin`` holding ralph/work as it is now."""
    bare = tmp_path / "remote.git"
    subprocess.run(["git", "init", "-q", "--bare", str(bare)], check=True)
    git(repo, "remote", "add", "origin", str(bare))
    git(repo, "push", "-q", "origin", "ralph/work")
    return bare


@pytest.mark.parametrize("branch", ["main", "feature"])
def test_refuses_the_default_branch_and_foreign_ones_and_changes_nothing(
    repo: Path, isolated_home: Path, branch: str
) -> None:
    git(repo, "switch", "-q", "-C", branch)
    before = (sha(repo, "HEAD"), (repo / ".tix" / "plan.jsonl").read_bytes())
    code, out = construct(repo, *ONE)
    assert code == 2 and "refusing to run on" in out and f"'{branch}'" in out, out
    assert (sha(repo, "HEAD"), (repo / ".tix" / "plan.jsonl").read_bytes()) == before
    assert not list(isolated_home.rglob("runs.jsonl"))


def test_allow_branch_runs_on_a_foreign_branch_whose_tasks_are_its_own(repo: Path) -> None:
    git(repo, "switch", "-q", "-c", "feature")
    TicketStore.open(repo).adopt("ralph/work")
    code, out = construct(repo, *ONE, "--allow-branch")
    assert code == 3, out
    assert git(repo, "log", "-1", "--format=%s").startswith("ralph:")


def test_tasks_planned_on_another_branch_are_refused_before_any_agent_runs(
    repo: Path, isolated_home: Path
) -> None:
    git(repo, "switch", "-q", "-c", "feature")
    code, out = construct(repo, *ONE, "--allow-branch")
    assert code == 2, out
    assert "belong to branch ralph/work, not feature" in out
    assert not list(isolated_home.rglob("calls.jsonl"))


def test_without_push_the_remote_is_unchanged(repo: Path, remote: Path) -> None:
    before = sha(remote, "ralph/work")
    code, out = construct(repo, *ONE)
    assert code == 3, out
    assert sha(repo, "HEAD") != before and sha(remote, "ralph/work") == before


def test_with_push_the_remote_fast_forwards(repo: Path, remote: Path) -> None:
    code, out = construct(repo, *ONE, "--push")
    assert code == 3, out
    assert sha(remote, "ralph/work") == sha(repo, "HEAD")


def test_a_diverged_remote_is_never_overwritten(repo: Path, remote: Path, tmp_path: Path) -> None:
    other = tmp_path / "other"
    subprocess.run(["git", "clone", "-q", "-b", "ralph/work", str(remote), str(other)], check=True)
    (other / "NOTES.md").write_text("someone else's work\n")
    git(other, "add", "NOTES.md")
    git(other, "commit", "-qm", "someone else's commit")
    git(other, "push", "-q", "origin", "ralph/work")
    theirs = sha(remote, "ralph/work")
    code, out = construct(repo, *ONE, "--push")
    assert code == 3, out
    assert sha(remote, "ralph/work") == theirs
    activity = Path(read_state(repo)["activity_log"]).read_text()
    assert "push failed" in activity and "never forces" in activity
    runs = json_lines(Path(read_state(repo)["activity_log"]).parents[1] / "runs.jsonl")
    assert runs[-1]["exit_reason"] == "max_iterations"
