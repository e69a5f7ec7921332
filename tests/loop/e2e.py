"""Helpers of the end-to-end loop tests: the CLI as a subprocess on a simulated scenario repository."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

SCENARIO = "c-runtime-refactor"
SPEC = "ralph/specs/runtime-refactor.md"
RALPH = [sys.executable, "-c", "from ralph.cli.main import main; main()"]

EXTRA_CONFIG = """
[profiles.broken]
model = "sim/opus-4.6"
model_build = "sim/broken"

[profiles.wrong]
model = "sim/opus-4.6"
model_build = "sim/wrong"

[sim_models."sim/broken"]
local = true
skill = [0.0, 0.0, 0.0, 0.0, 0.0]
failure_modes = { timeout = 1.0 }

[sim_models."sim/wrong"]
local = true
skill = [0.0, 0.0, 0.0, 0.0, 0.0]
failure_modes = { wrong = 1.0 }

[sim_models."sim/opus-4.6"]
review = 1.0
"""
"""Test profiles in the global config: a BUILD model that is always killed, one that is always wrong."""


def ralph(
    cwd: Path, *args: str, env: dict[str, str] | None = None, timeout: float = 600
) -> subprocess.CompletedProcess[str]:
    full = {**os.environ, **(env or {})}
    return subprocess.run(
        [*RALPH, *args], cwd=cwd, env=full, capture_output=True, text=True, timeout=timeout, check=False
    )


def write_global_config(home: Path) -> None:
    path = home / ".config" / "ralph" / "config.toml"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(EXTRA_CONFIG, encoding="utf-8")


def create(dest: Path) -> Path:
    done = ralph(dest.parent, "scenario", "create", SCENARIO, str(dest))
    if done.returncode != 0:
        from ralph.scenarios import create_scenario

        create_scenario(SCENARIO, dest)
    return dest


def copy_repo(source: Path, dest: Path) -> Path:
    shutil.copytree(source, dest, symlinks=True)
    return dest


def git(repo: Path, *args: str) -> str:
    return subprocess.run(["git", "-C", str(repo), *args], capture_output=True, text=True, check=True).stdout


def log_dir(home: Path) -> Path:
    return home / ".local" / "state" / "ralph" / "logs"


def lines(path: Path) -> list[dict[str, Any]]:
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def end_records(home: Path) -> list[dict[str, Any]]:
    return [r for r in lines(log_dir(home) / "runs.jsonl") if r.get("record") == "end"]


def tree_state(repo: Path) -> dict[str, str]:
    """Path -> blob id of every tracked and untracked, non-ignored file outside .tix."""
    out = git(repo, "ls-files", "-s", "--", ".", ":!.tix")
    files = {line.split("\t", 1)[1]: line.split()[1] for line in out.splitlines()}
    for name in git(repo, "ls-files", "--others", "--exclude-standard", "--", ".", ":!.tix").splitlines():
        files[name] = git(repo, "hash-object", name).strip()
    modified = git(repo, "ls-files", "-m", "--", ".", ":!.tix").splitlines()
    for name in modified:
        path = repo / name
        files[name] = git(repo, "hash-object", name).strip() if path.exists() else "deleted"
    return files
