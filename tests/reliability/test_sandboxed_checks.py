"""A model-written `check` runs sandboxed inside a real construct: the run header names the sandbox, and a
malicious check that tries to write outside the worktree, read a planted API key (environment) or key file,
and reach a port on 127.0.0.1 gets nowhere under bubblewrap; without it (sandbox = none) the header says
so and the environment is still scrubbed and the timeout still holds. What the check printed is what the
VERIFY prompt shows, so the scripted agent's saved prompts are the evidence."""

from __future__ import annotations

import shutil
import socket
import tempfile
import threading
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from tests.reliability.harness import copy_repo, fake_opencode, finish, start_construct
from tests.reliability.hostile import block

from ralph.sandbox import choose_sandbox
from ralph.tix import TaskStatus, TicketStore

ENV_KEY = "sk-ant-PLANTED-ENV-0123456789"
FILE_KEY = "PLANTED-KEY-FILE-9876543210"
DONE = block('{"verdict": "done", "summary": "did it"}')
VERDICT = block('{"results": [{"task_id": "@TASK@", "passed": false, "reason": "reviewed"}]}')


@pytest.fixture
def listener() -> Iterator[tuple[int, list[bytes]]]:
    """A TCP port on 127.0.0.1 and what reached it."""
    server = socket.create_server(("127.0.0.1", 0))
    server.settimeout(0.2)
    got: list[bytes] = []
    stop = threading.Event()

    def serve() -> None:
        while not stop.is_set():
            try:
                conn, _ = server.accept()
            except TimeoutError:
                continue
            with conn:
                got.append(conn.recv(100))

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    yield server.getsockname()[1], got
    stop.set()
    thread.join(timeout=2)
    server.close()


def malicious_check(outside: Path, key_file: Path, port: int) -> str:
    return (
        f"touch {outside}/pwned; echo ENV=${{ANTHROPIC_API_KEY:-scrubbed}}; cat {key_file}; "
        f"(exec 3<>/dev/tcp/127.0.0.1/{port} && echo hello >&3 && echo PORT-$((40 + 2))-REACHED); sleep 30"
    )


def first_task(repo: Path, check: str) -> str:
    """Add our task with ``check`` and make it the one BUILD takes first (the planned ones go low)."""
    store = TicketStore.open(repo)
    for ticket in store.tasks(status=TaskStatus.PENDING):
        store.prioritize(ticket.id, "low")
    fields = {"name": "Tidy src/main.c", "notes": "Edit src/main.c", "accept": "exits 0", "check": check}
    return store.add_task({**fields, "spec": "runtime-refactor.md", "priority": "high"}).id


@pytest.fixture
def base() -> Iterator[Path]:
    """A folder outside /tmp (which bwrap replaces by a private one), as a real worktree and HOME are."""
    folder = Path(tempfile.mkdtemp(prefix="ralph-reliability-", dir="/var/tmp"))
    yield folder
    shutil.rmtree(folder, ignore_errors=True)


def run_with_check(template: Path, base: Path, port: int, sandbox: str) -> tuple[str, str, Path]:
    """A construct whose one BUILD says done, so that VERIFY prechecks the malicious check; its output,
    the VERIFY prompt, and the folder the check tried to write to."""
    repo = copy_repo(template, base / "repo")
    outside, home = base / "outside", base / "home"
    outside.mkdir()
    key_file = home / ".ssh" / "id_planted"
    key_file.parent.mkdir(parents=True)
    key_file.write_text(FILE_KEY)
    first_task(repo, malicious_check(outside, key_file, port))
    agent = base / "agent"
    program = fake_opencode(agent, {"build": [{"text": DONE}], "verify": [{"text": VERDICT}]})
    env = {
        "RALPH_PROFILE": "opus",
        "RALPH_BACKEND": "opencode",
        "RALPH_OPENCODE_BIN": str(program),
        "RALPH_SANDBOX": sandbox,
        "RALPH_CHECK_TIMEOUT_S": "3",
        "ANTHROPIC_API_KEY": ENV_KEY,
        "HOME": str(home),
        "RALPH_LOG_DIR": str(base / "logs"),
    }
    code, out = finish(start_construct(repo, "--max-iterations", "1", env=env))
    assert code == 3, out
    prompts = [p.read_text(errors="replace") for p in sorted((agent / "prompts").iterdir())]
    verify = next(p for p in prompts if "# VERIFY" in p)
    return out, verify, outside


needs_bwrap = pytest.mark.skipif(choose_sandbox("auto").used != "bwrap", reason="bubblewrap cannot run here")
Template = Callable[[str], Path]
Listener = tuple[int, list[bytes]]


@needs_bwrap
def test_bwrap_check_cannot_write_outside_see_the_key_or_reach_a_port(
    planned_template: Template, base: Path, listener: Listener
) -> None:
    port, got = listener
    out, verify, outside = run_with_check(planned_template("opus"), base, port, "auto")
    assert "checks: sandbox bwrap (read-only root, writable worktree, private /tmp, no network)" in out
    assert "no network), homes and /run hidden, timeout" in out
    assert "timed out" in verify and "ENV=scrubbed" in verify
    assert ENV_KEY not in verify and "PORT-42-REACHED" not in verify
    assert list(outside.iterdir()) == [] and got == []


@needs_bwrap
def test_bwrap_check_cannot_read_key_files_in_home(
    planned_template: Template, base: Path, listener: Listener
) -> None:
    _, verify, _ = run_with_check(planned_template("opus"), base, listener[0], "auto")
    assert FILE_KEY not in verify
    assert "id_planted: No such file or directory" in verify


def test_without_a_sandbox_the_header_says_so_and_env_and_timeout_still_hold(
    planned_template: Template, base: Path, listener: Listener
) -> None:
    port, got = listener
    out, verify, outside = run_with_check(planned_template("opus"), base, port, "none")
    assert "checks: sandbox none (sandbox = none: scrubbed environment and timeout only)" in out
    assert "only), home NOT hidden: checks can read every file you can" in out
    assert "timed out" in verify and "ENV=scrubbed" in verify and ENV_KEY not in verify
    assert (outside / "pwned").exists() and "PORT-42-REACHED" in verify and got == [b"hello\n"]
