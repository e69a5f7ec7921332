"""Many processes appending to one log dir; torn last lines; unreadable lines."""

from __future__ import annotations

import json
import multiprocessing
from pathlib import Path

import pytest

from ralph.ledger import IterationRecord, LedgerWriter, RunRecord, read_iterations, read_runs, repair_tail

WRITERS = 8
LINES_EACH = 150
PAD = 20_000  # well above PIPE_BUF, so only the lock keeps lines whole


def _append_many(log_dir: str, writer_id: int) -> None:
    writer = LedgerWriter(Path(log_dir))
    for n in range(LINES_EACH):
        rec = IterationRecord(
            run_id=f"w{writer_id}", iteration=n, stage="BUILD", model="x" * PAD, task_id=f"t-{n:08x}"
        )
        writer.append_iteration(rec)


def test_eight_processes_never_interleave_or_lose_lines(tmp_path: Path) -> None:
    ctx = multiprocessing.get_context("fork")
    procs = [ctx.Process(target=_append_many, args=(str(tmp_path), i)) for i in range(WRITERS)]
    for proc in procs:
        proc.start()
    for proc in procs:
        proc.join(60)
        assert proc.exitcode == 0
    raw = (tmp_path / "iterations.jsonl").read_bytes().splitlines()
    assert len(raw) == WRITERS * LINES_EACH
    parsed = [json.loads(line) for line in raw]
    for writer_id in range(WRITERS):
        mine = [p["iteration"] for p in parsed if p["run_id"] == f"w{writer_id}"]
        assert mine == list(range(LINES_EACH))


def test_torn_line_is_cut_on_next_write(tmp_path: Path) -> None:
    writer = LedgerWriter(tmp_path)
    writer.append_run(RunRecord(run_id="a"))
    with (tmp_path / "runs.jsonl").open("ab") as handle:
        handle.write(b'{"schema":1,"run_id":"torn","spec":"hal')
    assert writer.append_run(RunRecord(run_id="b")) is True
    assert "cut a torn last line" in writer.warnings[0]
    assert [r.run_id for r in read_runs(tmp_path)] == ["a", "b"]
    assert writer.append_run(RunRecord(run_id="c")) is False


def test_complete_line_without_newline_is_kept(tmp_path: Path) -> None:
    path = tmp_path / "runs.jsonl"
    path.write_text('{"run_id":"old","exit_reason":"complete"}')
    writer = LedgerWriter(tmp_path)
    writer.append_run(RunRecord(run_id="new"))
    assert "missing newline" in writer.warnings[0]
    assert [r.run_id for r in read_runs(tmp_path)] == ["old", "new"]


def test_reader_repairs_a_torn_tail(tmp_path: Path) -> None:
    path = tmp_path / "iterations.jsonl"
    LedgerWriter(tmp_path).append_iteration(IterationRecord(run_id="r", iteration=1, stage="BUILD"))
    with path.open("ab") as handle:
        handle.write(b'{"run_id":"r","iter')
    warnings: list[str] = []
    assert len(read_iterations(tmp_path, warnings=warnings)) == 1
    assert warnings == [f"{path}: repaired a torn last line"]
    assert path.read_bytes().endswith(b"}\n")


def test_unwritable_ledger_with_torn_tail_is_still_readable(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def refuse(path: Path) -> bool:
        raise PermissionError(13, "read-only", str(path))

    monkeypatch.setattr("ralph.ledger.reader.repair_tail", refuse)
    path = tmp_path / "runs.jsonl"
    path.write_text('{"run_id":"a"}\n{"run_id":"b",')
    warnings: list[str] = []
    assert [r.run_id for r in read_runs(tmp_path, warnings)] == ["a"]
    assert "not valid JSON" in warnings[0]
    assert path.read_text().endswith('"b",')


def test_repair_tail_on_a_clean_or_missing_file(tmp_path: Path) -> None:
    assert repair_tail(tmp_path / "nothing.jsonl") is False
    path = tmp_path / "runs.jsonl"
    path.write_text('{"run_id":"a"}\n')
    assert repair_tail(path) is False
    path.write_bytes(b'{"run_id":"a"}\n\xff\xfe')
    assert repair_tail(path) is True and path.read_text() == '{"run_id":"a"}\n'


def test_bad_lines_in_the_middle_are_skipped_and_reported(tmp_path: Path) -> None:
    (tmp_path / "runs.jsonl").write_bytes(
        b'{"run_id":"a"}\nnot json\n[1,2]\n\n\xff\xfe garbage\n{"run_id":"b","record":"end"}\n'
    )
    warnings: list[str] = []
    assert [r.run_id for r in read_runs(tmp_path, warnings)] == ["a", "b"]
    assert len(warnings) == 3 and all("skipped" in w for w in warnings)


def test_records_missing_required_fields_are_skipped(tmp_path: Path) -> None:
    (tmp_path / "iterations.jsonl").write_text(
        '{"schema":1,"run_id":"r"}\n{"schema":1,"run_id":"r","iteration":1,"stage":"BUILD"}\n'
    )
    warnings: list[str] = []
    assert len(read_iterations(tmp_path, warnings=warnings)) == 1
    assert "incomplete" in warnings[0]
