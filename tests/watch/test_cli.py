"""`ralph watch --once` and bad input, through the installed `ralph` command in a subprocess."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from ralph.cli.main import app
from ralph.cli.runner import run_app

from .conftest import LiveRun, make_store_repo

RALPH = str(Path(sys.executable).parent / "ralph")


def watch(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [RALPH, "watch", *args], cwd=cwd, capture_output=True, text=True, timeout=60, check=False
    )


def test_not_a_repository_is_one_line_exit_2(tmp_path: Path) -> None:
    done = watch("--once", "--repo", str(tmp_path), cwd=tmp_path)
    assert done.returncode == 2
    assert done.stderr.count("\n") == 1 and "not inside a git working tree" in done.stderr
    assert done.stdout == ""


def test_bad_input_in_process_is_one_line_exit_2(
    git_repo: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run_app(app, ["watch", "--once", "--repo", str(git_repo)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: no ticket store in ") and err.count("\n") == 1
    assert run_app(app, ["watch", "--once", "--experiment", str(tmp_path / "missing")]) == 2
    assert "no such experiment or results folder" in capsys.readouterr().err
    assert run_app(app, ["watch", "--once", "--experiment", str(tmp_path)]) == 2
    assert "no experiment.toml, experiment.conf or bench cells" in capsys.readouterr().err


def test_once_without_a_run_says_so(store_repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert run_app(app, ["watch", "--once", "--repo", str(store_repo)]) == 0
    assert "no run yet" in capsys.readouterr().out


def test_once_prints_one_frame_of_a_running_run(live_run: LiveRun, tmp_path: Path) -> None:
    live_run.save(totals={"cost": 0.9, "tokens": 45_000, "api_calls_remote": 9, "api_calls_local": 4})
    live_run.start()
    live_run.stage("BUILD", kill_reason="timeout", task_id=live_run.task_id, iteration=2)
    live_run.say("tool edit [RALPH_OUTPUT] src/heap.c")
    done = watch("--once", "--repo", str(live_run.repo), cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    out = done.stdout
    assert "[simulated]" in out
    for expected in (
        "running",
        "BUILD (running)",
        f"{live_run.task_id}  Add a string table",
        "iteration",
        "3 (0 / 10 done this run)",
        "1/2 accepted",
        "$0.9000 / $1.00",
        "45K",
        "remote 9  local 4",
        "37.5%",
        "cost_limit 90%",
        "timeout",
        "tool edit [RALPH_OUTPUT] src/heap.c",
    ):
        assert expected in out, f"{expected!r} not in:\n{out}"


def test_once_shows_a_finished_run_and_its_exit(live_run: LiveRun) -> None:
    live_run.save(running=False)
    live_run.start()
    live_run.end("max_iterations", duration_s=125.0)
    out = watch("--once", cwd=live_run.repo).stdout
    assert "not running  last exit max_iterations" in out and "2m05s" in out


def test_once_shows_not_running_when_the_pid_is_gone(live_run: LiveRun) -> None:
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    live_run.pid = child.pid
    live_run.save()
    live_run.start()
    out = watch("--once", cwd=live_run.repo).stdout
    assert f"not running  pid {child.pid} is gone; last exit unknown (no end record)" in out


def test_experiment_results_folder_lists_cells(live_run: LiveRun, tmp_path: Path) -> None:
    live_run.start()
    live_run.end("complete", duration_s=61.0, iterations=4, cost=0.25)
    results = tmp_path / "results"
    cell = results / "hybrid"
    cell.mkdir(parents=True)
    (cell / "runs.jsonl").write_text((live_run.log_dir / "runs.jsonl").read_text())
    done = watch("--once", "--experiment", str(results), cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    row = next(line for line in done.stdout.splitlines() if "hybrid" in line)
    for expected in ("finished", "4", "1/2", "$0.2500", "1m01s", "complete"):
        assert expected in row, f"{expected!r} not in {row!r}"


def test_experiment_folder_lists_its_cells_live(live_run: LiveRun, tmp_path: Path) -> None:
    folder = tmp_path / "exp1"
    folder.mkdir()
    (folder / "experiment.toml").write_text(
        f'target_repo = "{live_run.repo}"\nbase_ref = "main"\nspec = "demo.md"\n'
        f'profiles = ["hybrid", "opus"]\n[paths]\nworktree_base = "{tmp_path / "wt"}"\n'
    )
    worktree = tmp_path / "wt" / "exp1" / "hybrid"
    cell = LiveRun(worktree, tmp_path / "exp-logs", "20270115_100000_dddddd", make_store_repo(worktree))
    cell.save(iteration=6, stage=None)
    cell.start()
    for target in (folder, folder / "results"):
        done = watch("--once", "--experiment", str(target), cwd=tmp_path)
        assert done.returncode == 0, done.stderr
        lines = done.stdout.splitlines()
        assert "experiment exp1" in lines[0]
        hybrid = next(line for line in lines if "hybrid" in line)
        for part in ("[simulated]", "running", "7", "1/2", "$0.1234"):
            assert part in hybrid, f"{part!r} not in {hybrid!r}"
        assert re.search(r" [1-9]m\d\ds ", hybrid), "elapsed: 65 s at save time, plus the real time since"
        assert "not started" in next(line for line in lines if "opus" in line)
