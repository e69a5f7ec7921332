"""Scenario records (frozen) and the ``scenario.toml`` loader; a task's solution is a list of ops."""

from __future__ import annotations

import tomllib
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, replace
from enum import StrEnum
from pathlib import Path
from typing import Any

from ralph.errors import RalphError

__all__ = [
    "Gate",
    "OpKind",
    "Scenario",
    "ScenarioError",
    "ScenarioTask",
    "SolutionOp",
    "parse_scenario",
]

RENAME_SCOPE: tuple[str, ...] = ("src", "include", "tests")


class ScenarioError(RalphError):
    """A bundled scenario is malformed, or a solution op cannot be applied to a tree."""


class OpKind(StrEnum):
    RENAME = "rename"
    WRITE_FILE = "write_file"
    REPLACE_TEXT = "replace_text"
    APPEND = "append"
    INSERT_AFTER = "insert_after"


@dataclass(frozen=True)
class SolutionOp:
    """One edit. rename: ``old``/``new`` symbols under ``scope``; replace_text: ``old``/``new`` text in
    ``path``; write_file/append: ``text`` to ``path``; insert_after: ``text`` after ``anchor`` in ``path``."""

    kind: OpKind
    path: str = ""
    old: str = ""
    new: str = ""
    text: str = ""
    anchor: str = ""
    scope: tuple[str, ...] = RENAME_SCOPE


@dataclass(frozen=True)
class ScenarioTask:
    """A planned task or a subtask with its known solution; ``deps`` are keys of siblings."""

    key: str
    name: str
    notes: str
    accept: str
    check: str
    difficulty: int
    phase: int
    priority: str
    deps: tuple[str, ...]
    ops: tuple[SolutionOp, ...]
    subtasks: tuple[ScenarioTask, ...] = ()
    parent: str | None = None

    @property
    def files(self) -> tuple[str, ...]:
        """Files the explicit ops name (renames touch whatever holds the symbol)."""
        return tuple(dict.fromkeys(op.path for op in self.ops if op.path))

    @property
    def labels(self) -> tuple[str, ...]:
        return (f"sim:{self.key}", f"phase:{self.phase}")


@dataclass(frozen=True)
class Gate:
    label: str
    command: str


@dataclass(frozen=True)
class Scenario:
    """A bundled target project, its spec and the tasks of the spec with their solutions."""

    name: str
    title: str
    description: str
    root: Path
    spec: str
    build: str
    test: str
    gates: tuple[Gate, ...]
    gitignore: tuple[str, ...]
    tasks: tuple[ScenarioTask, ...]

    @property
    def project_dir(self) -> Path:
        return self.root / "project"

    @property
    def spec_path(self) -> Path:
        return self.root / "specs" / self.spec

    def iter_tasks(self) -> Iterator[ScenarioTask]:
        """Every task, each followed by its subtasks."""
        for task in self.tasks:
            yield task
            yield from task.subtasks

    def find_task(self, key: str) -> ScenarioTask | None:
        return next((t for t in self.iter_tasks() if t.key == key), None)

    def task(self, key: str) -> ScenarioTask:
        found = self.find_task(key)
        if found is None:
            raise ScenarioError(f"scenario {self.name} has no task {key!r}")
        return found

    def solution_order(self, key: str) -> tuple[ScenarioTask, ...]:
        """The tasks whose ops must be applied, in order, to reach ``key`` from the initial project:
        the parent's dependency closure, then sibling dependencies, then the task itself."""
        target = self.task(key)
        order: list[ScenarioTask] = []
        if target.parent is not None:
            order.extend(self._closure(self.tasks, self.task(target.parent).deps))
            order.extend(self._closure(self.task(target.parent).subtasks, target.deps))
        else:
            order.extend(self._closure(self.tasks, target.deps))
        order.append(target)
        return tuple(order)

    def full_solution(self) -> tuple[SolutionOp, ...]:
        """Ops of every top-level task in dependency order."""
        order = self._closure(self.tasks, tuple(t.key for t in self.tasks))
        return tuple(op for task in order for op in task.ops)

    @staticmethod
    def _closure(pool: tuple[ScenarioTask, ...], keys: tuple[str, ...]) -> list[ScenarioTask]:
        by_key = {t.key: t for t in pool}
        done: dict[str, ScenarioTask] = {}

        def visit(key: str) -> None:
            if key in done:
                return
            for dep in by_key[key].deps:
                visit(dep)
            done[key] = by_key[key]

        for key in keys:
            visit(key)
        return list(done.values())


def parse_scenario(root: Path) -> Scenario:
    """Load ``root/scenario.toml``; ScenarioError names the file and the bad key."""
    path = root / "scenario.toml"
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as err:
        raise ScenarioError(f"{path}: {err}") from err
    head = _table(data, "scenario", path)
    tasks = tuple(_task(raw, root, path, None, 0) for raw in _tables(data, "task", path))
    scenario = Scenario(
        name=_str(head, "name", path),
        title=_str(head, "title", path),
        description=_str(head, "description", path),
        root=root,
        spec=_str(head, "spec", path),
        build=_str(head, "build", path),
        test=_str(head, "test", path),
        gates=tuple(_gate(raw, path) for raw in _tables(data, "gate", path)),
        gitignore=tuple(head.get("gitignore", ())),
        tasks=tasks,
    )
    _check_keys(scenario, path)
    return scenario


_TASK_KEYS = frozenset(
    {"key", "name", "notes", "accept", "check", "difficulty", "phase", "priority", "deps", "ops", "subtask"}
)
_OP_KEYS = frozenset({"op", "path", "old", "new", "text", "source", "anchor", "scope"})


def _gate(raw: Mapping[str, Any], path: Path) -> Gate:
    return Gate(_str(raw, "label", path), _str(raw, "command", path))


def _task(
    raw: Mapping[str, Any], root: Path, path: Path, parent: ScenarioTask | None, depth: int
) -> ScenarioTask:
    key = _str(raw, "key", path)
    unknown = set(raw) - _TASK_KEYS
    if unknown:
        raise ScenarioError(f"{path}: task {key}: unknown keys {sorted(unknown)}")
    task = ScenarioTask(
        key=key,
        name=_str(raw, "name", path),
        notes=_str(raw, "notes", path),
        accept=_str(raw, "accept", path),
        check=_str(raw, "check", path),
        difficulty=int(raw.get("difficulty", 2)),
        phase=int(raw.get("phase", parent.phase if parent else 0)),
        priority=str(raw.get("priority", parent.priority if parent else "medium")),
        deps=tuple(raw.get("deps", ())),
        ops=tuple(_op(o, root, path, key) for o in raw.get("ops", ())),
        parent=parent.key if parent else None,
    )
    subtasks = tuple(_task(s, root, path, task, depth + 1) for s in raw.get("subtask", ()))
    if subtasks and depth > 0:
        raise ScenarioError(f"{path}: subtask {key} has subtasks of its own")
    if subtasks:
        if task.ops:
            raise ScenarioError(f"{path}: task {key} lists ops and subtasks; its ops are its subtasks' ops")
        ordered = Scenario._closure(subtasks, tuple(s.key for s in subtasks))
        ops = tuple(op for sub in ordered for op in sub.ops)
        task = replace(task, ops=ops, subtasks=subtasks)
    return task


def _op(raw: Mapping[str, Any], root: Path, path: Path, key: str) -> SolutionOp:
    unknown = set(raw) - _OP_KEYS
    if unknown:
        raise ScenarioError(f"{path}: task {key}: op has unknown keys {sorted(unknown)}")
    try:
        kind = OpKind(raw.get("op", ""))
    except ValueError:
        raise ScenarioError(f"{path}: task {key}: unknown op {raw.get('op')!r}") from None
    text = str(raw.get("text", ""))
    if "source" in raw:
        text = (root / str(raw["source"])).read_text(encoding="utf-8")
    op = SolutionOp(
        kind=kind,
        path=str(raw.get("path", "")),
        old=str(raw.get("old", "")),
        new=str(raw.get("new", "")),
        text=text,
        anchor=str(raw.get("anchor", "")),
        scope=tuple(raw.get("scope", RENAME_SCOPE)),
    )
    needs_path = kind is not OpKind.RENAME
    if (needs_path and not op.path) or (kind in (OpKind.RENAME, OpKind.REPLACE_TEXT) and not op.old):
        raise ScenarioError(f"{path}: task {key}: {kind} op lacks path or old")
    return op


def _check_keys(scenario: Scenario, path: Path) -> None:
    seen: set[str] = set()
    for task in scenario.iter_tasks():
        if task.key in seen:
            raise ScenarioError(f"{path}: duplicate task key {task.key}")
        seen.add(task.key)
    for task in scenario.tasks:
        _check_deps(task, {t.key for t in scenario.tasks}, path)
        for sub in task.subtasks:
            _check_deps(sub, {s.key for s in task.subtasks}, path)


def _check_deps(task: ScenarioTask, siblings: set[str], path: Path) -> None:
    missing = [d for d in task.deps if d not in siblings]
    if missing:
        raise ScenarioError(f"{path}: task {task.key}: unknown deps {missing}")


def _table(data: Mapping[str, Any], key: str, path: Path) -> Mapping[str, Any]:
    value = data.get(key)
    if not isinstance(value, dict):
        raise ScenarioError(f"{path}: missing table [{key}]")
    return value


def _tables(data: Mapping[str, Any], key: str, path: Path) -> list[Mapping[str, Any]]:
    value = data.get(key, [])
    if not isinstance(value, list):
        raise ScenarioError(f"{path}: {key} must be an array of tables")
    return value


def _str(data: Mapping[str, Any], key: str, path: Path) -> str:
    value = data.get(key)
    if not isinstance(value, str):
        raise ScenarioError(f"{path}: {key} must be a string")
    return value
