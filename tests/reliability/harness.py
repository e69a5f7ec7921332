"""Shared parts of the reliability tests: the CLI as real processes, planned scenario repos, file views."""

from __future__ import annotations

import json
import os
import shlex
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
FAKE_AGENT = Path(__file__).with_name("fake_agent.py")
RALPH = [sys.executable, "-c", "from ralph.cli.main import main; main()"]
CONSTRUCT = [sys.executable, str(Path(__file__).with_name("construct_cli.py")), "construct"]
SCENARIO = "c-runtime-refactor"
SPEC = "ralph/specs/runtime-refactor.md"
LEDGER_FILES = ("runs.jsonl", "iterations.jsonl", "calls.jsonl")


def child_env(
    extra: Mapping[str, str] | None = None, base: Mapping[str, str] | None = None
) -> dict[str, str]:
    """``base`` (default: this process's isolated environment) plus ``extra``, with the repo importable."""
    return {**(os.environ if base is None else base), "PYTHONPATH": str(ROOT), **(extra or {})}


def ralph(
    cwd: Path, *args: str, env: Mapping[str, str] | None = None, timeout: float = 600
) -> subprocess.CompletedProcess[str]:
    """Run the `ralph` CLI to completion."""
    return subprocess.run(
        [*RALPH, *args], cwd=cwd, env=child_env(env), capture_output=True, text=True, timeout=timeout
    )


def start_construct(
    repo: Path,
    *args: str,
    env: Mapping[str, str] | None = None,
    full_cli: bool = False,
    base: Mapping[str, str] | None = None,
    program: Sequence[str] = CONSTRUCT,
) -> subprocess.Popen[str]:
    """Start `ralph construct` in ``repo`` (its own session, so tests can see its process group);
    ``program``: the argv that runs it (default: the construct-only CLI)."""
    argv = [*RALPH, "construct"] if full_cli else program
    return subprocess.Popen(
        [*argv, *args],
        cwd=repo,
        env=child_env(env, base),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )


def finish(proc: subprocess.Popen[str], timeout: float = 600) -> tuple[int, str]:
    """Wait for ``proc``; its exit code and stdout+stderr."""
    out, err = proc.communicate(timeout=timeout)
    return proc.returncode, out + err


def wait_for(predicate: Callable[[], bool], timeout: float = 120.0, what: str = "condition") -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.02)
    raise AssertionError(f"{what} not reached in {timeout:.0f}s")


def git(repo: Path, *args: str) -> str:
    return subprocess.run(["git", "-C", str(repo), *args], capture_output=True, text=True, check=True).stdout


def read_state(repo: Path) -> dict[str, Any]:
    try:
        data = json.loads((repo / ".tix" / "ralph-state.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def running_pid(repo: Path) -> int | None:
    """The pid the state file names while a run is on (None before the run wrote its state)."""
    pid = read_state(repo).get("pid")
    return int(pid) if isinstance(pid, int) else None


def kill_hard(proc: subprocess.Popen[str]) -> tuple[bool, str]:
    """``kill -9`` the ralph process only (as the OOM killer would); whether the kill landed, and the output.

    A run that already ended is left alone (False)."""
    if proc.poll() is None:
        os.kill(proc.pid, signal.SIGKILL)
    out, err = proc.communicate(timeout=60)
    return proc.returncode == -signal.SIGKILL, out + err


def group_pids(pgid: int) -> list[int]:
    """Live (non-zombie) processes whose process group is ``pgid``."""
    found: list[int] = []
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            stat = Path(f"/proc/{name}/stat").read_bytes().rsplit(b")", 1)[1].split()
        except (OSError, IndexError):
            continue
        if stat[0] != b"Z" and int(stat[2]) == pgid:
            found.append(int(name))
    return found


def alive(pid: int) -> bool:
    try:
        stat = Path(f"/proc/{pid}/stat").read_bytes().rsplit(b")", 1)[1].split()
    except (OSError, IndexError):
        return False
    return stat[0] != b"Z"


def tagged_by(owner: int) -> list[int]:
    """Live processes carrying a ``RALPH_PROC_TAG`` of Ralph process ``owner`` (its children and theirs)."""
    marker = f"RALPH_PROC_TAG={owner}-".encode()
    found: list[int] = []
    for name in os.listdir("/proc"):
        try:
            environ = Path(f"/proc/{name}/environ").read_bytes() if name.isdigit() else b""
        except OSError:
            continue
        if any(item.startswith(marker) for item in environ.split(b"\0")) and alive(int(name)):
            found.append(int(name))
    return found


def make_template(dest: Path, profile: str, env: Mapping[str, str]) -> Path:
    """A scenario repo planned with ``profile`` (scenario create + plan through the CLI)."""
    dest.parent.mkdir(parents=True, exist_ok=True)
    made = subprocess.run(
        [*RALPH, "scenario", "create", SCENARIO, str(dest)], env=env, capture_output=True, text=True
    )
    assert made.returncode == 0, made.stdout + made.stderr
    env = {**env, "RALPH_PROFILE": profile}
    planned = subprocess.run([*RALPH, "plan", SPEC], cwd=dest, env=env, capture_output=True, text=True)
    assert planned.returncode == 0, planned.stdout + planned.stderr
    return dest


def copy_repo(source: Path, dest: Path) -> Path:
    shutil.copytree(source, dest, symlinks=True)
    return dest


def log_dir_of(home: Path) -> Path:
    return home / ".local" / "state" / "ralph" / "logs"


def json_lines(path: Path) -> list[dict[str, Any]]:
    """Every line of a JSONL file, parsed (fails on a bad line)."""
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def tree_files(repo: Path) -> dict[str, str]:
    """Path -> blob id of every tracked or untracked, non-ignored file outside .tix, as on disk."""
    listed = git(repo, "ls-files", "-z", "--cached", "--others", "--exclude-standard", "--", ".", ":!.tix")
    names = sorted({n for n in listed.split("\0") if n})
    present = [n for n in names if (repo / n).is_file() or (repo / n).is_symlink()]
    if not present:
        return {}
    blobs = subprocess.run(
        ["git", "-C", str(repo), "hash-object", "--no-filters", "--stdin-paths"],
        input="\n".join(present) + "\n",
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    return dict(zip(present, blobs, strict=True))


def commit_files(repo: Path, rev: str) -> dict[str, str]:
    """Path -> blob id of the files of ``rev`` outside .tix."""
    files: dict[str, str] = {}
    for entry in git(repo, "ls-tree", "-r", "-z", rev).split("\0"):
        meta, _, name = entry.partition("\t")
        if name and not name.startswith(".tix/"):
            files[name] = meta.split()[2]
    return files


Turn = dict[str, Any]
Script = list[Turn] | dict[str, list[Turn]]
"""The fake agent's answers: one list for every stage, or a list per stage (``any`` for the rest)."""


def fake_opencode(folder: Path, turns: Script) -> Path:
    """An executable that plays opencode by ``turns`` (see fake_agent.py); its pids go to pids.txt."""
    folder.mkdir(parents=True, exist_ok=True)
    script = folder / "script.json"
    script.write_text(json.dumps(turns), encoding="utf-8")
    program = folder / "opencode"
    argv = " ".join(shlex.quote(str(p)) for p in (sys.executable, FAKE_AGENT, script))
    program.write_text(f'#!/bin/sh\nexec {argv} "$@"\n', encoding="utf-8")
    program.chmod(0o755)
    return program


def agent_pids(folder: Path, turn: int | None = None) -> dict[str, list[int]]:
    """Role (agent, child, daemon) -> pids the fake agent recorded (in ``turn``, or in all turns)."""
    found: dict[str, list[int]] = {}
    path = folder / "pids.txt"
    for line in path.read_text().splitlines() if path.exists() else []:
        number, role, pid = line.split()
        if turn is None or int(number) == turn:
            found.setdefault(role, []).append(int(pid))
    return found


def build_by(program: Path, profile: str = "opus", **more: str) -> dict[str, str]:
    """Environment for a construct whose BUILD stage runs ``program`` through the opencode backend."""
    return {
        "RALPH_PROFILE": profile,
        "RALPH_BACKEND_BUILD": "opencode",
        "RALPH_OPENCODE_BIN": str(program),
        **more,
    }


class PeakRss:
    """Polls the peak resident set (``VmHWM``) of one process until it exits; ``peak_mb`` is the last
    reading (the kernel keeps the high-water mark, so a short spike between polls is not missed)."""

    def __init__(self, pid: int, every_s: float = 0.01) -> None:
        self.pid = pid
        self.peak_kb = 0
        self._every = every_s
        self._thread = threading.Thread(target=self._poll, daemon=True)
        self._thread.start()

    def _poll(self) -> None:
        path = Path(f"/proc/{self.pid}/status")
        while True:
            try:
                text = path.read_text()
            except OSError:
                return
            for line in text.splitlines():
                if line.startswith("VmHWM:"):
                    self.peak_kb = max(self.peak_kb, int(line.split()[1]))
            time.sleep(self._every)

    @property
    def peak_mb(self) -> float:
        self._thread.join(timeout=5)
        return self.peak_kb / 1024


def full_size() -> bool:
    """True when benchmarks/reliability.py runs the suite at full size (``RELIABILITY_FULL=1``)."""
    return os.environ.get("RELIABILITY_FULL") == "1"


def record_figure(name: str, **values: Any) -> None:
    """Append one figure for benchmarks/reliability.py (when it asks, through ``RELIABILITY_FIGURES``)."""
    target = os.environ.get("RELIABILITY_FIGURES")
    if target:
        with open(target, "a", encoding="utf-8") as fh:
            fh.write(json.dumps({"name": name, **values}) + "\n")
