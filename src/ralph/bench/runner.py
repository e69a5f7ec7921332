"""``ralph bench run``: each cell is a ``ralph construct`` subprocess in its worktree, started when its slots
are free, resumable, and stopped cleanly on Ctrl-C (children get SIGINT, are waited for, and recorded)."""

from __future__ import annotations

import os
import signal
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, replace
from typing import IO

from ralph.bench.experiment import Cell, Experiment
from ralph.bench.host import host_info
from ralph.bench.launch import capacity, cell_env, construct_argv, slots_of
from ralph.bench.meta import CellMeta, CellStatus, read_meta, write_meta
from ralph.bench.progress import CellProgress, LedgerTail, startable
from ralph.errors import Interrupted, RalphError, UsageError
from ralph.loop.state import load_state
from ralph.proc import LineProcess
from ralph.tix import TicketStore

__all__ = ["INTERRUPT_GRACE_S", "run_cells"]

INTERRUPT_GRACE_S = 60.0
RECOUNT_S = 10.0
"""How often the task totals of running cells are read again."""
ProgressSink = Callable[[list[CellProgress]], None]


class _Live:
    """One running cell: its process (stderr merged into stdout) and the thread copying it to console.log."""

    def __init__(self, exp: Experiment, cell: Cell, meta: CellMeta, slots: frozenset[str]) -> None:
        self.cell, self.slots, self.started = cell, slots, time.monotonic()
        argv = ["/bin/sh", "-c", 'exec "$@" 2>&1', "sh", *meta.argv]
        self.log: IO[str] = (cell.results / "console.log").open("a", encoding="utf-8")
        self.log.write(f"=== {' '.join(meta.argv)}\n")
        self.process = LineProcess(argv, cwd=cell.worktree, env=cell_env(cell.arm))
        self.meta = meta.begin(self.process.pid)
        write_meta(cell.results, self.meta)
        self.thread = threading.Thread(target=self._pump, daemon=True)
        self.thread.start()

    def _pump(self) -> None:
        for line in self.process.lines(poll_s=0.5):
            if line is not None:
                self.log.write(line)
                self.log.flush()

    def done(self) -> bool:
        return not self.thread.is_alive() and self.process.poll() is not None

    def signal(self, signum: int) -> None:
        try:
            os.killpg(self.process.pid, signum)
        except (ProcessLookupError, PermissionError):
            pass

    def finish(self, status: CellStatus | None = None) -> CellMeta:
        code = self.process.wait()
        self.thread.join(timeout=5)
        self.log.write(f"=== exit {code}\n")
        self.log.close()
        self.meta = self.meta.end(code, load_state(self.cell.worktree).run_id, status)
        write_meta(self.cell.results, self.meta)
        return self.meta


def _pid_alive(pid: int | None) -> bool:
    if not pid:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _fresh_meta(exp: Experiment, cell: Cell, host: dict[str, object]) -> CellMeta:
    return CellMeta(
        experiment=exp.name,
        cell=cell.name,
        arm=cell.arm.name,
        profile=cell.arm.profile,
        replicate=cell.replicate,
        repo=str(exp.target_repo),
        base_ref=exp.base_ref,
        spec=exp.spec_of(cell.arm),
        worktree=str(cell.worktree),
        branch=cell.branch,
        limits=asdict(exp.limits),
        overrides=dict(cell.arm.overrides),
        host=host,
    )


def _planned_total(cell: Cell) -> int:
    if not (cell.worktree / ".tix" / "plan.jsonl").is_file():
        raise UsageError(f"{cell.name} has no plan; run `ralph bench plan` first")
    return TicketStore.open(cell.worktree).counts().total


class CellRunner:
    """Runs the given cells to the end (or to Ctrl-C), reporting progress after every poll."""

    def __init__(
        self, exp: Experiment, cells: Sequence[Cell], on_progress: ProgressSink | None, poll_s: float
    ):
        self.exp, self.on_progress, self.poll_s = exp, on_progress, poll_s
        self.tail = LedgerTail(exp.log_dir)
        self.metas: dict[str, CellMeta] = {}
        self.totals: dict[str, int] = {}
        self.queue: list[tuple[Cell, frozenset[str]]] = []
        self.running: list[_Live] = []
        self.cells = list(cells)
        self.notes: dict[str, str] = {}
        self.recount_at = time.monotonic() + RECOUNT_S

    def prepare(self) -> None:
        """Queue every cell that is not finished (or running elsewhere); read its planned task count."""
        host = asdict(host_info())
        for cell in self.cells:
            if not (cell.worktree / ".git").exists():
                raise UsageError(f"no worktree for {cell.name}; run `ralph bench setup` first")
            meta = read_meta(cell.results) or _fresh_meta(self.exp, cell, host)
            self.metas[cell.name] = meta
            self.totals[cell.name] = _planned_total(cell)
            if meta.status is CellStatus.FINISHED:
                self.notes[cell.name] = "skipped: finished"
            elif meta.status is CellStatus.RUNNING and _pid_alive(
                meta.attempts[-1].pid if meta.attempts else None
            ):
                self.notes[cell.name] = "skipped: running elsewhere"
            else:
                argv = construct_argv(self.exp, cell)
                self.metas[cell.name] = replace(meta, argv=argv, host=host)
                self.queue.append((cell, slots_of(self.exp, cell)))

    def _held(self) -> dict[str, int]:
        held: dict[str, int] = {}
        for live in self.running:
            for slot in live.slots:
                held[slot] = held.get(slot, 0) + 1
        return held

    def start_ready(self) -> None:
        picks = startable([slots for _, slots in self.queue], self._held(), lambda s: capacity(self.exp, s))
        for index in picks:
            cell, slots = self.queue[index]
            cell.results.mkdir(parents=True, exist_ok=True)
            self.running.append(_Live(self.exp, cell, self.metas[cell.name], slots))
        self.queue = [item for i, item in enumerate(self.queue) if i not in set(picks)]

    def reap(self) -> None:
        for live in [r for r in self.running if r.done()]:
            self.metas[live.cell.name] = live.finish()
            self.running.remove(live)
            self._recount(live.cell)
        if time.monotonic() >= self.recount_at:
            self.recount_at = time.monotonic() + RECOUNT_S
            for live in self.running:
                self._recount(live.cell)

    def _recount(self, cell: Cell) -> None:
        """Read the cell's task total again (DECOMPOSE and INVESTIGATE add tasks while it runs)."""
        try:
            self.totals[cell.name] = _planned_total(cell)
        except RalphError:
            pass

    def _waiting_note(self, slots: frozenset[str]) -> str:
        held = self._held()
        full = sorted(s for s in slots if held.get(s, 0) >= capacity(self.exp, s))
        return f"waiting for the {' and '.join(full)} slot" if full else ""

    def interrupt(self) -> None:
        """SIGINT every child group, wait (a second Ctrl-C stops waiting), kill what is left, record all."""
        for live in self.running:
            live.signal(signal.SIGINT)
        deadline = time.monotonic() + INTERRUPT_GRACE_S
        try:
            while any(not r.done() for r in self.running) and time.monotonic() < deadline:
                time.sleep(0.1)
        except KeyboardInterrupt:
            pass
        for live in self.running:
            if not live.done():
                live.process.kill(grace_s=2.0)
            self.metas[live.cell.name] = live.finish(CellStatus.INTERRUPTED)
            self._recount(live.cell)
        self.running.clear()
        self.report()

    def report(self) -> list[CellProgress]:
        self.tail.poll()
        rows = [self._row(cell) for cell in self.cells]
        if self.on_progress is not None:
            self.on_progress(rows)
        return rows

    def _row(self, cell: Cell) -> CellProgress:
        meta = self.metas[cell.name]
        live = next((r for r in self.running if r.cell.name == cell.name), None)
        state = load_state(cell.worktree)
        run_ids = [a.run_id for a in meta.attempts if a.run_id] + ([state.run_id] if state.run_id else [])
        done, cost = self.tail.totals(run_ids)
        queued = next((slots for c, slots in self.queue if c.name == cell.name), None)
        return CellProgress(
            cell=cell.name,
            arm=cell.arm.name,
            status=CellStatus.PENDING if queued is not None else CellStatus.RUNNING if live else meta.status,
            iteration=state.iteration,
            stage=state.stage.value if live is not None and state.stage else None,
            tasks_done=done,
            tasks_total=self.totals.get(cell.name),
            cost=cost,
            elapsed_s=meta.elapsed_s() + (time.monotonic() - live.started if live else 0.0),
            exit_code=meta.exit_code,
            note=self._waiting_note(queued) if queued is not None else self.notes.get(cell.name, ""),
        )

    def run(self) -> list[CellProgress]:
        self.prepare()
        try:
            while self.queue or self.running:
                self.start_ready()
                self.report()
                time.sleep(self.poll_s)
                self.reap()
        except KeyboardInterrupt:
            self.interrupt()
            raise Interrupted("bench run interrupted; run it again to resume the unfinished cells") from None
        return self.report()


def run_cells(
    exp: Experiment, cells: Sequence[Cell], on_progress: ProgressSink | None = None, poll_s: float = 0.5
) -> list[CellProgress]:
    """Run ``cells`` (finished ones are skipped, interrupted ones resumed); returns the final rows."""
    return CellRunner(exp, cells, on_progress, poll_s).run()
