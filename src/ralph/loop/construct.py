"""``ralph construct``: the loop. Guards before every stage, one task per iteration, one commit per iteration,
state saved at every stage boundary (a stage's end is written with the next stage's start), the end record
written in ``finally`` (and on a signal)."""

from __future__ import annotations

import fcntl
import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from pathlib import Path

from ralph.errors import ExitReason, RalphError, UsageError
from ralph.gitops import commit_all, current_branch, guard_branch, head_sha, is_dirty, push, recover
from ralph.gitops.command import git_dirs
from ralph.ledger import LedgerWriter, RunRecord, TaskTotals, new_run_id
from ralph.loop.attempt import build_step, decompose_step, end_attempt
from ralph.loop.board import read_board
from ralph.loop.commits import IterationLog, commit_message
from ralph.loop.console import exit_line, iteration_line
from ralph.loop.guards import Limits, Totals, fingerprint
from ralph.loop.live import ActivitySink, activity_path
from ralph.loop.records import end_record, start_record, task_totals
from ralph.loop.resume import resume_stage
from ralph.loop.review import investigate_step, verify_step
from ralph.loop.run import Run
from ralph.loop.secrets import agent_secrets
from ralph.loop.session import build_backends, find_rules, open_store, resolve_spec, root_of
from ralph.loop.signals import SignalGuard, StopRequested
from ralph.loop.stages import CONSTRUCT_STAGES, Event, ends_iteration, final_reason, next_stage
from ralph.loop.state import LoopState, load_state
from ralph.proc import reap_orphans
from ralph.sandbox import SandboxChoice, choose_sandbox
from ralph.settings import Settings
from ralph.stage import Stage
from ralph.tix import TaskStatus, TicketStore

__all__ = ["ConstructOptions", "RunSummary", "construct"]

Echo = Callable[[str], None]
_STEPS: dict[Stage, Callable[[Run], Event]] = {
    Stage.BUILD: build_step,
    Stage.VERIFY: verify_step,
    Stage.INVESTIGATE: investigate_step,
    Stage.DECOMPOSE: decompose_step,
}
_MAX_IDLE_STEPS = 8


def _quiet(line: str) -> None:
    return None


@dataclass(frozen=True)
class ConstructOptions:
    allow_dirty: bool = False
    allow_branch: bool = False
    echo: Echo | None = None


@dataclass(frozen=True)
class RunSummary:
    run_id: str
    exit_reason: ExitReason
    iterations: int
    tasks: TaskTotals
    cost: float
    simulated: bool
    detail: str = ""


def construct(
    repo: Path, settings: Settings, spec: str | None = None, *, options: ConstructOptions | None = None
) -> RunSummary:
    """Run the loop on ``repo`` until a guard, COMPLETE or a signal stops it (one run per worktree)."""
    opts = options or ConstructOptions()
    root = root_of(repo)
    with _only_run(root):
        return _construct(root, settings, spec, opts)


@contextmanager
def _only_run(root: Path) -> Iterator[None]:
    """Hold the worktree's construct lock (in its own git dir; the kernel drops it when the process dies);
    UsageError naming the holder when another run has it."""
    path = git_dirs(root)[0] / "ralph-construct.lock"
    fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.pread(fd, 32, 0).decode(errors="replace").strip() or "?"
            raise UsageError(f"ralph construct is already running in {root} (pid {holder})") from None
        os.ftruncate(fd, 0)
        os.pwrite(fd, str(os.getpid()).encode(), 0)
        yield
    finally:
        os.close(fd)


def _construct(root: Path, settings: Settings, spec: str | None, opts: ConstructOptions) -> RunSummary:
    store = open_store(root)
    state = load_state(root)
    spec_file = resolve_spec(root, settings, spec, state.spec)
    branch = guard_branch(root, opts.allow_branch)
    _check_tasks_branch(store, spec_file.name, branch)
    sandbox = choose_sandbox(settings.sandbox)
    for line in _recovery_lines(root):
        (opts.echo or _quiet)(f"recovery: {line}")
    if state.spec not in (None, spec_file.name) and state.attempt is None:
        state = LoopState(spec=spec_file.name, iteration=0)
    if not opts.allow_dirty and state.attempt is None and not state.pending_commit and is_dirty(root):
        raise UsageError(
            f"the working tree of {root} has uncommitted changes (commit them or use --allow-dirty)"
        )
    run = _open_run(root, settings, store, state.with_(spec=spec_file.name), spec_file.name, spec_file.text)
    return _execute(run, branch, sandbox, opts.echo or _quiet)


def _check_tasks_branch(store: TicketStore, spec: str, branch: str) -> None:
    """Refuse before any agent runs when the spec's live tasks were planned on another branch: the store
    would refuse to change them here, after the first BUILD."""
    others = sorted({t.branch for t in store.tasks(spec=spec) if t.branch and t.branch != branch})
    if others:
        where = ", ".join(others)
        raise UsageError(f"the tasks of {spec} belong to branch {where}, not {branch}: switch to {where}")


def _recovery_lines(root: Path) -> list[str]:
    """Kill what a killed run left running (before anything is reverted under its feet), then clear git."""
    killed = reap_orphans()
    lines = [f"killed {len(killed)} process(es) a killed run left running"] if killed else []
    return lines + recover(root).lines()


def _open_run(
    root: Path, settings: Settings, store: TicketStore, state: LoopState, spec: str, spec_text: str
) -> Run:
    run_id = new_run_id()
    backends, clock, simulated = build_backends(settings, (*CONSTRUCT_STAGES, Stage.DEDUP), run_id)
    now = clock.now()
    rules, rules_file = find_rules(root)
    log_dir = Path(settings.log_dir)
    return Run(
        repo=root,
        settings=settings,
        store=store,
        clock=clock,
        ledger=LedgerWriter(log_dir),
        run_id=run_id,
        spec=spec,
        spec_text=spec_text,
        backends=backends,
        sink=ActivitySink(activity_path(log_dir, run_id), agent_secrets(settings)),
        signals=SignalGuard(),
        state=state,
        totals=Totals(started_at=now, last_progress_at=now),
        limits=Limits.from_settings(settings),
        rules=rules,
        rules_file=rules_file,
        simulated=simulated,
    )


def _execute(run: Run, branch: str, sandbox: SandboxChoice, echo: Echo) -> RunSummary:
    started = run.now()
    extra = {"sandbox": sandbox.used}
    start = start_record(run, branch=branch, sha=head_sha(run.repo), started_at=started, extra=extra)
    reason, detail = ExitReason.ERROR, ""
    run.echo = echo
    with run.signals:
        try:
            run.ledger.append_run(start)
            run.save(
                exit_reason=None,
                ended_at=None,
                started_at=started,
                limits=run.limits_dict(),
                activity_log=str(run.sink.path),
                simulated=run.simulated,
            )
            _header(run, branch, sandbox, echo)
            first = resume_stage(run)
            _report_repairs(run, echo)
            reason = _drive(run, first, echo)
        except StopRequested as stop:
            reason, detail = ExitReason.INTERRUPTED, f"stopped by {stop}"
        except RalphError as err:
            reason, detail = ExitReason.ERROR, str(err)
            raise
        finally:
            _close(run, start, reason, started)
    echo(exit_line(reason, detail))
    return RunSummary(
        run_id=run.run_id,
        exit_reason=reason,
        iterations=run.totals.iterations,
        tasks=task_totals(run.store, run.spec),
        cost=round(run.tally.cost, 6),
        simulated=run.simulated,
        detail=detail,
    )


def _header(run: Run, branch: str, sandbox: SandboxChoice, echo: Echo) -> None:
    s = run.settings
    label = " [simulated]" if run.simulated else ""
    echo(f"ralph construct{label}: run {run.run_id}, spec {run.spec}, branch {branch}, profile {s.profile}")
    routes = ", ".join(
        f"{st.key}={run.route(st).backend}:{run.route(st).model or '-'}" for st in CONSTRUCT_STAGES
    )
    echo(f"routes: {routes}")
    echo(
        f"limits: iterations={s.max_iterations} wall={s.max_wall_time_s}s cost={s.max_cost} "
        f"tokens={s.max_tokens} api_calls={s.max_api_calls} failures={s.max_failures} "
        f"stage_timeout={s.stage_timeout_ms / 1000:.0f}s"
    )
    echo(f"checks: sandbox {sandbox}, timeout {s.check_timeout_s}s, API keys scrubbed")


def _report_repairs(run: Run, echo: Echo) -> None:
    """Say which torn last lines (of plan.jsonl or a ledger file) were repaired on the way in."""
    for line in (*run.store.repairs, *run.ledger.repair()):
        echo(f"recovery: {line}")
        run.sink.note(f"recovery: {line}")


def _drive(run: Run, stage: Stage, echo: Echo) -> ExitReason:
    """The state machine: guard, run one stage, route, commit at the end of each iteration."""
    idle, last = 0, Event.NOTHING
    board = read_board(run.store, run.spec)
    while True:
        if stage is Stage.COMPLETE:
            _end_iteration(run)
            return final_reason(board.board)
        if last is not Event.INFRA:
            printed = fingerprint(stage, (), board.states(), _attempt_key(run))
            run.totals = replace(run.totals, loop_repeats=run.loops.observe(printed))
        reason = run.guard(iteration_start=run.log is None)
        if reason is not None:
            _end_iteration(run)
            return reason
        if run.log is None:
            run.iteration += 1
            run.log = IterationLog(number=run.state.iteration + 1, spec=run.spec)
            echo(f"iteration {run.log.number} ({stage.value})")
        last = _STEPS[stage](run)
        board = read_board(run.store, run.spec)
        following = next_stage(stage, last, board.board)
        idle = idle + 1 if last is Event.NOTHING else 0
        if idle > _MAX_IDLE_STEPS:
            return ExitReason.NO_WORK
        if ends_iteration(stage, following):
            _end_iteration(run)
        run.defer(stage=following, running=False)
        stage = following


def _attempt_key(run: Run) -> str:
    attempt = run.state.attempt
    return str(attempt.snapshot.get("commit", "")) if attempt is not None else ""


def _end_iteration(run: Run) -> None:
    """Count and commit the iteration (state file and .tix included); an empty one is dropped."""
    log, run.log = run.log, None
    if log is None or not log.stages:
        if log is not None:
            run.iteration -= 1
        return
    if _unverified(run):
        run.sink.note("stopped before VERIFY: the attempt stays in flight; the next run verifies it")
        return
    message = commit_message(run.settings.commit_prefix, log) if run.settings.commit else None
    counted = {"iteration": run.state.iteration + 1, "running": False, "pending_commit": message}
    if message is not None:
        counted["commit_base"] = head_sha(run.repo, short=False)
    if run.state.attempt is not None:
        end_attempt(run, revert=False, **counted)
    else:
        run.save(**counted)
    run.totals = replace(run.totals, iterations=run.totals.iterations + 1)
    if message is not None:
        _commit(run, message)
    _summarize(run, log.number)


def _commit(run: Run, message: str) -> None:
    with run.critical():
        sha = commit_all(run.repo, message)
    run.defer(pending_commit=None, commit_base=None)
    if sha:
        run.totals = replace(run.totals, last_progress_at=run.now())
        if run.settings.push:
            _push(run)


def _summarize(run: Run, number: int) -> None:
    tasks, t = task_totals(run.store, run.spec), run.tally
    elapsed = run.now() - run.totals.started_at
    run.echo(
        iteration_line(number, tasks.completed, tasks.total, t.cost, t.calls_remote, t.calls_local, elapsed)
    )


def _unverified(run: Run) -> bool:
    """True when a guard stops the run after BUILD and before VERIFY: that work is neither kept nor
    committed (a commit would keep it even if the review rejects it)."""
    attempt = run.state.attempt
    task = run.store.find(attempt.task_id) if attempt is not None else None
    return task is not None and task.status is TaskStatus.DONE


def _push(run: Run) -> None:
    try:
        result = push(run.repo, current_branch(run.repo))
        run.sink.note(f"push: {result}")
    except RalphError as err:
        run.sink.note(f"push failed: {err}")


def _close(run: Run, start: RunRecord, reason: ExitReason, started: float) -> None:
    """Final state and end record (also after a signal or an error); backends closed."""
    with run.critical():
        ended = run.now()
        try:
            run.save(stage=run.state.stage, exit_reason=reason.value, ended_at=ended)
        finally:
            sha = head_sha(run.repo)
            record = end_record(
                start, run, sha_end=sha, reason=reason.value, ended_at=ended, started_at=started
            )
            run.ledger.append_run(record)
            for backend in run.backends.values():
                backend.close()
            run.sink.close()
