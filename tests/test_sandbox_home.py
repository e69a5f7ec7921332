"""Under bwrap a check sees no home (keys, logins, tokens) and no /run, yet the worktree, even one under the
home, stays visible and writable, and what checks run from a home (PATH folders, the worktree .venv's base
interpreter, toolchains, a linked worktree's git dir) still works, read-only. Without bwrap the header
says the home is not hidden."""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from ralph.sandbox import choose_sandbox, run_check, sandbox_mode

needs_bwrap = pytest.mark.skipif(choose_sandbox("auto").used != "bwrap", reason="bubblewrap cannot run here")
KEY = "PLANTED-SECRET-5550123"
HOME_SECRETS = {
    ".ssh",
    ".gnupg",
    ".aws",
    ".config",
    ".docker",
    ".kube",
    ".netrc",
    ".npmrc",
    ".claude",
    ".codex",
}


@pytest.fixture
def home(monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A HOME off /tmp (bwrap's private /tmp would hide one there anyway) with a planted key and login."""
    folder = Path(tempfile.mkdtemp(prefix="ralph-sandbox-home-", dir="/var/tmp"))
    for secret in (".ssh/id_ed25519", ".config/agent/auth.json", ".cargo/credentials.toml", "notes.txt"):
        (folder / secret).parent.mkdir(parents=True, exist_ok=True)
        (folder / secret).write_text(KEY)
    monkeypatch.setenv("HOME", str(folder))
    yield folder
    shutil.rmtree(folder, ignore_errors=True)


def script(path: Path, body: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(f"#!/bin/sh\n{body}\n")
    path.chmod(0o755)
    return path


def git(cwd: Path, *args: str) -> None:
    subprocess.run(["git", "-C", str(cwd), *args], check=True, capture_output=True)


@needs_bwrap
def test_home_is_hidden_but_a_worktree_under_it_is_visible_and_writable(home: Path) -> None:
    tree = home / "src" / "project"
    (tree / ".git").mkdir(parents=True)
    (tree / "data.txt").write_text("inside\n")
    secrets = " ".join(str(home / s) for s in (".ssh/id_ed25519", ".config/agent/auth.json", "notes.txt"))
    result = run_check(
        f"cat {secrets}; ls -A $HOME; cat data.txt; echo made > new.txt; echo x > .git/HEAD; echo end",
        cwd=tree,
        timeout_s=20,
        mode="bwrap",
    )
    assert KEY not in result.output_tail
    assert result.output_tail.count("No such file or directory") == 3, result.output_tail
    assert "inside\n" in result.output_tail and result.output_tail.endswith("end\n")
    assert (tree / "new.txt").read_text() == "made\n"
    assert not (tree / ".git" / "HEAD").exists()
    assert (home / ".ssh" / "id_ed25519").read_text() == KEY


@needs_bwrap
def test_run_and_the_other_homes_are_hidden(home: Path) -> None:
    """Only folders shown again for tools may appear in /root or /home; /run is empty."""
    folders = [name for name in ("/run", "/root", "/home") if os.path.isdir(name) and os.listdir(name)]
    result = run_check(
        "; ".join(f"ls -A {name} | sed 's|^|{name}/|'" for name in folders),
        cwd=home,
        timeout_s=20,
        mode="bwrap",
    )
    shown = result.output_tail.split()
    assert result.passed and not [p for p in shown if p.startswith("/run/")], result.output_tail
    assert not [p for p in shown if not os.path.isdir(p) or p.rsplit("/", 1)[1] in HOME_SECRETS], shown


@needs_bwrap
def test_tools_from_the_home_still_run_read_only(home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    script(home / ".local" / "bin" / "on-path", "echo on-path-ran")
    venv = home / ".local" / "share" / "tools" / "linted"
    (venv / "pyvenv.cfg").parent.mkdir(parents=True)
    base = home / ".local" / "share" / "python" / "cpython-3"
    (venv / "pyvenv.cfg").write_text(f"home = {base}/bin\n")
    script(venv / "bin" / "linted", f"{base}/bin/interp linted")
    script(base / "bin" / "interp", 'echo "interp ran $1"')
    (home / ".local" / "bin" / "linted").symlink_to(venv / "bin" / "linted")
    script(home / ".rustup" / "toolchains" / "stable" / "bin" / "rustc", "echo rustc-ran")
    script(home / ".cargo" / "bin" / "cargo", f"{home}/.rustup/toolchains/stable/bin/rustc")
    monkeypatch.setenv("PATH", f"{home}/.local/bin:{home}/.cargo/bin:{home}:{home}/.ssh:{os.environ['PATH']}")
    tree = home / "project"
    project_base = home / ".pyenv" / "versions" / "3.99" / "bin"
    (tree / ".venv").mkdir(parents=True)
    (tree / ".venv" / "pyvenv.cfg").write_text(f"home = {project_base}\n")
    script(project_base / "python", "echo project-python-ran")
    (tree / ".venv" / "bin").mkdir()
    (tree / ".venv" / "bin" / "python").symlink_to(project_base / "python")
    result = run_check(
        f"on-path; linted; cargo; .venv/bin/python; cat {home}/.cargo/credentials.toml {home}/notes.txt"
        f" {home}/.ssh/id_ed25519; touch {home}/.local/bin/written",
        cwd=tree,
        timeout_s=20,
        mode="bwrap",
    )
    tail = result.output_tail
    assert "on-path-ran\ninterp ran linted\nrustc-ran\nproject-python-ran\n" in tail, tail
    assert KEY not in tail and "Read-only file system" in tail
    assert not (home / ".local" / "bin" / "written").exists()


@needs_bwrap
def test_a_linked_worktree_of_a_repo_in_the_home_can_use_git(home: Path) -> None:
    repo, linked = home / "repo", home / "cells" / "one"
    repo.mkdir()
    git(repo, "init", "-q", "-b", "main")
    (repo / "f.txt").write_text("f\n")
    git(repo, "add", "f.txt")
    git(repo, "-c", "user.name=t", "-c", "user.email=t@example.invalid", "commit", "-q", "-m", "first")
    git(repo, "worktree", "add", "-q", "-b", "cell", str(linked))
    result = run_check("git log --format=%s -1 && cat f.txt", cwd=linked, timeout_s=20, mode="bwrap")
    assert result.passed and result.output_tail.endswith("first\nf\n"), result.output_tail


def test_the_header_says_whether_the_home_is_hidden() -> None:
    assert sandbox_mode("none").startswith("none (sandbox = none: scrubbed environment and timeout only)")
    assert "home NOT hidden" in sandbox_mode("none")
    auto = choose_sandbox("auto")
    assert ("homes and /run hidden" in str(auto)) is (auto.used == "bwrap")
    assert ("home NOT hidden" in str(auto)) is (auto.used == "none")
