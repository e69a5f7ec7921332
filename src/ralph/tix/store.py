"""TicketStore: the only mutation API over plan.jsonl, with fast cached reads for the loop.

A mutation takes the writer lock, catches the cache up, checks the rule, appends whole lines and applies
exactly those lines to the cache (so cache == replay(file) at all times). Inside ``writing`` the lines are
applied to the cache first, in an open SQLite transaction committed only after they are in the file. Reads
never spawn processes.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any, TypeVar

from ralph.errors import StoreError
from ralph.tix.gitinfo import find_root
from ralph.tix.reads import StoreReader
from ralph.tix.records import Priority, TaskStatus, Ticket, TicketType, new_id
from ralph.tix.rules import apply_update, build_ticket, check_branch, check_refs, merge_telemetry
from ralph.tix.setup import init_tix_dir
from ralph.tix.transitions import (
    accept_record,
    close_record,
    delete_ticket_record,
    done_ticket,
    fail_record,
    reject_record,
)
from ralph.tix.tx import Mutation

__all__ = ["TicketStore"]

T = TypeVar("T")


class TicketStore(StoreReader):
    """Tasks, issues and notes of one repository (``.tix/plan.jsonl`` + ``.tix/cache.db``)."""

    @classmethod
    def init(cls, repo: Path, *, branch_scope: bool = True) -> TicketStore:
        """Create ``.tix/`` (plan, gitignore entry, merge=union attribute) if missing; idempotent."""
        root = find_root(repo)
        made = init_tix_dir(root)
        store = cls(root, branch_scope=branch_scope)
        store.init_report = made
        store._fresh()
        return store

    @classmethod
    def open(cls, repo: Path, *, branch_scope: bool = True) -> TicketStore:
        """Open the store of the repository containing ``repo``; StoreError if it has no ``.tix/``."""
        root = find_root(repo)
        if not (root / ".tix").is_dir():
            raise StoreError(f"no .tix directory in {root} (run `tix init`)")
        return cls(root, branch_scope=branch_scope)

    # mutations ---------------------------------------------------------------------------------------------

    _group: list[str] | None = None
    """Lines of the ``writing`` block in progress, not yet in plan.jsonl."""

    @contextlib.contextmanager
    def writing(self) -> Iterator[None]:
        """Several mutations as one step, all or none of them on a crash: their lines reach plan.jsonl in one
        write (one fsync) when the block ends; reads inside see them already. An exception inside still
        writes the mutations that completed. The writer lock is held throughout: keep other processes' work
        (git, agents) out of the block."""
        if self._group is not None:
            yield
            return
        with self.journal.locked():
            self._fresh()
            group: list[str] = []
            with self.cache.ahead():
                self._group = group
                try:
                    yield
                finally:
                    self._group = None
                    self._write_group(group)

    def _write_group(self, lines: Sequence[str]) -> None:
        if not lines:
            return
        try:
            self.journal.append(lines)
            kept = self.cache.commit_ahead(self.journal, "".join(lines))
        except BaseException:
            self._memo = None
            raise
        if not kept:
            self._memo = None

    def _mutate(self, step: Callable[[Mutation], T]) -> T:
        with self.journal.locked():
            start_gen = self._fresh()
            tx = Mutation(self.cache)
            result = step(tx)
            if tx.lines:
                if self._group is not None:
                    self._group.extend(tx.lines)
                    generation = self.cache.apply_ahead("".join(tx.lines))
                else:
                    self.journal.append(tx.lines)
                    generation = self._fresh()
                self._patch_memo(start_gen, generation, tx.touched)
            return result

    def _patch_memo(self, start_gen: int, generation: int, touched: Sequence[str]) -> None:
        """Keep the memo warm across our own mutation: only the touched tickets are read back and put in
        place (no reload, no re-sort)."""
        memo = self._memo
        if memo is None or memo.generation != start_gen:
            return
        memo.patch(self.cache.get_many_seq(set(touched)))
        memo.generation = generation

    def _one(self, ticket_id: str, step: Callable[[Mutation, Ticket], None]) -> Ticket:
        self._mutate(lambda tx: step(tx, tx.get(ticket_id)))
        return self.get(ticket_id)

    def _branch(self) -> str | None:
        return self.git.branch()

    def _scope(self, ticket: Ticket, action: str) -> None:
        if self.branch_scope and ticket.type is TicketType.TASK:
            check_branch(ticket, self._branch(), action)

    def add_task(self, fields: Mapping[str, Any]) -> Ticket:
        """Add one task; ``name`` required, deps must exist and be tasks."""
        return self.add_tasks([fields])[0]

    def add_tasks(self, items: Sequence[Mapping[str, Any]]) -> list[Ticket]:
        """Add tasks all-or-nothing; a dep may name a batch member as ``@N``/``#N``/N or by its ``ref``."""
        from ralph.tix.batch import build_batch

        branch = self._branch()
        if branch is None:
            raise StoreError("cannot add tasks on a detached HEAD")
        author = self.git.user_name()
        ids = self._mutate(lambda tx: build_batch(tx, items, author=author, branch=branch))
        found = {t.id: t for t in self.cache.get_many(ids)}
        return [found[i] for i in ids]

    def done(self, ticket_id: str) -> Ticket:
        """pending -> done: ``done_at`` = short HEAD (work not yet committed), ``completed_at`` = now."""

        def step(tx: Mutation, t: Ticket) -> None:
            self._scope(t, "mark done")
            tx.put(done_ticket(t, head=self.git.short_head(), branch=self._branch(), now=tx.now))

        return self._one(ticket_id, step)

    def accept(self, ticket_id: str, reason: str = "") -> Ticket:
        """done -> accepted, with an accept tombstone carrying the commit and time."""

        def step(tx: Mutation, t: Ticket) -> None:
            rec = accept_record(t, reason, head=self.git.short_head(), now=tx.now)
            self._scope(t, "accept")
            tx.record(rec, t.id)

        return self._one(ticket_id, step)

    def reject(self, ticket_id: str, reason: str) -> Ticket:
        """done -> pending with a reject tombstone; retries += 1 and ``reject_reason`` is kept."""

        def step(tx: Mutation, t: Ticket) -> None:
            rec = reject_record(t, reason, head=self.git.short_head(), now=tx.now)
            self._scope(t, "reject")
            tx.record(rec, t.id)

        return self._one(ticket_id, step)

    def fail(self, ticket_id: str, reason: str, kill_reason: str | None = None) -> Ticket:
        """Record a failed attempt of a pending task: it stays pending, kill_count += 1, kill_reason set."""

        def step(tx: Mutation, t: Ticket) -> None:
            rec = fail_record(t, reason, kill_reason or "", now=tx.now)
            self._scope(t, "fail")
            tx.record(rec, t.id)

        return self._one(ticket_id, step)

    def delete(self, ticket_id: str) -> Ticket:
        """Any ticket -> deleted; refused while a ticket that is not deleted depends on it."""
        return self._one(ticket_id, self._delete_in)

    def _delete_in(self, tx: Mutation, t: Ticket) -> None:
        rec = delete_ticket_record(t, [tx.get(d) for d in self.cache.dependents(t.id)], now=tx.now)
        self._scope(t, "delete")
        tx.record(rec, t.id, after=replace(t, status=TaskStatus.DELETED))

    def prioritize(self, ticket_id: str, priority: Priority | str) -> Ticket:
        level = Priority.parse(priority)
        return self._one(ticket_id, lambda tx, t: tx.put(replace(t, priority=level, updated_at=tx.now)))

    def update(self, ticket_id: str, fields: Mapping[str, Any]) -> Ticket:
        """Merge fields: meta merges key-wise (never replaces), labels replace unless ``labels_add``."""

        def step(tx: Mutation, t: Ticket) -> None:
            new, keys = apply_update(t, fields, tx.now)
            check_refs(new, tx.find)
            tx.put(new, keys)

        return self._one(ticket_id, step)

    def add_telemetry(
        self, ticket_id: str, numbers: Mapping[str, float], text: Mapping[str, str] | None = None
    ) -> Ticket:
        """ADD ``numbers`` into meta (cost, tokens_in, iterations, stage_build, ...); set ``text`` keys."""

        def step(tx: Mutation, t: Ticket) -> None:
            new, keys = merge_telemetry(t, numbers, text or {}, tx.now)
            tx.put(new, keys)

        return self._one(ticket_id, step)

    def add_issue(self, desc: str, spec: str | None = None, **fields: Any) -> Ticket:
        return self._add_other(TicketType.ISSUE, {"name": desc, **({"spec": spec} if spec else {}), **fields})

    def add_note(self, text: str, **fields: Any) -> Ticket:
        return self._add_other(TicketType.NOTE, {"name": text, **fields})

    def _add_other(self, kind: TicketType, fields: Mapping[str, Any]) -> Ticket:
        author = self.git.user_name()

        def step(tx: Mutation) -> str:
            ticket = build_ticket(
                kind, fields, ticket_id=new_id(kind, tx), now=tx.now, author=author, branch=""
            )
            check_refs(ticket, tx.find)
            tx.put(ticket, None)
            return ticket.id

        return self.get(self._mutate(step))

    def resolve_issue(self, ticket_id: str) -> Ticket:
        """An open issue -> deleted ("resolved")."""
        return self._close(ticket_id, TicketType.ISSUE, "resolve")

    def note_done(self, ticket_id: str) -> Ticket:
        """An open note -> deleted ("archived")."""
        return self._close(ticket_id, TicketType.NOTE, "archive")

    def _close(self, ticket_id: str, kind: TicketType, action: str) -> Ticket:
        return self._one(ticket_id, lambda tx, t: tx.record(close_record(t, kind, action, now=tx.now), t.id))

    def resolve_issues(self, ids: Iterable[str]) -> int:
        """Resolve the given open issues; unknown ids and other tickets are skipped. Returns the count."""
        wanted = list(dict.fromkeys(ids))

        def step(tx: Mutation) -> int:
            found = [t for t in map(tx.find, wanted) if t is not None]
            open_issues = [t for t in found if t.type is TicketType.ISSUE and t.status is TaskStatus.PENDING]
            for t in open_issues:
                tx.record(close_record(t, TicketType.ISSUE, "resolve", now=tx.now), t.id)
            return len(open_issues)

        return self._mutate(step)

    def resolve_all_issues(self) -> int:
        return self.resolve_issues([t.id for t in self.issues()])

    def batch(self, ops: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
        """Apply ``{"op":"add",...}`` / ``{"op":"delete","id"}`` operations all-or-nothing."""
        from ralph.tix.batch import apply_ops

        branch = self._branch()
        if branch is None:
            raise StoreError("cannot add tasks on a detached HEAD")
        author = self.git.user_name()
        return self._mutate(
            lambda tx: apply_ops(
                tx, ops, author=author, branch=branch, delete=lambda t: self._delete_in(tx, t)
            )
        )

    def adopt(self, from_branch: str) -> list[str]:
        """Re-stamp live tasks of ``from_branch`` (a plan commit copied from another worktree) with the
        current branch, one update line each; returns their ids. Idempotent."""
        branch = self._branch()
        if branch is None:
            raise StoreError("cannot adopt tasks on a detached HEAD")
        if branch == from_branch:
            return []

        def step(tx: Mutation) -> list[str]:
            adopted = [
                t for t in self.cache.tickets("type = 0 AND status < 2 AND branch = ?", (from_branch,))
            ]
            for t in adopted:
                tx.put(replace(t, branch=branch, updated_at=tx.now))
            return [t.id for t in adopted]

        return self._mutate(step)

    def compact(self) -> dict[str, Any]:
        from ralph.tix.history import compact_store

        return compact_store(self)

    def sync(self, branch: str | None = None, all_branches: bool = False) -> dict[str, Any]:
        from ralph.tix.history import sync_store

        return sync_store(self, branch=branch, all_branches=all_branches)
