"""Batch adds: ids assigned up front so deps can name other members by position or ``ref`` (pure rules
over a mutation's view; the store supplies it)."""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any, Protocol

from ralph.errors import StoreError
from ralph.tix.records import Ticket, TicketType, is_ticket_id, new_id
from ralph.tix.rules import build_ticket, check_refs

__all__ = ["BatchView", "apply_ops", "build_batch", "read_batch_source"]

_POSITION = re.compile(r"^[@#]?(\d+)$")


class BatchView(Protocol):
    """What a batch needs from the running mutation."""

    now: float

    def find(self, ticket_id: str) -> Ticket | None: ...

    def get(self, ticket_id: str) -> Ticket: ...

    def __contains__(self, ticket_id: object) -> bool: ...

    def put(self, ticket: Ticket, meta_keys: Any = ()) -> None: ...


def build_batch(tx: BatchView, items: Sequence[Mapping[str, Any]], *, author: str, branch: str) -> list[str]:
    """Validate and stage every item; nothing is staged unless all pass. Returns the new ids in order."""
    if not items:
        raise StoreError("no tasks to add")
    for index, item in enumerate(items):
        if not isinstance(item, Mapping):
            raise StoreError(f"item {index}: expected a JSON object")
    ids: list[str] = []
    for _ in items:
        ids.append(new_id(TicketType.TASK, _Taken(tx, ids)))
    refs = _ref_table(items)
    tickets = []
    for index, item in enumerate(items):
        fields = {k: v for k, v in item.items() if k != "ref"}
        if "deps" in fields and isinstance(fields["deps"], list):
            fields["deps"] = [_resolve(dep, index, refs, ids) for dep in fields["deps"]]
        try:
            tickets.append(
                build_ticket(
                    TicketType.TASK, fields, ticket_id=ids[index], now=tx.now, author=author, branch=branch
                )
            )
        except StoreError as err:
            raise _at(index, len(items), err) from err
    staged = {t.id: t for t in tickets}
    for index, ticket in enumerate(tickets):
        try:
            check_refs(ticket, lambda i: staged.get(i) or tx.find(i))
        except StoreError as err:
            raise _at(index, len(items), err) from err
    _refuse_cycles(staged)
    for ticket in tickets:
        tx.put(ticket, None)
    return ids


def apply_ops(
    tx: BatchView,
    ops: Sequence[Mapping[str, Any]],
    *,
    author: str,
    branch: str,
    delete: Callable[[Ticket], None],
) -> dict[str, Any]:
    """``{"op":"add",...}`` items go through ``build_batch`` together; then ``{"op":"delete","id"}``."""
    adds: list[Mapping[str, Any]] = []
    deletes: list[str] = []
    for index, op in enumerate(ops):
        kind = op.get("op", "add") if isinstance(op, Mapping) else None
        if kind == "add":
            adds.append({k: v for k, v in op.items() if k != "op"})
        elif kind == "delete" and isinstance(op.get("id"), str):
            deletes.append(op["id"])
        else:
            raise StoreError(f'op {index}: expected {{"op":"add",...}} or {{"op":"delete","id":...}}')
    ids = build_batch(tx, adds, author=author, branch=branch) if adds else []
    for ticket_id in deletes:
        delete(tx.get(ticket_id))
    return {"success": len(adds) + len(deletes), "errors": 0, "ids": ids, "deleted": deletes}


def _at(index: int, count: int, err: StoreError) -> StoreError:
    """Name the batch item in the message (a single add needs no position)."""
    return StoreError(f"item {index}: {err}") if count > 1 else err


class _Taken:
    def __init__(self, tx: BatchView, ids: list[str]) -> None:
        self.tx, self.ids = tx, ids

    def __contains__(self, ticket_id: object) -> bool:
        return ticket_id in self.ids or ticket_id in self.tx


def _ref_table(items: Sequence[Mapping[str, Any]]) -> dict[str, int]:
    refs: dict[str, int] = {}
    for index, item in enumerate(items):
        ref = item.get("ref")
        if ref is not None:
            if not isinstance(ref, str) or not ref or ref in refs:
                raise StoreError(f"item {index}: 'ref' must be a unique non-empty string")
            refs[ref] = index
    return refs


def _resolve(dep: object, index: int, refs: Mapping[str, int], ids: Sequence[str]) -> str:
    """A dep is a ticket id, a batch position (N, "@N", "#N"), or "@ref"/"ref" of another member."""
    if isinstance(dep, str) and is_ticket_id(dep):
        return dep
    position: int | None = None
    if isinstance(dep, int) and not isinstance(dep, bool):
        position = dep
    elif isinstance(dep, str):
        key = dep[1:] if dep.startswith("@") else dep
        if key in refs:
            position = refs[key]
        elif match := _POSITION.match(dep):
            position = int(match.group(1))
    if position is None or not 0 <= position < len(ids):
        raise StoreError(f"item {index}: unresolvable dep {dep!r}")
    return ids[position]


def _refuse_cycles(staged: Mapping[str, Ticket]) -> None:
    state: dict[str, int] = {}

    def visit(ticket_id: str) -> None:
        state[ticket_id] = 1
        for dep in staged[ticket_id].deps:
            if dep in staged and state.get(dep) == 1:
                raise StoreError(f"dependency cycle through {dep}")
            if dep in staged and dep not in state:
                visit(dep)
        state[ticket_id] = 2

    for ticket_id in staged:
        if ticket_id not in state:
            visit(ticket_id)


def read_batch_source(source: str) -> list[Any]:
    """``tix batch FILE|JSON``: a JSON array of tasks (each an add), or a file holding such an array or
    JSONL ``{"op":"add"|"delete",...}`` lines."""
    text = source
    if not source.lstrip().startswith(("[", "{")):
        try:
            # Bytes that are not UTF-8 become lone surrogates, as in an argument: the write refuses them.
            text = Path(source).read_text(encoding="utf-8", errors="surrogateescape")
        except OSError as err:
            raise StoreError(f"cannot read batch file {source}: {err.strerror}") from err
    try:
        if text.lstrip().startswith("["):
            items = json.loads(text)
            return [{"op": "add", **item} if isinstance(item, dict) else item for item in items]
        return [json.loads(line) for line in text.splitlines() if line.strip()]
    except ValueError as err:
        raise StoreError(f"malformed JSON: {err}") from err
