"""The bench view: rows from live cell worktrees, from collected run records, or 'not started'."""

from __future__ import annotations

import shutil
import time
from pathlib import Path

from ralph.watch import BenchReader, CellSource, RunStatus, cell_row, record_row
from ralph.watch.model import Position, RunFrame, Usage

from .conftest import LiveRun


def test_record_row_from_end_and_start_records() -> None:
    end = {"exit_reason": "cost_limit", "iterations": 7, "tasks": {"total": 9, "completed": 4}, "cost": 2.5,
           "duration_s": 600.0, "simulated": True}  # fmt: skip
    row = record_row("opus", end)
    assert (row.status, row.iteration, row.tasks_accepted, row.tasks_total) == (RunStatus.FINISHED, 7, 4, 9)
    assert (row.cost, row.elapsed_s, row.exit_reason, row.exit_code, row.simulated) == (
        2.5, 600.0, "cost_limit", 3, True
    )  # fmt: skip
    started = record_row("opus", {"record": "start", "tasks": "garbage", "cost": None})
    assert (started.status, started.tasks_total, started.cost, started.exit_code) == (
        RunStatus.STOPPED,
        0,
        0.0,
        None,
    )
    assert record_row("x", {"exit_reason": "something_new"}).exit_code is None


def test_cell_row_from_a_frame_shows_the_stage_only_while_running() -> None:
    frame = RunFrame(
        repo="/w", status=RunStatus.RUNNING, simulated=True,
        position=Position(stage="VERIFY", iteration=3, tasks_accepted=2, tasks_total=5),
        usage=Usage(cost=0.5, elapsed_s=90),
    )  # fmt: skip
    row = cell_row("sonnet", frame)
    assert (row.name, row.stage, row.iteration, row.tasks_accepted, row.tasks_total) == (
        "sonnet",
        "VERIFY",
        3,
        2,
        5,
    )
    assert (row.cost, row.elapsed_s, row.simulated, row.exit_code) == (0.5, 90, True, None)
    done = RunFrame(
        repo="/w", status=RunStatus.FINISHED, exit_reason="complete", position=Position(stage="BUILD")
    )
    assert cell_row("sonnet", done).stage == "" and cell_row("sonnet", done).exit_code == 0


def test_bench_reader_live_collected_and_not_started(live_run: LiveRun, tmp_path: Path) -> None:
    live_run.save(iteration=4)
    live_run.start()
    collected = tmp_path / "results" / "done"
    collected.mkdir(parents=True)
    other = LiveRun(live_run.repo, tmp_path / "other-logs", "20270115_070000_cccccc", live_run.task_id)
    other.start()
    other.end("complete", iterations=9, cost=1.5, duration_s=30.0)
    shutil.copy(other.log_dir / "runs.jsonl", collected / "runs.jsonl")
    reader = BenchReader(
        [
            CellSource("live", live_run.repo, tmp_path / "results" / "live"),
            CellSource("done", tmp_path / "no-worktree", collected),
            CellSource("later", tmp_path / "no-worktree", tmp_path / "results" / "later"),
        ],
        default_log_dir=tmp_path / "unused",
    )
    live, done, later = reader.rows(time.time())
    assert (live.status, live.stage, live.iteration, live.tasks_accepted, live.tasks_total) == (
        RunStatus.RUNNING, "BUILD", 5, 1, 2
    )  # fmt: skip
    assert live.simulated and live.cost == 0.1234
    assert (done.status, done.iteration, done.exit_reason, done.cost) == (
        RunStatus.FINISHED,
        9,
        "complete",
        1.5,
    )
    assert later.status is RunStatus.NO_RUN
    live_run.end("max_iterations", duration_s=100.0)
    assert reader.rows(time.time())[0].exit_reason == "max_iterations"
    reader.close()


def test_a_state_file_brought_by_the_shared_plan_commit_is_not_the_cells_run(live_run: LiveRun) -> None:
    live_run.save(running=False)
    live_run.start(worktree=str(live_run.repo.parent / "planning-cell"))
    live_run.end("complete")
    reader = BenchReader([CellSource("opus", live_run.repo)], default_log_dir=live_run.log_dir)
    assert reader.rows(time.time())[0].status is RunStatus.NO_RUN
    live_run.run_id = "20270115_120000_eeeeee"
    live_run.save()
    live_run.start(worktree=str(live_run.repo))
    assert reader.rows(time.time())[0].status is RunStatus.RUNNING
    reader.close()
