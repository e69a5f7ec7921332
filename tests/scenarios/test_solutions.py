"""Every known solution really builds and passes its check with real make and gcc; checks can fail."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from ralph.scenarios import Scenario, apply_ops, apply_partial, load_scenario

SCENARIO = load_scenario("c-runtime-refactor")
ALL_KEYS = [task.key for task in SCENARIO.iter_tasks()]
PARENTS = [task.key for task in SCENARIO.tasks if task.subtasks]


def fresh_copy(tmp_path: Path, scenario: Scenario = SCENARIO) -> Path:
    root = tmp_path / "project"
    shutil.copytree(scenario.project_dir, root)
    return root


def sh(command: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["sh", "-c", command], cwd=cwd, capture_output=True, text=True, timeout=120)


def tree(root: Path) -> dict[str, str]:
    return {
        p.relative_to(root).as_posix(): p.read_text()
        for p in sorted(root.rglob("*"))
        if p.is_file() and "out" not in p.relative_to(root).parts
    }


def apply_upto(root: Path, key: str, *, include_self: bool = True) -> None:
    order = SCENARIO.solution_order(key)
    for task in order if include_self else order[:-1]:
        apply_ops(task.ops, root)


def test_initial_project_builds_and_tests(tmp_path: Path) -> None:
    root = fresh_copy(tmp_path)
    done = sh(f"{SCENARIO.build} && {SCENARIO.test}", root)
    assert done.returncode == 0, done.stderr
    assert "8 tests, 0 failed checks" in done.stdout


@pytest.mark.parametrize("key", ALL_KEYS)
def test_solution_passes_check_and_check_fails_without_it(key: str, tmp_path: Path) -> None:
    task = SCENARIO.task(key)
    root = fresh_copy(tmp_path)
    apply_upto(root, key, include_self=False)
    before = sh(task.check, root)
    assert before.returncode != 0, f"check of {key} passes before its solution: {task.check}"
    apply_ops(task.ops, root)
    after = sh(task.check, root)
    assert after.returncode == 0, f"{key}: {after.stdout[-800:]}\n{after.stderr[-1500:]}"


def test_full_solution_passes_every_gate_and_initial_fails_them(tmp_path: Path) -> None:
    initial = fresh_copy(tmp_path / "a")
    solved = fresh_copy(tmp_path / "b")
    apply_ops(SCENARIO.full_solution(), solved)
    for gate in SCENARIO.gates:
        assert sh(gate.command, solved).returncode == 0, gate.label
        assert sh(gate.command, initial).returncode != 0, gate.label
    listed = sh("./out/test_runner --list", solved).stdout.split()
    assert len(listed) == 12 and "test_rt_context_roots" in listed


@pytest.mark.parametrize("key", PARENTS)
def test_task_equals_union_of_its_subtasks(key: str, tmp_path: Path) -> None:
    task = SCENARIO.task(key)
    whole = fresh_copy(tmp_path / "whole")
    parts = fresh_copy(tmp_path / "parts")
    apply_upto(whole, key)
    apply_upto(parts, key, include_self=False)
    for sub in task.subtasks:
        apply_ops(sub.ops, parts)
    assert tree(whole) == tree(parts)
    assert {op for sub in task.subtasks for op in sub.ops} == set(task.ops)


def test_independent_tasks_compose_in_any_order(tmp_path: Path) -> None:
    forward = fresh_copy(tmp_path / "forward")
    backward = fresh_copy(tmp_path / "backward")
    apply_ops(SCENARIO.full_solution(), forward)
    phase0 = [t for t in SCENARIO.tasks if t.phase == 0]
    for task in reversed(phase0):
        for sub in reversed(task.subtasks):
            apply_ops(sub.ops, backward)
    for key in ("tests-str", "context-struct", "lifecycle-api", "tests-context", "lifecycle-use"):
        task = SCENARIO.task(key)
        for sub in reversed(task.subtasks) if not any(s.deps for s in task.subtasks) else task.subtasks:
            apply_ops(sub.ops, backward)
    assert sh(f"{SCENARIO.build} && {SCENARIO.test}", backward).returncode == 0
    assert set(tree(forward)) == set(tree(backward))
    assert sorted(tree(forward)["tests/tests.def"].splitlines()) == sorted(
        tree(backward)["tests/tests.def"].splitlines()
    )


def test_full_solution_is_idempotent(tmp_path: Path) -> None:
    root = fresh_copy(tmp_path)
    apply_ops(SCENARIO.full_solution(), root)
    once = tree(root)
    apply_ops(SCENARIO.full_solution(), root)
    assert tree(root) == once
    phase0 = [op for task in SCENARIO.tasks if task.phase == 0 for op in task.ops]
    assert apply_ops(phase0, root) == ()


@pytest.mark.parametrize("key", ["rename-heap", "rename-value-type", "lifecycle-init"])
def test_partial_solution_fails_the_check(key: str, tmp_path: Path) -> None:
    task = SCENARIO.task(key)
    root = fresh_copy(tmp_path)
    apply_upto(root, key, include_self=False)
    changed = apply_partial(task.ops, root)
    assert changed
    assert sh(task.check, root).returncode != 0
