"""What must hold after any crash: whole lines in plan.jsonl and the ledger, no task lost or duplicated, and
a tree that is the last commit, or the last commit plus the one attempt in flight (or kept, not yet
committed)."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tests.reliability.harness import LEDGER_FILES, commit_files, read_state, tree_files

from ralph.tix import TaskStatus, Ticket, TicketType
from ralph.tix.replay import replay_text


@dataclass(frozen=True)
class SplitFile:
    """A JSONL file as whole lines plus whatever follows the last newline (a torn tail)."""

    lines: tuple[str, ...]
    tail: bytes

    @classmethod
    def read(cls, path: Path) -> SplitFile:
        data = path.read_bytes() if path.exists() else b""
        cut = data.rfind(b"\n") + 1
        text = data[:cut].decode("utf-8")
        return cls(tuple(line for line in text.split("\n") if line), data[cut:])

    def records(self, where: str) -> list[dict[str, Any]]:
        out: list[dict[str, Any]] = []
        for number, line in enumerate(self.lines, 1):
            try:
                value = json.loads(line)
            except ValueError as err:
                raise AssertionError(f"{where}:{number} is not a whole JSON line: {line[:120]!r}") from err
            assert isinstance(value, dict), f"{where}:{number} is not an object"
            out.append(value)
        return out


def plan_tasks(repo: Path) -> tuple[dict[str, Ticket], bytes]:
    """Tasks replayed from the whole lines of plan.jsonl (read only: no repair), and the torn tail."""
    split = SplitFile.read(repo / ".tix" / "plan.jsonl")
    split.records("plan.jsonl")
    state = replay_text("".join(line + "\n" for line in split.lines))
    tasks = {tid: t for tid, t in state.tickets.items() if t.type is TicketType.TASK}
    return tasks, split.tail


def live_names(tasks: dict[str, Ticket]) -> list[str]:
    return [t.name for t in tasks.values() if t.status is not TaskStatus.DELETED]


@dataclass
class CrashAudit:
    """Invariants checked after every kill (``after_kill``) and at the end (``at_end``)."""

    repo: Path
    log_dir: Path
    known_tasks: set[str] = field(default_factory=set)
    ledger_counts: dict[str, int] = field(default_factory=dict)
    kills: int = 0
    attempts_in_flight: int = 0
    pending_commits: int = 0
    torn_seen: int = 0

    def after_kill(self) -> None:
        self.kills += 1
        self._plan(allow_torn=True)
        self._ledger(allow_torn=True)
        self._tree()

    def at_end(self) -> None:
        self._plan(allow_torn=False)
        self._ledger(allow_torn=False)
        state = read_state(self.repo)
        assert state.get("attempt") is None, f"an attempt is still recorded: {state.get('attempt')}"
        assert tree_files(self.repo) == commit_files(self.repo, "HEAD"), "the tree differs from HEAD"

    def _plan(self, *, allow_torn: bool) -> None:
        tasks, tail = plan_tasks(self.repo)
        assert allow_torn or not tail, f"plan.jsonl ends in a torn line: {tail[:80]!r}"
        self.torn_seen += bool(tail)
        lost = self.known_tasks - set(tasks)
        assert not lost, f"tasks lost from plan.jsonl: {sorted(lost)}"
        names = live_names(tasks)
        duplicated = sorted({n for n in names if names.count(n) > 1})
        assert not duplicated, f"tasks duplicated: {duplicated}"
        self.known_tasks |= set(tasks)

    def _ledger(self, *, allow_torn: bool) -> None:
        for name in LEDGER_FILES:
            split = SplitFile.read(self.log_dir / name)
            records = split.records(name)
            assert allow_torn or not split.tail, f"{name} ends in a torn line: {split.tail[:80]!r}"
            self.torn_seen += bool(split.tail)
            before = self.ledger_counts.get(name, 0)
            assert len(records) >= before, f"{name} lost lines: {before} -> {len(records)}"
            assert all(r.get("schema") == 1 and r.get("run_id") for r in records), f"{name}: bad record"
            self.ledger_counts[name] = len(records)

    def _tree(self) -> None:
        """Clean at HEAD, unless an attempt is in flight (it started from HEAD) or kept work awaits its
        commit."""
        state = read_state(self.repo)
        head = commit_files(self.repo, "HEAD")
        attempt = state.get("attempt")
        if attempt is not None:
            self.attempts_in_flight += 1
            snapshot = commit_files(self.repo, str(attempt["snapshot"]["commit"]))
            assert snapshot == head, "the attempt in flight did not start from the last commit"
            return
        if state.get("pending_commit"):
            self.pending_commits += 1
            return
        disk = tree_files(self.repo)
        changed = sorted(p for p in {*disk, *head} if disk.get(p) != head.get(p))
        assert not changed, f"no attempt in flight, yet the tree differs from HEAD: {changed[:10]}"
