"""Attempt snapshots, exact revert on concrete cases, the diff for VERIFY, and crash safety of revert."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from tests.gitops.repos import git, tree_state, write

from ralph.errors import GitError
from ralph.gitops import (
    SNAPSHOT_REF,
    changed_paths_since,
    diff_since,
    drop_snapshot,
    head_sha,
    pending_snapshot,
    recover,
    revert_attempt,
    snapshot_attempt,
)
from ralph.gitops.snapshot import load_snapshot
from ralph.proc import reap_orphans


@pytest.fixture
def repo(git_repo: Path) -> Path:
    """``git_repo`` with an ignore file, a source file, a user's untracked note, ignored output and .tix."""
    write(git_repo, ".gitignore", "build/\n*.log\n")
    write(git_repo, "src/app.py", "print('v1')\n")
    git(git_repo, "add", "-A")
    git(git_repo, "commit", "-q", "-m", "app")
    write(git_repo, "NOTES.txt", "the user's own notes\n")
    write(git_repo, "build/out.bin", b"\x00\x01")
    write(git_repo, ".tix/plan.jsonl", '{"id":"t-1"}\n')
    return git_repo


def test_clean_tree_snapshot_reverts_new_and_changed_files(git_repo: Path) -> None:
    snap = snapshot_attempt(git_repo)
    before = tree_state(git_repo)
    write(git_repo, "README.md", "changed\n")
    write(git_repo, "pkg/new.py", "x = 1\n")
    report = revert_attempt(git_repo, snap)
    assert tree_state(git_repo) == before
    assert report.restored == ("README.md",)
    assert report.removed == ("pkg/new.py",)
    assert "restored 1" in report.summary() and "pkg/new.py" in report.summary()


def test_revert_keeps_user_untracked_ignored_and_tix(repo: Path) -> None:
    snap = snapshot_attempt(repo)
    write(repo, "NOTES.txt", "agent scribbled here\n")
    write(repo, "build/out.bin", b"rebuilt")
    write(repo, "build/extra.o", b"new build output")
    write(repo, ".tix/plan.jsonl", '{"id":"t-1","status":"d"}\n')
    os.remove(repo / "src/app.py")
    revert_attempt(repo, snap)
    assert (repo / "NOTES.txt").read_text() == "the user's own notes\n"
    assert (repo / "src/app.py").read_text() == "print('v1')\n"
    assert (repo / "build/out.bin").read_bytes() == b"rebuilt"
    assert (repo / "build/extra.o").exists()
    assert (repo / ".tix/plan.jsonl").read_text() == '{"id":"t-1","status":"d"}\n'


def test_snapshot_leaves_index_head_and_status_alone(repo: Path) -> None:
    git(repo, "add", "NOTES.txt")
    index = (repo / ".git" / "index").read_bytes()
    status = git(repo, "status", "--porcelain=v1", "-z")
    head = head_sha(repo, short=False)
    snapshot_attempt(repo)
    assert (repo / ".git" / "index").read_bytes() == index
    assert git(repo, "status", "--porcelain=v1", "-z") == status
    assert head_sha(repo, short=False) == head


def test_revert_undoes_agent_commits_and_branch_switch(repo: Path) -> None:
    git(repo, "switch", "-q", "-c", "ralph/work")
    snap = snapshot_attempt(repo)
    write(repo, "src/app.py", "print('v2')\n")
    git(repo, "commit", "-q", "-am", "agent commit")
    git(repo, "switch", "-q", "-c", "agent-side")
    report = revert_attempt(repo, snap)
    assert git(repo, "symbolic-ref", "HEAD").strip() == "refs/heads/ralph/work"
    assert head_sha(repo, short=False) == snap.head
    assert report.head_reset_from is not None
    assert (repo / "src/app.py").read_text() == "print('v1')\n"
    assert git(repo, "rev-parse", "main").strip() == snap.head


def test_snapshot_is_kept_under_a_ref_until_dropped(repo: Path) -> None:
    snap = snapshot_attempt(repo)
    assert git(repo, "rev-parse", SNAPSHOT_REF).strip() == snap.commit
    assert pending_snapshot(repo) == snap
    assert load_snapshot(repo, snap.commit) == snap
    drop_snapshot(repo, snap)
    assert pending_snapshot(repo) is None


def test_load_snapshot_rejects_an_ordinary_commit(repo: Path) -> None:
    with pytest.raises(GitError, match="not a ralph attempt snapshot"):
        load_snapshot(repo, head_sha(repo, short=False))


def test_diff_since_includes_new_files_and_a_stat_header(repo: Path) -> None:
    snap = snapshot_attempt(repo)
    assert diff_since(repo, snap, 10_000) == ""
    write(repo, "src/app.py", "print('v2')\n")
    write(repo, "src/néw module.py", "def f():\n    return 1\n")
    write(repo, ".tix/plan.jsonl", "{}\n")
    write(repo, "debug.log", "ignored\n")
    diff = diff_since(repo, snap, 10_000)
    head, _, patch = diff.partition("\n\n")
    assert "src/app.py" in head and "src/néw module.py" in head and "2 files changed" in head
    assert "+def f():" in patch and "-print('v1')" in patch
    assert ".tix" not in diff and "debug.log" not in diff
    assert changed_paths_since(repo, snap) == ("src/app.py", "src/néw module.py")


def test_diff_since_is_truncated_with_a_marker(repo: Path) -> None:
    snap = snapshot_attempt(repo)
    write(repo, "big.txt", "".join(f"line {i}\n" for i in range(5000)))
    diff = diff_since(repo, snap, 2_000)
    assert len(diff.encode()) < 2_200
    assert diff.rstrip().endswith("bytes shown ...]")
    assert "big.txt" in diff


def test_revert_restores_mode_and_symlink_and_file_dir_swaps(repo: Path) -> None:
    write(repo, "run.sh", "#!/bin/sh\n")
    (repo / "run.sh").chmod(0o755)
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "script")
    snap = snapshot_attempt(repo)
    before = tree_state(repo)
    (repo / "run.sh").chmod(0o644)
    os.remove(repo / "src/app.py")
    write(repo, "src/app.py/inner.py", "now a dir\n")
    (repo / "lnk").symlink_to("/etc")
    write(repo, "build", "a file where an ignored dir was")
    report = revert_attempt(repo, snap)
    after = tree_state(repo)
    assert {k: v for k, v in after.items() if k != "build"} == {
        k: v for k, v in before.items() if not k.startswith("build")
    }
    assert report.unrestored == ()


def _revert_in_child(repo: Path, commit: str) -> subprocess.Popen[bytes]:
    code = (
        "import sys; from pathlib import Path; from ralph.gitops import revert_attempt;"
        "from ralph.gitops.snapshot import load_snapshot;"
        "r = Path(sys.argv[1]); revert_attempt(r, load_snapshot(r, sys.argv[2]))"
    )
    return subprocess.Popen([sys.executable, "-c", code, str(repo), commit])


@pytest.mark.parametrize("delay_s", [0.15, 0.3, 0.6])
def test_revert_killed_midway_finishes_on_the_next_call(repo: Path, delay_s: float) -> None:
    for i in range(150):
        write(repo, f"pkg/m{i}.py", f"x = {i}\n")
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "many files")
    snap = snapshot_attempt(repo)
    before = tree_state(repo)
    for i in range(150):
        write(repo, f"pkg/m{i}.py", f"x = {i} + 1\n")
        write(repo, f"gen/g{i}.py", "new\n")
    git(repo, "add", "-A")
    child = _revert_in_child(repo, snap.commit)
    time.sleep(delay_s)
    child.send_signal(signal.SIGKILL)
    child.wait()
    reap_orphans()  # as a restarted run does first: its git may still be writing files
    assert recover(repo, min_lock_age_s=0.0).pending_snapshot == snap
    revert_attempt(repo, snap)
    assert tree_state(repo) == before
    assert git(repo, "status", "--porcelain=v1", "-uall", "--", ".", ":(exclude).tix") == ""
