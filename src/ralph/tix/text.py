"""Text views: ``report`` (C tix wording), ``status`` dashboard, ``tree``; and the TQL report pipelines."""

from __future__ import annotations

import tomllib
from collections.abc import Iterator, Mapping
from typing import TYPE_CHECKING

from ralph.errors import StoreError
from ralph.tix.records import Priority, TaskCounts, TaskStatus, Ticket, TicketType, ValidationReport

if TYPE_CHECKING:
    from ralph.tix.reads import StoreReader

__all__ = ["REPORTS", "report_text", "status_text", "tree_text", "validation_text"]

_COST = "sum meta.cost | avg meta.cost"
_TOKENS = "sum meta.tokens_in | sum meta.tokens_out"
REPORTS = {
    "velocity": f"tasks all | status=done,accepted | count | {_COST} | {_TOKENS} | avg meta.iterations"
    " | sum meta.retries | sum meta.kill_count",
    "models": f"tasks all | meta.model!= | group meta.model | count | {_COST} | {_TOKENS}"
    " | avg meta.iterations | sort sum_meta.cost desc",
    "labels": f"tasks all | group label | count | {_COST} | sort count desc",
    "actors": f"tasks all | author!= | group author | count | {_COST}"
    " | avg meta.iterations | sort count desc",
}
"""The four reports the earlier ralph built with TQL (all of them work here: no meta-join cap)."""

_STATUS_MARK = {
    TaskStatus.PENDING: " ",
    TaskStatus.DONE: "d",
    TaskStatus.ACCEPTED: "a",
    TaskStatus.REJECTED: "r",
    TaskStatus.DELETED: "x",
}


def _blocked(tickets: Mapping[str, Ticket]) -> int:
    """Live tickets with at least one dep that exists and is still pending."""
    pending = {i for i, t in tickets.items() if t.status is TaskStatus.PENDING}
    return sum(1 for t in tickets.values() if t.is_live and any(d in pending for d in t.deps))


def _percent(c: TaskCounts) -> int:
    return (c.done + c.accepted) * 100 // c.total if c.total else 0


def _tasks_line(c: TaskCounts) -> str:
    return (
        f"Tasks: {c.total} total, {c.pending} pending, {c.done} done, {c.accepted} accepted ({_percent(c)}%)"
    )


def _summary_lines(store: StoreReader) -> list[str]:
    tickets = {t.id: t for t in store.all_tickets()}
    lines = []
    for label, count in (
        ("Issues: {} open", len(store.issues())),
        ("Notes: {}", len(store.notes())),
        ("Blocked: {} (waiting on dependencies)", _blocked(tickets)),
    ):
        if count:
            lines.append(label.format(count))
    return lines


def report_text(store: StoreReader) -> str:
    """The progress report, worded as the C tix printed it."""
    counts = store.counts()
    lines = [
        "Progress Report",
        "===============",
        _tasks_line(counts),
        *_summary_lines(store),
        "",
        "By Priority:",
    ]
    pending = store.tasks(TaskStatus.PENDING)
    for level in (Priority.HIGH, Priority.MEDIUM, Priority.LOW):
        lines.append(f"  {level.label.capitalize()}: {sum(t.priority is level for t in pending)}")
    return "\n".join(lines) + "\n"


def _main_branch(store: StoreReader) -> str:
    try:
        config = tomllib.loads((store.tix_dir / "config.toml").read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError):
        return "main"
    repo = config.get("repo", {})
    return str(repo.get("main_branch", "main")) if isinstance(repo, dict) else "main"


def status_text(store: StoreReader) -> str:
    """Dashboard: branch, progress bar, counts, the next pending tasks and open issues."""
    counts = store.counts()
    head = store.git.head_commit()[:7] or "no commits"
    lines = ["tix status", "==========", f"Branch: {store.git.branch() or '(detached)'} ({head})"]
    lines += [f"Main: {_main_branch(store)}", _tasks_line(counts)]
    if counts.total:
        filled = _percent(counts) * 30 // 100
        lines.append(
            f"[{'=' * filled}{'>' if filled < 30 else ''}{' ' * max(0, 29 - filled)}] {_percent(counts)}%"
        )
    lines += _summary_lines(store)
    lines += ["", "Pending Tasks:"]
    tag = {Priority.HIGH: " [HIGH]", Priority.MEDIUM: " [MED]"}
    for t in store.tasks(TaskStatus.PENDING)[:5]:
        labels = f" [{', '.join(t.labels)}]" if t.labels else ""
        lines.append(f"  {t.id} {t.name}{tag.get(t.priority, '')}{labels}")
    lines += ["", "Open Issues:"]
    lines += [f"  {i.id} {i.name}" for i in store.issues()[:5]]
    return "\n".join(lines) + "\n"


def _branches(
    node: Ticket, children: Mapping[str, list[Ticket]], prefix: str, path: set[str]
) -> Iterator[str]:
    kids = children.get(node.id, [])
    for index, kid in enumerate(kids):
        last = index == len(kids) - 1
        joint, more = ("└── ", "    ") if last else ("├── ", "│   ")
        if kid.id in path:
            yield f"{prefix}{joint}{kid.id} (cycle)"
            continue
        yield f"{prefix}{joint}[{_STATUS_MARK[kid.status]}] {kid.id} {kid.name}"
        yield from _branches(kid, children, prefix + more, path | {kid.id})


def tree_text(store: StoreReader, root_id: str | None = None) -> str:
    """Tickets and their dependents, recursively (cycle-safe). Without an id: every task with no deps."""
    tickets = [t for t in store.all_tickets() if t.status is not TaskStatus.DELETED]
    children: dict[str, list[Ticket]] = {}
    for t in tickets:
        for dep in t.deps:
            children.setdefault(dep, []).append(t)
    if root_id is not None:
        roots = [store.get(root_id)]
    else:
        roots = [t for t in tickets if t.type is TicketType.TASK and not t.deps]
    if not roots and root_id is None:
        return "(no tasks)\n"
    lines: list[str] = []
    for root in roots:
        lines.append(f"[{_STATUS_MARK[root.status]}] {root.id} {root.name}")
        lines.extend(_branches(root, children, "", {root.id}))
    if not lines:
        raise StoreError("nothing to show")
    return "\n".join(lines) + "\n"


def validation_text(result: ValidationReport) -> str:
    """``Validation PASSED|FAILED``, then ``ERROR:`` and ``WARN:`` lines, or ``No issues found.``"""
    lines = [f"Validation {'PASSED' if result.ok else 'FAILED'}"]
    lines += [f"ERROR: {line}" for line in result.errors]
    lines += [f"WARN: {line}" for line in result.warnings]
    if not result.errors and not result.warnings:
        lines.append("No issues found.")
    return "\n".join(lines) + "\n"
