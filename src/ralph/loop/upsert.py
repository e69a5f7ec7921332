"""Proposed tasks and issues into the store without duplicates: exact-name upsert, deps resolved to ids,
near-identical issues skipped. Applying the same proposal twice changes nothing the second time."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from ralph.loop.board import in_spec
from ralph.tix import Priority, TaskStatus, Ticket, TicketStore

__all__ = ["Applied", "add_issues", "similar", "upsert_tasks"]

_KNOWN = (TaskStatus.PENDING, TaskStatus.DONE, TaskStatus.ACCEPTED, TaskStatus.REJECTED, TaskStatus.DELETED)
_EDITABLE = ("notes", "accept", "check")


@dataclass(frozen=True)
class Applied:
    """Ids touched by one reconcile step, and remarks about what was ignored."""

    added: tuple[str, ...] = ()
    updated: tuple[str, ...] = ()
    skipped: tuple[str, ...] = ()
    issues: tuple[str, ...] = ()
    remarks: tuple[str, ...] = field(default_factory=tuple)


def upsert_tasks(
    store: TicketStore,
    spec: str,
    items: Sequence[Mapping[str, Any]],
    *,
    stamp: Mapping[str, Any] | None = None,
) -> Applied:
    """Add new tasks in one all-or-nothing batch; a name already known in the spec updates or is skipped."""
    if not items:
        return Applied()
    known = _known_by_name(store, spec)
    targets: list[str] = []
    new_items: list[dict[str, Any]] = []
    updated: list[str] = []
    skipped: list[str] = []
    seen: set[str] = set()
    for item in items:
        name = str(item["name"]).strip()
        if name in seen:
            targets.append("")
            continue
        seen.add(name)
        old = known.get(name)
        if old is None:
            targets.append(f"@{len(new_items)}")
            new_items.append(
                {"name": name, **_fields(item), **(stamp or {}), "spec": spec, "assigned": "ralph"}
            )
        elif old.status is TaskStatus.PENDING and _update(store, old, item):
            targets.append(old.id)
            updated.append(old.id)
        else:
            targets.append(old.id)
            skipped.append(old.id)
    remarks = _resolve_deps(items, targets, new_items, known)
    added = store.add_tasks(new_items) if new_items else []
    return Applied(tuple(t.id for t in added), tuple(updated), tuple(skipped), (), tuple(remarks))


def _known_by_name(store: TicketStore, spec: str) -> dict[str, Ticket]:
    """Tasks of the spec by name; a live task wins over an accepted or deleted one of the same name."""
    out: dict[str, Ticket] = {}
    for ticket in store.tasks(status=_KNOWN):
        if not in_spec(ticket, spec):
            continue
        if ticket.name not in out or ticket.is_live:
            out[ticket.name] = ticket
    return out


def _fields(item: Mapping[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {k: str(item[k]) for k in ("notes", "accept", "check") if item.get(k)}
    if item.get("priority") is not None:
        out["priority"] = Priority.parse(item["priority"]).label
    if item.get("labels"):
        out["labels"] = [str(label) for label in item["labels"]]
    if item.get("created_from"):
        out["created_from"] = str(item["created_from"])
    return out


def _update(store: TicketStore, old: Ticket, item: Mapping[str, Any]) -> bool:
    """Refresh notes/accept/check of a pending task; False when nothing differs."""
    changes = {k: str(item[k]) for k in _EDITABLE if item.get(k) and str(item[k]) != getattr(old, k)}
    if changes:
        store.update(old.id, changes)
    return bool(changes)


def _resolve_deps(
    items: Sequence[Mapping[str, Any]],
    targets: Sequence[str],
    new_items: list[dict[str, Any]],
    known: Mapping[str, Ticket],
) -> list[str]:
    """Turn each new item's deps (batch index, name or t-id) into ids or batch refs; drop the rest."""
    by_name = {str(item["name"]).strip(): targets[i] for i, item in enumerate(items) if targets[i]}
    remarks: list[str] = []
    for index, item in enumerate(items):
        target = targets[index]
        if not target.startswith("@"):
            continue
        deps: list[str] = []
        for dep in item.get("deps") or ():
            ref = _dep_ref(dep, targets, by_name, known)
            if ref is None or ref == target:
                remarks.append(f"task {item['name']!r}: dependency {dep!r} not found, dropped")
            elif ref not in deps:
                deps.append(ref)
        if deps:
            new_items[int(target[1:])]["deps"] = deps
    return remarks


def _dep_ref(
    dep: Any, targets: Sequence[str], by_name: Mapping[str, str], known: Mapping[str, Ticket]
) -> str | None:
    if isinstance(dep, int) and not isinstance(dep, bool):
        return targets[dep] or None if 0 <= dep < len(targets) else None
    text = str(dep).strip()
    if text in by_name:
        return by_name[text]
    if text in known:
        return known[text].id
    if re.fullmatch(r"t-[0-9a-fA-F]+", text) and any(t.id == text for t in known.values()):
        return text
    return None


def _words(text: str) -> set[str]:
    return set(re.findall(r"[a-z0-9_]+", text.lower()))


def similar(a: str, b: str, threshold: float) -> bool:
    """Exact match after normalising case and spaces, or Jaccard word similarity at least ``threshold``."""
    if " ".join(a.lower().split()) == " ".join(b.lower().split()):
        return True
    if threshold >= 1.0:
        return False
    wa, wb = _words(a), _words(b)
    return bool(wa and wb) and len(wa & wb) / len(wa | wb) >= threshold


def add_issues(
    store: TicketStore, spec: str, descs: Sequence[str], threshold: float, **fields: Any
) -> tuple[str, ...]:
    """Raise issues unless an open issue of the spec already says the same; returns the new ids."""
    if not any(desc.strip() for desc in descs):
        return ()
    open_texts = [i.name for i in store.issues(open_only=True) if in_spec(i, spec)]
    added: list[str] = []
    for desc in descs:
        text = desc.strip()
        if not text or any(similar(text, other, threshold) for other in open_texts):
            continue
        added.append(store.add_issue(text, spec=spec, **fields).id)
        open_texts.append(text)
    return tuple(added)
