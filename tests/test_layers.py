"""Imports point downwards only (STYLE.md 'Layers'). Reads every module's imports with ast."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[1] / "src" / "ralph"

# lowest first; a module may import only from strictly lower layers or from its own package at its layer
LAYERS: list[tuple[str, ...]] = [
    ("ralph.errors", "ralph.stage", "ralph.clock"),
    ("ralph.proc",),
    ("ralph.settings", "ralph.tix", "ralph.output", "ralph.agents.base", "ralph.ledger", "ralph.scenarios"),
    ("ralph.agents", "ralph.gitops", "ralph.sandbox"),
    ("ralph.loop",),
    ("ralph.watch",),
    ("ralph.bench",),
    ("ralph.report",),
    ("ralph.cli",),
]


def layer_of(module: str) -> tuple[int, str]:
    best: tuple[int, str] | None = None
    for index, prefixes in enumerate(LAYERS):
        for prefix in prefixes:
            if (module == prefix or module.startswith(prefix + ".")) and (
                best is None or len(prefix) > len(best[1])
            ):
                best = (index, prefix)
    if best is None:
        raise AssertionError(f"{module} is in no layer; add it to LAYERS")
    return best


def module_name(path: Path) -> str:
    rel = path.relative_to(SRC.parent).with_suffix("")
    parts = list(rel.parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def imported_modules(path: Path) -> list[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names: list[str] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.extend(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.append(node.module)
    return [n for n in names if n == "ralph" or n.startswith("ralph.")]


MODULES = sorted(p for p in SRC.rglob("*.py"))


@pytest.mark.parametrize("path", MODULES, ids=lambda p: str(p.relative_to(SRC)))
def test_imports_point_downwards(path: Path) -> None:
    me = module_name(path)
    if me == "ralph":
        return
    my_layer, my_prefix = layer_of(me)
    for target in imported_modules(path):
        if target == "ralph":
            continue
        their_layer, their_prefix = layer_of(target)
        same_package = their_prefix == my_prefix
        assert their_layer < my_layer or (same_package and their_layer == my_layer), (
            f"{me} (layer {my_layer}) imports {target} (layer {their_layer})"
        )


def test_no_utils_modules() -> None:
    banned = {"utils.py", "helpers.py", "manager.py", "misc.py"}
    assert not [p for p in MODULES if p.name in banned]
