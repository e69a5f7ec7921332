"""Stage-specific rules applied to a schema-valid answer before anything reaches the store.

Task lists keep their valid items and send the others back with the validator's errors; int deps are turned
into names first, so dropping an invalid item never shifts another item's dependencies.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from ralph.loop.exchange import Check

__all__ = ["all_tasks_check", "merged_list", "task_list_check"]


def _named_deps(items: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    names = [str(item.get("name", "")).strip() for item in items]
    out: list[dict[str, Any]] = []
    for item in items:
        deps = [
            names[d] if isinstance(d, int) and not isinstance(d, bool) and 0 <= d < len(names) else d
            for d in item.get("deps") or ()
        ]
        out.append({**item, "deps": deps})
    return out


def _split(key: str, data: Mapping[str, Any], strict: bool, repo: Path | None) -> tuple[list[Any], list[str]]:
    from ralph.output import validate_task  # with the first answer, not with every `ralph` command

    good: list[Any] = []
    errors: list[str] = []
    for index, item in enumerate(_named_deps(data.get(key) or ())):
        problems = validate_task(item, strict, repo=repo)
        if problems:
            errors += [f"{key}[{index}] ({str(item.get('name', ''))[:60]!r}) {p}" for p in problems]
        else:
            good.append(item)
    return good, errors


def task_list_check(key: str, strict: bool, repo: Path | None, *, resend_invalid: bool = True) -> Check:
    """Keep the valid items of ``data[key]``; ask again only for the invalid ones (unless told not to)."""

    def check(data: Mapping[str, Any]) -> tuple[Mapping[str, Any] | None, list[str]]:
        good, errors = _split(key, data, strict, repo)
        return {**data, key: good}, errors if resend_invalid else []

    return check


def all_tasks_check(key: str, strict: bool, repo: Path | None) -> Check:
    """All items of ``data[key]`` must pass, or the whole answer is sent back (DECOMPOSE)."""

    def check(data: Mapping[str, Any]) -> tuple[Mapping[str, Any] | None, list[str]]:
        good, errors = _split(key, data, strict, repo)
        return ({**data, key: good}, []) if not errors else (None, errors)

    return check


def merged_list(parts: Sequence[Mapping[str, Any]], key: str) -> list[Any]:
    """The items of ``key`` across the repair rounds, in order."""
    return [item for part in parts for item in part.get(key) or ()]
