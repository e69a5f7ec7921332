"""Incremental whole-line reads of files another process appends to."""

from __future__ import annotations

import os
from pathlib import Path

from ralph.watch.tail import JsonlTail, LineTail


def append(path: Path, text: str) -> None:
    with path.open("a", encoding="utf-8") as fh:
        fh.write(text)


def test_missing_file_reads_empty_until_it_appears(tmp_path: Path) -> None:
    path = tmp_path / "a.log"
    tail = LineTail(path)
    assert tail.read_new() == []
    append(path, "one\n")
    assert tail.read_new() == ["one"]


def test_only_whole_lines_and_only_new_ones(tmp_path: Path) -> None:
    path = tmp_path / "a.log"
    append(path, "one\ntw")
    tail = LineTail(path)
    assert tail.read_new() == ["one"]
    assert tail.read_new() == []
    append(path, "o\nthree\n")
    assert tail.read_new() == ["two", "three"]


def test_backlog_starts_near_the_end_without_a_fragment(tmp_path: Path) -> None:
    path = tmp_path / "a.log"
    append(path, "".join(f"line {i:03d}\n" for i in range(100)))
    # each line is 9 bytes: 30 bytes back lands inside line 96, 27 bytes back exactly at line 97's start
    assert LineTail(path, backlog=30).read_new() == ["line 097", "line 098", "line 099"]
    assert LineTail(path, backlog=27).read_new() == ["line 097", "line 098", "line 099"]
    assert LineTail(path, backlog=28).read_new() == ["line 097", "line 098", "line 099"]
    assert LineTail(path, backlog=26).read_new() == ["line 098", "line 099"]
    assert LineTail(path, backlog=10_000).read_new()[0] == "line 000"


def test_truncated_or_replaced_file_is_read_again(tmp_path: Path) -> None:
    path = tmp_path / "a.log"
    append(path, "old 1\nold 2\n")
    tail = LineTail(path)
    assert len(tail.read_new()) == 2
    path.write_text("new\n", encoding="utf-8")
    assert tail.read_new() == ["new"]
    other = tmp_path / "b.log"
    other.write_text("x\ny\nz\nreplaced\n", encoding="utf-8")
    os.replace(other, path)
    assert tail.read_new() == ["x", "y", "z", "replaced"]


def test_jsonl_tail_filters_by_needle_and_skips_bad_lines(tmp_path: Path) -> None:
    path = tmp_path / "runs.jsonl"
    append(
        path, '{"run_id": "a", "n": 1}\nnot json a\n[1, "a"]\n{"run_id": "b", "n": 2}\n{"run_id": "a", "n": 3'
    )
    tail = JsonlTail(path, "a")
    assert [d["n"] for d in tail.read_new()] == [1]
    append(path, "}\n")
    assert [d["n"] for d in tail.read_new()] == [3]
