"""Rich rendering of frames and cell rows (text only; brackets in data are never taken as markup)."""

from __future__ import annotations

import io
from pathlib import Path

from rich.console import Console, RenderableType

from ralph.cli.views import bench_view, duration_text, run_view, tokens_text
from ralph.watch import CellRow, Gauge, Kill, Position, RunFrame, RunStatus, Usage


def text_of(renderable: RenderableType) -> str:
    out = io.StringIO()
    Console(file=out, width=120, color_system=None).print(renderable)
    return out.getvalue()


def frame(**changes: object) -> RunFrame:
    values: dict[str, object] = {
        "repo": str(Path("/repo")),
        "status": RunStatus.RUNNING,
        "simulated": True,
        "run_id": "20270115_080000_abcdef",
        "pid": 4242,
        "spec": "demo.md",
        "profile": "hybrid",
        "position": Position(
            stage="BUILD", stage_running=True, task_id="t-1", task_name="[RALPH_OUTPUT] fix"
        ),
        "usage": Usage(elapsed_s=125, cost=0.5, tokens=1_500_000, calls_remote=3, calls_local=9),
        "gauges": (Gauge("cost_limit", 0.5, 2.0),),
        "nearest": Gauge("cost_limit", 0.5, 2.0),
        "activity": tuple(f"line {i} [bold]x[/bold]" for i in range(30)),
    }
    values.update(changes)
    return RunFrame(**values)  # type: ignore[arg-type]


def test_running_frame_text() -> None:
    out = text_of(run_view(frame(), activity_lines=5))
    assert "[simulated]" in out and "q to quit" in out
    assert "t-1  [RALPH_OUTPUT] fix" in out
    assert "2m05s  (simulated clock)" in out
    assert "$0.5000 / $2.00" in out and "1.5M" in out and "remote 3  local 9" in out
    assert "cost_limit 25%" in out
    assert "line 29 [bold]x[/bold]" in out and "line 24" not in out and "line 25" in out
    timed = text_of(run_view(frame(stage_gauge=Gauge("stage_timeout", 95, 900))))
    assert "BUILD (running)  1m35s of 15m00s" in timed


def test_limit_reached_no_limits_batch_and_kills() -> None:
    out = text_of(run_view(frame(tripped="cost_limit", kills=(Kill(3, "BUILD", "t-9", "context"),))))
    assert "limit reached: cost_limit" in out and "recent kills" in out and "context" in out
    batch = frame(position=Position(stage="VERIFY", batch=("t-1", "t-2")), gauges=(), nearest=None)
    out = text_of(run_view(batch))
    assert "batch t-1, t-2" in out and "VERIFY (next)" in out and "no limits set" in out


def test_not_running_frames() -> None:
    done = text_of(run_view(frame(status=RunStatus.FINISHED, exit_reason="complete", simulated=False)))
    assert "not running  last exit complete" in done and "[simulated]" not in done
    gone = text_of(run_view(frame(status=RunStatus.STOPPED)))
    assert "not running  pid 4242 is gone; last exit unknown (no end record)" in gone
    waiting = text_of(run_view(RunFrame(repo="/repo", status=RunStatus.NO_RUN)))
    assert "no run yet" in waiting and "(no activity yet)" in waiting


def test_bench_rows() -> None:
    rows = [
        CellRow("opus", RunStatus.RUNNING, "BUILD", 3, 2, 9, 0.75, 3700, None, True),
        CellRow("sonnet", RunStatus.FINISHED, "", 5, 9, 9, 1.25, 61, "complete"),
        CellRow("devstral", RunStatus.NO_RUN),
    ]
    lines = text_of(bench_view("experiment e1", rows)).splitlines()
    assert "experiment e1" in lines[0]
    opus = next(line for line in lines if "opus" in line)
    assert all(part in opus for part in ("opus [simulated]", "running", "BUILD", "2/9", "$0.7500", "1h01m"))
    sonnet = next(line for line in lines if "sonnet" in line)
    assert all(part in sonnet for part in ("finished", "9/9", "1m01s", "complete (0)"))
    assert "not started" in next(line for line in lines if "devstral" in line)


def test_number_formats() -> None:
    assert [duration_text(s) for s in (0, 59.4, 60, 3599, 3600, 7325)] == [
        "0s",
        "59s",
        "1m00s",
        "59m59s",
        "1h00m",
        "2h02m",
    ]
    assert [tokens_text(n) for n in (0, 999, 1000, 45_499, 2_000_000)] == ["0", "999", "1K", "45K", "2.0M"]
