"""The scenario loader rejects malformed data; ops behave as documented on small trees."""

from __future__ import annotations

from pathlib import Path

import pytest

from ralph.output import validate_task
from ralph.scenarios import (
    OpKind,
    ScenarioError,
    SolutionOp,
    apply_op,
    apply_ops,
    apply_partial,
    files_with_symbol,
    load_scenario,
)
from ralph.scenarios.model import parse_scenario

HEAD = """
[scenario]
name = "t"
title = "t"
description = "d"
spec = "s.md"
build = "true"
test = "true"
"""

TASK = """
[[task]]
key = "a"
name = "A"
notes = "n"
accept = "x"
check = "true"
"""


def write_scenario(tmp_path: Path, body: str) -> Path:
    (tmp_path / "scenario.toml").write_text(HEAD + body)
    return tmp_path


def test_bundled_scenario_shape() -> None:
    scenario = load_scenario("c-runtime-refactor")
    phase0 = [t for t in scenario.tasks if t.phase == 0]
    assert len(phase0) == 4
    renames = [op for t in phase0 for op in t.ops]
    assert len(renames) == 20 and all(op.kind is OpKind.RENAME for op in renames)
    for task in scenario.tasks:
        assert 2 <= len(task.subtasks) <= 3
        assert task.check and task.accept and 1 <= task.difficulty <= 5
        assert all(sub.phase == task.phase and sub.parent == task.key for sub in task.subtasks)
        if task.phase > 0:
            assert task.deps
    assert scenario.task("rename-gc-type").labels == ("sim:rename-gc-type", "phase:0")


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (TASK + 'colour = "red"\n', r"task a: unknown keys \['colour'\]"),
        (TASK + TASK, "duplicate task key a"),
        (TASK + 'deps = ["zz"]\n', r"task a: unknown deps \['zz'\]"),
        (TASK + 'ops = [{ op = "explode" }]\n', "unknown op 'explode'"),
        (TASK + 'ops = [{ op = "append", text = "x" }]\n', "append op lacks path"),
        ('[[task]]\nkey = "a"\n', "name must be a string"),
    ],
)
def test_malformed_scenarios_are_rejected(tmp_path: Path, body: str, message: str) -> None:
    with pytest.raises(ScenarioError, match=message):
        parse_scenario(write_scenario(tmp_path, body))


def test_rename_is_whole_word_and_scoped(tmp_path: Path) -> None:
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "a.c").write_text(
        "heap_alloc(x); rt_heap_alloc(y); test_heap_alloc_z(); heap_allocs;\n"
    )
    (tmp_path / "README").write_text("heap_alloc\n")
    op = SolutionOp(OpKind.RENAME, old="heap_alloc", new="rt_heap_alloc")
    assert files_with_symbol(tmp_path, "heap_alloc", op.scope) == ["src/a.c"]
    assert apply_op(op, tmp_path) == ("src/a.c",)
    assert (tmp_path / "src" / "a.c").read_text() == (
        "rt_heap_alloc(x); rt_heap_alloc(y); test_heap_alloc_z(); heap_allocs;\n"
    )
    assert (tmp_path / "README").read_text() == "heap_alloc\n"
    assert apply_op(op, tmp_path) == ()


def test_text_ops_are_idempotent(tmp_path: Path) -> None:
    ops = [
        SolutionOp(OpKind.WRITE_FILE, path="f.h", text="struct s;\n/* end */\n"),
        SolutionOp(OpKind.INSERT_AFTER, path="f.h", anchor="struct s;\n", text="int f(void);\n"),
        SolutionOp(OpKind.APPEND, path="f.h", text="int g(void);\n"),
        SolutionOp(OpKind.REPLACE_TEXT, path="f.h", old="/* end */", new="/* fin */"),
    ]
    assert apply_ops(ops, tmp_path) == ("f.h",)
    expected = "struct s;\nint f(void);\n/* fin */\nint g(void);\n"
    assert (tmp_path / "f.h").read_text() == expected
    assert apply_ops(ops[1:], tmp_path) == ()
    assert (tmp_path / "f.h").read_text() == expected


@pytest.mark.parametrize(
    ("op", "message"),
    [
        (SolutionOp(OpKind.REPLACE_TEXT, path="f.h", old="nope", new="yes"), "text to replace not found"),
        (SolutionOp(OpKind.INSERT_AFTER, path="f.h", anchor="nope", text="x"), "anchor 'nope' not found"),
        (SolutionOp(OpKind.REPLACE_TEXT, path="g.h", old="a", new="b"), "g.h: no such file"),
    ],
)
def test_ops_that_cannot_apply_raise(tmp_path: Path, op: SolutionOp, message: str) -> None:
    (tmp_path / "f.h").write_text("int x;\n")
    with pytest.raises(ScenarioError, match=message):
        apply_op(op, tmp_path)


def test_partial_rename_touches_half_the_files(tmp_path: Path) -> None:
    (tmp_path / "src").mkdir()
    for name in ("a.c", "b.c", "c.c", "d.c"):
        (tmp_path / "src" / name).write_text("gc_mark();\n")
    op = SolutionOp(OpKind.RENAME, old="gc_mark", new="rt_gc_mark")
    assert apply_partial([op], tmp_path) == ("src/a.c", "src/b.c")
    assert files_with_symbol(tmp_path, "gc_mark", op.scope) == ["src/c.c", "src/d.c"]


def test_every_task_meets_the_plan_quality_rules(tmp_path: Path) -> None:
    for task in load_scenario("c-runtime-refactor").iter_tasks():
        fields = {"name": task.name, "notes": task.notes, "accept": task.accept, "check": task.check}
        assert validate_task(fields, True, repo=tmp_path) == [], task.key
