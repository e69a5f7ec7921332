"""`ralph log` / `ralph compare` and the summaries behind them."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
import typer

from ralph.cli import ledger_cmds
from ralph.cli.runner import run_app
from ralph.ledger import ApiCalls, IterationRecord, LedgerWriter, RunPhase, RunRecord, TaskTotals, Tokens
from ralph.ledger.summary import compare_runs, list_runs

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "ledger"


@pytest.fixture
def log_dir(tmp_path: Path) -> Path:
    shutil.copytree(FIXTURES / "earlier", tmp_path / "logs")
    writer = LedgerWriter(tmp_path / "logs")
    done = RunRecord(run_id="n1", spec="b.md", profile="sim", started_at="2026-03-01T10:00:00+00:00")
    writer.append_run(done)
    writer.append_run(
        RunRecord(run_id="live", spec="b.md", profile="hybrid", started_at="2026-03-02T10:00:00")
    )
    writer.append_run(
        RunRecord(
            run_id="n1",
            spec="b.md",
            profile="sim",
            record=RunPhase.END,
            exit_reason="complete",
            duration_s=75.0,
            iterations=3,
            tasks=TaskTotals(5, 5, 0),
            cost=1.5,
            tokens=Tokens(1000, 500, 250),
            api_calls=ApiCalls(4, 2),
            branch="ralph/work",
        )
    )
    for n, local in ((1, True), (2, False)):
        writer.append_iteration(
            IterationRecord(
                run_id="live",
                iteration=n,
                stage="BUILD",
                is_local=local,
                cost=0.25,
                api_calls=2,
                tokens=Tokens(10, 0, 5),
            )
        )
    return tmp_path / "logs"


def test_list_runs_newest_first_with_live_totals(log_dir: Path) -> None:
    rows = list_runs(log_dir)
    assert [row.run_id for row in rows][:2] == ["live", "n1"]
    live = rows[0]
    assert live.exit_reason is None and live.iterations == 2 and live.cost == 0.5
    assert (live.api_remote, live.api_local, live.tokens_total) == (2, 2, 30)
    assert rows[1].tokens_total == 1750 and rows[1].tasks_done == 5


def test_list_runs_filters_and_limit(log_dir: Path) -> None:
    assert [r.run_id for r in list_runs(log_dir, spec="b.md", profile="sim")] == ["n1"]
    assert len(list_runs(log_dir, limit=2)) == 2
    assert list_runs(log_dir, profile="nobody") == []


def test_compare_groups_by_spec(log_dir: Path) -> None:
    groups = compare_runs(log_dir)
    assert list(groups) == ["b.md", "system-refactor-00-heap-rename.md"]
    assert [r.profile for r in groups["system-refactor-00-heap-rename.md"]] == ["hybrid", "opus", "devstral"]
    assert compare_runs(log_dir, profile="opus")["system-refactor-00-heap-rename.md"][0].cost == 12.5


@pytest.fixture
def app() -> typer.Typer:
    app = typer.Typer(add_completion=False)

    @app.callback()
    def _root() -> None:
        """Test root."""

    ledger_cmds.register(app)
    return app


def test_log_command_json(app: typer.Typer, log_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code = run_app(app, ["log", "--log-dir", str(log_dir), "--json", "--spec", "b.md"])
    rows = json.loads(capsys.readouterr().out)
    assert code == 0 and [r["run_id"] for r in rows] == ["live", "n1"]
    assert rows[1]["tokens_total"] == 1750 and rows[1]["exit_reason"] == "complete"


def test_log_command_table(app: typer.Typer, log_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code = run_app(app, ["log", "--log-dir", str(log_dir)])
    out = capsys.readouterr().out
    assert code == 0 and "n1" in out and "(no end record)" in out and "wall_time" in out and "4r/2l" in out


def test_compare_command(app: typer.Typer, log_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code = run_app(app, ["compare", "--log-dir", str(log_dir), "--profile-filter", "hybrid"])
    out = capsys.readouterr().out
    assert code == 0 and "Spec: system-refactor-00-heap-rename.md" in out
    assert "19r/14l" in out and "11/23" in out and "1h00m" in out and "3.3M" in out
    code = run_app(app, ["compare", "--log-dir", str(log_dir), "--json", "--spec", "b.md"])
    data = json.loads(capsys.readouterr().out)
    assert code == 0 and [r["run_id"] for r in data["b.md"]] == ["n1", "live"]


def test_log_dir_defaults_to_settings(
    app: typer.Typer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("RALPH_LOG_DIR", str(tmp_path / "elsewhere"))
    monkeypatch.chdir(tmp_path)
    LedgerWriter(tmp_path / "elsewhere").append_run(RunRecord(run_id="only"))
    code = run_app(app, ["log", "--json"])
    assert code == 0 and json.loads(capsys.readouterr().out)[0]["run_id"] == "only"


def test_empty_log_dir(app: typer.Typer, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert run_app(app, ["compare", "--log-dir", str(tmp_path)]) == 0
    assert "no matching runs" in capsys.readouterr().out
