"""Sandboxed checks: bwrap isolation (files, network, env, processes) and the scrubbed fallback."""

from __future__ import annotations

import os
import shutil
import socket
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from ralph.errors import UsageError
from ralph.sandbox import choose_sandbox, run_check, sandbox_mode

BWRAP = choose_sandbox("auto")
needs_bwrap = pytest.mark.skipif(BWRAP.used != "bwrap", reason=f"bubblewrap unusable here: {BWRAP}")
BOTH = ["none", pytest.param("bwrap", marks=needs_bwrap)]


@pytest.fixture
def worktree(tmp_path: Path) -> Path:
    tree = tmp_path / "worktree"
    (tree / ".git").mkdir(parents=True)
    return tree


@pytest.fixture
def outside() -> Iterator[Path]:
    """A host directory off /tmp (so the private /tmp cannot hide a write there)."""
    path = Path(tempfile.mkdtemp(prefix="ralph-sandbox-test-", dir="/var/tmp"))
    yield path
    shutil.rmtree(path, ignore_errors=True)


@pytest.fixture
def listener() -> Iterator[int]:
    """A TCP server on the host's 127.0.0.1 that accepts connections; yields its port."""
    server = socket.create_server(("127.0.0.1", 0))
    server.settimeout(0.2)
    stop = threading.Event()

    def serve() -> None:
        while not stop.is_set():
            try:
                conn, _ = server.accept()
                conn.close()
            except OSError:
                continue

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    yield server.getsockname()[1]
    stop.set()
    thread.join(timeout=2)
    server.close()


def processes_with(marker: str) -> list[str]:
    found = []
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().decode(errors="replace")
        except OSError:
            continue
        if marker in cmdline:
            found.append(pid)
    return found


@needs_bwrap
def test_bwrap_check_writes_only_inside_the_worktree(worktree: Path, outside: Path) -> None:
    sibling = worktree.parent / "sibling.txt"
    result = run_check(
        f"echo ok > inside.txt; echo no > {outside}/escaped.txt; echo no > {sibling}; echo done",
        cwd=worktree,
        timeout_s=20,
        mode="bwrap",
    )
    assert result.sandbox == "bwrap"
    assert (worktree / "inside.txt").read_text() == "ok\n"
    assert not (outside / "escaped.txt").exists()
    assert not sibling.exists()
    assert "Read-only file system" in result.output_tail
    assert result.output_tail.endswith("done\n")


@needs_bwrap
def test_bwrap_keeps_git_metadata_read_only(worktree: Path) -> None:
    result = run_check("echo x > .git/HEAD", cwd=worktree, timeout_s=20, mode="bwrap")
    assert not result.passed
    assert not (worktree / ".git" / "HEAD").exists()


def test_none_mode_really_can_write_outside(worktree: Path, outside: Path) -> None:
    result = run_check(f"echo yes > {outside}/escaped.txt", cwd=worktree, timeout_s=20, mode="none")
    assert result.passed and result.sandbox == "none"
    assert (outside / "escaped.txt").exists()


@pytest.mark.parametrize(
    ("mode", "reachable"), [("none", True), pytest.param("bwrap", False, marks=needs_bwrap)]
)
def test_network_reachable_only_without_bwrap(
    worktree: Path, listener: int, mode: str, reachable: bool
) -> None:
    code = (
        f"import socket; socket.create_connection(('127.0.0.1', {listener}), timeout=3); print('connected')"
    )
    result = run_check(f'{sys.executable} -c "{code}"', cwd=worktree, timeout_s=20, mode=mode)
    assert result.passed is reachable, result.output_tail


@pytest.mark.parametrize("mode", BOTH)
def test_check_never_sees_a_planted_api_key(
    worktree: Path, monkeypatch: pytest.MonkeyPatch, mode: str
) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", "sk-planted-secret-123")
    monkeypatch.setenv("ANTHROPIC_AUTH_TOKEN", "planted-token-456")
    monkeypatch.setenv("RALPH_VISIBLE_MARKER", "harmless-789")
    result = run_check("env", cwd=worktree, timeout_s=20, mode=mode)
    assert result.passed
    assert "harmless-789" in result.output_tail
    assert "sk-planted-secret-123" not in result.output_tail
    assert "planted-token-456" not in result.output_tail


@pytest.mark.parametrize("mode", BOTH)
def test_timeout_kills_the_check_and_its_children(worktree: Path, mode: str) -> None:
    marker = f"{time.time_ns() % 10**7}.5"
    started = time.monotonic()
    result = run_check(
        f"sleep {marker} & sleep {marker} & sleep {marker}", cwd=worktree, timeout_s=1, mode=mode
    )
    assert result.timed_out and not result.passed and result.exit_code is None
    assert time.monotonic() - started < 6
    time.sleep(0.2)
    assert processes_with(marker) == []


@pytest.mark.parametrize("mode", BOTH)
def test_background_children_do_not_outlive_a_finished_check(worktree: Path, mode: str) -> None:
    marker = f"{time.time_ns() % 10**7}.25"
    result = run_check(f"(sleep {marker} &) ; echo started", cwd=worktree, timeout_s=20, mode=mode)
    assert result.passed and not result.timed_out
    assert result.duration_s < 5
    time.sleep(0.2)
    assert processes_with(marker) == []


@pytest.mark.parametrize("mode", BOTH)
def test_output_tail_is_bounded_and_merges_stderr(worktree: Path, mode: str) -> None:
    command = "head -c 200000 /dev/zero | tr '\\0' 'a'; echo; echo to-stderr >&2; echo END; exit 3"
    result = run_check(command, cwd=worktree, timeout_s=20, mode=mode, tail_bytes=1000)
    assert result.exit_code == 3 and not result.passed and not result.timed_out
    assert result.output_bytes > 200_000
    assert result.output_tail.startswith("[... ") and "earlier bytes omitted" in result.output_tail
    assert result.output_tail.endswith("to-stderr\nEND\n")
    assert len(result.output_tail) < 1100


def test_passing_check_reports_exit_zero(worktree: Path) -> None:
    result = run_check("test -d .git && echo fine", cwd=worktree, timeout_s=20, mode="auto")
    assert (result.passed, result.exit_code, result.output_tail) == (True, 0, "fine\n")
    assert result.sandbox == BWRAP.used


def test_sandbox_mode_texts() -> None:
    assert sandbox_mode("none").startswith("none (sandbox = none")
    assert sandbox_mode("auto") == str(BWRAP)
    with pytest.raises(UsageError, match="sandbox must be one of"):
        sandbox_mode("docker")


def test_auto_falls_back_when_bwrap_cannot_create_namespaces(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, worktree: Path
) -> None:
    fake = tmp_path / "bin" / "bwrap"
    fake.parent.mkdir()
    fake.write_text("#!/bin/sh\necho 'bwrap: No permissions to create new namespace' >&2\nexit 1\n")
    fake.chmod(0o755)
    monkeypatch.setenv("PATH", f"{fake.parent}:{os.environ['PATH']}")
    choice = choose_sandbox("auto")
    assert choice.used == "none"
    assert "No permissions to create new namespace" in choice.reason
    assert run_check("echo hi", cwd=worktree, timeout_s=20, mode="auto").sandbox == "none"
    with pytest.raises(UsageError, match="sandbox = bwrap, but bwrap cannot create its sandbox"):
        choose_sandbox("bwrap")


def test_auto_falls_back_when_bwrap_is_missing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))
    choice = choose_sandbox("auto")
    assert (choice.used, choice.reason.split(" (")[0]) == ("none", "bwrap not found on PATH")
