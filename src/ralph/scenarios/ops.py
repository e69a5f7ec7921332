"""Apply solution ops to a directory. Every op is idempotent, so solutions compose in any order."""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from pathlib import Path

from ralph.scenarios.model import OpKind, ScenarioError, SolutionOp

__all__ = ["apply_op", "apply_ops", "apply_partial", "files_with_symbol"]


def apply_ops(ops: Iterable[SolutionOp], root: Path) -> tuple[str, ...]:
    """Apply ``ops`` in order under ``root``; returns the relative paths that changed."""
    changed: dict[str, None] = {}
    for op in ops:
        changed.update(dict.fromkeys(apply_op(op, root)))
    return tuple(changed)


def apply_partial(ops: Sequence[SolutionOp], root: Path) -> tuple[str, ...]:
    """Apply the first half of ``ops`` and half of the next one (a rename in half the files that hold the
    symbol, or the first half of a file's text): what an agent that stopped midway leaves behind."""
    cut = len(ops) // 2
    changed = list(apply_ops(ops[:cut], root))
    if cut < len(ops):
        changed.extend(_apply_half(ops[cut], root))
    return tuple(dict.fromkeys(changed))


def apply_op(op: SolutionOp, root: Path) -> tuple[str, ...]:
    """Apply one op; ScenarioError when its anchor or old text is missing and the op is not yet applied."""
    if op.kind is OpKind.RENAME:
        return _rename(op, root, files_with_symbol(root, op.old, op.scope))
    target = root / op.path
    before = target.read_text(encoding="utf-8") if target.is_file() else None
    after = _edited(op, before)
    if after == before:
        return ()
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(after, encoding="utf-8")
    return (op.path,)


def files_with_symbol(root: Path, symbol: str, scope: Sequence[str]) -> list[str]:
    """Relative paths (sorted) of text files under ``scope`` that hold ``symbol`` as a whole word."""
    pattern = _word(symbol)
    found: list[str] = []
    for top in scope:
        base = root / top
        if not base.is_dir():
            continue
        for path in sorted(p for p in base.rglob("*") if p.is_file()):
            text = _read_text(path)
            if text is not None and pattern.search(text):
                found.append(path.relative_to(root).as_posix())
    return found


def _edited(op: SolutionOp, before: str | None) -> str:
    if op.kind is OpKind.WRITE_FILE:
        return op.text
    if before is None:
        if op.kind is OpKind.APPEND:
            return op.text
        raise ScenarioError(f"{op.kind} {op.path}: no such file")
    if op.kind is OpKind.APPEND:
        return before if op.text in before else before + op.text
    if op.kind is OpKind.REPLACE_TEXT:
        return _replace_text(op, before)
    return _insert_after(op, before)


def _replace_text(op: SolutionOp, before: str) -> str:
    if op.old in before:
        return before.replace(op.old, op.new, 1)
    if op.new in before:
        return before
    raise ScenarioError(f"replace_text {op.path}: text to replace not found")


def _insert_after(op: SolutionOp, before: str) -> str:
    at = before.find(op.anchor)
    if at < 0:
        raise ScenarioError(f"insert_after {op.path}: anchor {op.anchor.strip()!r} not found")
    end = at + len(op.anchor)
    if before.startswith(op.text, end):
        return before
    return before[:end] + op.text + before[end:]


def _rename(op: SolutionOp, root: Path, files: Sequence[str]) -> tuple[str, ...]:
    pattern = _word(op.old)
    for rel in files:
        path = root / rel
        path.write_text(pattern.sub(op.new, path.read_text(encoding="utf-8")), encoding="utf-8")
    return tuple(files)


def _apply_half(op: SolutionOp, root: Path) -> tuple[str, ...]:
    if op.kind is OpKind.RENAME:
        files = files_with_symbol(root, op.old, op.scope)
        return _rename(op, root, files[: max(1, len(files) // 2)])
    if op.kind in (OpKind.WRITE_FILE, OpKind.APPEND):
        half = op.text[: len(op.text) // 2]
        return apply_op(SolutionOp(kind=op.kind, path=op.path, text=half), root) if half else ()
    return ()


def _word(symbol: str) -> re.Pattern[str]:
    return re.compile(rf"\b{re.escape(symbol)}\b")


def _read_text(path: Path) -> str | None:
    try:
        return path.read_text(encoding="utf-8")
    except (UnicodeDecodeError, OSError):
        return None
