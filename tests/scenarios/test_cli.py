"""`ralph scenario list|create` through the real Typer app and runner: output, files, exit codes."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from ralph.cli.main import app
from ralph.cli.runner import run_app


def test_list_names_the_bundled_scenario(capsys: pytest.CaptureFixture[str]) -> None:
    assert run_app(app, ["scenario", "list"]) == 0
    out = capsys.readouterr().out
    assert "c-runtime-refactor" in out and "9 tasks, 22 subtasks" in out and "simulated" in out


def test_create_makes_the_repo_and_says_what_next(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    dest = tmp_path / "demo"
    assert run_app(app, ["scenario", "create", "c-runtime-refactor", str(dest)]) == 0
    out = capsys.readouterr().out
    assert "RALPH_PROFILE=hybrid ralph plan ralph/specs/runtime-refactor.md" in out
    assert "simulated" in out
    branch = subprocess.run(
        ["git", "-C", str(dest), "branch", "--show-current"], capture_output=True, text=True
    )
    assert branch.stdout.strip() == "ralph/work"


def test_unknown_name_is_one_line_and_exit_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert run_app(app, ["scenario", "create", "nope", str(tmp_path / "x")]) == 2
    err = capsys.readouterr().err
    assert err == "error: unknown scenario 'nope' (known: c-runtime-refactor)\n"
    assert not (tmp_path / "x").exists()


def test_non_empty_destination_is_one_line_and_exit_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "keep.txt").write_text("mine\n")
    assert run_app(app, ["scenario", "create", "c-runtime-refactor", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert err == f"error: destination {tmp_path} exists and is not an empty directory\n"
