"""Record JSON round trips, final-record-per-run, upgrades of the earlier ralph's lines."""

from __future__ import annotations

import json
import shutil
from dataclasses import replace
from pathlib import Path

import pytest

from ralph.errors import ExitReason, KillReason
from ralph.ledger import (
    CallRecord,
    IterationRecord,
    LedgerWriter,
    Outcome,
    Reconcile,
    RunPhase,
    RunRecord,
    StageTotals,
    TaskTotals,
    Tokens,
    iter_iterations,
    new_run_id,
    read_calls,
    read_iterations,
    read_runs,
)
from ralph.ledger.upgrade import UPGRADES, LedgerFile, upgrade_line

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "ledger"


def lines(path: Path) -> list[dict[str, object]]:
    return [json.loads(line) for line in path.read_text().splitlines()]


def test_run_record_round_trip(tmp_path: Path) -> None:
    start = RunRecord(
        run_id="r1",
        spec="s.md",
        profile="hybrid",
        config_snapshot={"model": "a/b"},
        started_at="2026-01-01T00:00:00+00:00",
        experiment="001",
        replicate=2,
    )
    end = replace(
        start,
        record=RunPhase.END,
        exit_reason=ExitReason.COMPLETE,
        tasks=TaskTotals(total=4, completed=3, failed=1),
        tokens=Tokens(10, 20, 30),
        kills={KillReason.TIMEOUT: 1},
        stages={"BUILD": StageTotals(count=2, cost=0.5, api_calls_remote=3)},
    )
    writer = LedgerWriter(tmp_path)
    writer.append_run(start)
    writer.append_run(end)
    on_disk = lines(tmp_path / "runs.jsonl")
    assert [line["record"] for line in on_disk] == ["start", "end"]
    assert on_disk[1]["schema"] == 1 and on_disk[1]["host"] and on_disk[1]["pid"]
    assert on_disk[1]["kills"] == {"timeout": 1} and on_disk[1]["exit_reason"] == "complete"
    (back,) = read_runs(tmp_path)
    assert back == replace(
        end, host=on_disk[1]["host"], pid=on_disk[1]["pid"], exit_reason="complete", kills={"timeout": 1}
    )
    assert back.tokens.total == 60


def test_lines_are_compact_single_lines(tmp_path: Path) -> None:
    LedgerWriter(tmp_path).append_run(RunRecord(run_id="r", spec="multi\nline"))
    text = (tmp_path / "runs.jsonl").read_text()
    assert text.count("\n") == 1 and ", " not in text and '"spec":"multi\\nline"' in text


def test_iteration_record_omits_empty_optionals(tmp_path: Path) -> None:
    writer = LedgerWriter(tmp_path)
    writer.append_iteration(IterationRecord(run_id="r", iteration=1, stage="BUILD", tokens=Tokens(1, 2, 3)))
    writer.append_iteration(
        IterationRecord(
            run_id="r",
            iteration=2,
            stage="VERIFY",
            task_id="t-1",
            outcome=Outcome.FAILURE,
            kill_reason="timeout",
            validation_retries=1,
            precheck_accepted=True,
            reconcile=Reconcile(accepted=1),
        )
    )
    first, second = lines(tmp_path / "iterations.jsonl")
    assert "task_id" not in first and "kill_reason" not in first and "precheck_accepted" not in first
    assert second["kill_reason"] == "timeout" and second["precheck_accepted"] is True
    records = read_iterations(tmp_path)
    assert records[0].task_id is None and records[0].tokens == Tokens(1, 2, 3)
    assert records[1].outcome is Outcome.FAILURE and records[1].reconcile.accepted == 1


def test_call_record_round_trip(tmp_path: Path) -> None:
    call = CallRecord(
        run_id="r",
        iteration=1,
        stage="BUILD",
        backend="opencode",
        model="llamacpp/devstral",
        is_local=True,
        tokens=Tokens(5, 0, 7),
        cost=0.0,
        latency_s=1.25,
        ts=1.0,
        task_id="t-1",
        endpoint="http://127.0.0.1:8080",
        simulated=True,
    )
    LedgerWriter(tmp_path).append_call(call)
    assert read_calls(tmp_path) == [call]
    assert set(lines(tmp_path / "calls.jsonl")[0]) >= {
        "schema",
        "run_id",
        "iteration",
        "stage",
        "task_id",
        "backend",
        "model",
        "endpoint",
        "is_local",
        "tokens",
        "cost",
        "latency_s",
        "ts",
        "simulated",
    }


def test_unknown_keys_survive(tmp_path: Path) -> None:
    (tmp_path / "runs.jsonl").write_text('{"schema":1,"run_id":"r","record":"end","future":{"x":1}}\n')
    (run,) = read_runs(tmp_path)
    assert run.extra == {"future": {"x": 1}}
    assert run.to_json()["future"] == {"x": 1}


def test_final_record_per_run(tmp_path: Path) -> None:
    writer = LedgerWriter(tmp_path)
    writer.append_run(RunRecord(run_id="a", spec="x"))
    writer.append_run(RunRecord(run_id="b", spec="y"))
    writer.append_run(RunRecord(run_id="a", spec="x", record=RunPhase.END, exit_reason="complete"))
    writer.append_run(RunRecord(run_id="a", spec="x"))  # a stray later start never hides the end
    runs = read_runs(tmp_path)
    assert [(r.run_id, r.exit_reason) for r in runs] == [("a", "complete"), ("b", None)]


def test_run_ids_are_unique_and_shaped() -> None:
    ids = {new_run_id(1_700_000_000.0) for _ in range(200)}
    assert len(ids) == 200
    assert all(len(i) == 22 and i[8] == "_" and i[15] == "_" for i in ids)


def test_upgrade_steps_are_ordered_and_named() -> None:
    assert [step.from_version for step in UPGRADES] == list(range(len(UPGRADES)))
    assert all(step.name for step in UPGRADES)


def test_future_schema_is_skipped_with_a_warning(tmp_path: Path) -> None:
    (tmp_path / "runs.jsonl").write_text('{"schema":99,"run_id":"r"}\n{"schema":1,"run_id":"s"}\n')
    warnings: list[str] = []
    assert [r.run_id for r in read_runs(tmp_path, warnings)] == ["s"]
    assert "unsupported ledger schema 99" in warnings[0]
    with pytest.raises(ValueError):
        upgrade_line(LedgerFile.RUNS, {"schema": "1"})


def test_earlier_ralph_runs_are_upgraded(tmp_path: Path) -> None:
    shutil.copytree(FIXTURES / "earlier", tmp_path, dirs_exist_ok=True)
    runs = {run.run_id: run for run in read_runs(tmp_path)}
    hybrid = runs["20260201_101500_a1b2c3"]
    assert hybrid.record is RunPhase.END and hybrid.schema == 1
    assert hybrid.exit_reason == "wall_time" and hybrid.extra["legacy_exit_reason"] == "wall_time_limit"
    assert hybrid.tokens == Tokens(812345, 2345678, 98765)
    assert hybrid.stages["BUILD"] == StageTotals(count=14, cost=0.0, api_calls_local=14)
    assert hybrid.kills == {"timeout": 2, "context": 1, "loop": 0}
    assert runs["20260202_090000_0a0b0c"].exit_reason == "error"
    assert {run.exit_reason for run in runs.values()} <= {reason.value for reason in ExitReason}


def test_earlier_ralph_iterations_are_upgraded(tmp_path: Path) -> None:
    shutil.copytree(FIXTURES / "earlier", tmp_path, dirs_exist_ok=True)
    records = read_iterations(tmp_path)
    assert len(records) == 5
    assert records[1].precheck_accepted and records[1].reconcile == Reconcile(accepted=1, rejected=1)
    assert records[3].kill_reason == "loop" and records[3].validation_retries == 2
    assert records[4].outcome is Outcome.SKIP
    only = list(iter_iterations(tmp_path, run_ids=["20260202_090000_0a0b0c"]))
    assert [line["stage"] for line in only] == ["BUILD", "INVESTIGATE"]


def test_mixed_old_and_new_lines(tmp_path: Path) -> None:
    shutil.copytree(FIXTURES / "earlier", tmp_path, dirs_exist_ok=True)
    LedgerWriter(tmp_path).append_run(
        RunRecord(run_id="new", spec="s", record=RunPhase.END, exit_reason="no_work")
    )
    assert [run.run_id for run in read_runs(tmp_path)][-1] == "new"
    assert len(read_runs(tmp_path)) == 4


def test_missing_files_read_as_empty(tmp_path: Path) -> None:
    assert (
        read_runs(tmp_path / "none") == [] and read_iterations(tmp_path) == [] and read_calls(tmp_path) == []
    )
