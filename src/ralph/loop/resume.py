"""Where a run starts: after a crash the interrupted attempt is reverted (or kept, if its BUILD had already
finished), a leftover snapshot is cleaned up, and the stage is taken from the state file or the tickets."""

from __future__ import annotations

from typing import Any

from ralph.gitops import commit_all, drop_snapshot, head_sha, pending_snapshot, revert_attempt
from ralph.loop.attempt import end_attempt, record_failure
from ralph.loop.board import read_board
from ralph.loop.commits import IterationLog, commit_message
from ralph.loop.review import park_if_rejected_too_often
from ralph.loop.run import Run
from ralph.loop.stages import CONSTRUCT_STAGES, PARKED_LABEL, route
from ralph.stage import Stage
from ralph.tix import TaskStatus, Ticket

__all__ = ["resume_stage"]


def resume_stage(run: Run) -> Stage:
    """Repair what a killed run left behind, then return the stage to run first."""
    attempt = run.state.attempt
    if attempt is not None:
        _resume_attempt(run, attempt.task_id)
    else:
        _drop_stray_snapshot(run)
    if run.state.failing is not None:
        with run.critical():
            record_failure(run, run.state.failing)
            run.save(failing=None)
    _park_rejected(run)
    _commit_kept_work(run)
    return _first_stage(run)


def _park_rejected(run: Run) -> None:
    """Park tasks whose last rejection reached the limit before the killed run could park them."""
    for task in read_board(run.store, run.spec).tasks:
        if task.status is TaskStatus.PENDING and PARKED_LABEL not in task.labels:
            with run.critical():
                park_if_rejected_too_often(run, task)


def _resume_attempt(run: Run, task_id: str) -> None:
    """The attempt of a task still pending is reverted; a built (done) one goes to VERIFY; an accepted one
    is kept (the kill came between the accept and the end of the attempt)."""
    task = run.store.find(task_id)
    status = task.status if task is not None else None
    if task is not None and status is TaskStatus.ACCEPTED:
        run.sink.note(f"resume: keeping the accepted attempt at {task_id}")
        end_attempt(run, revert=False, **_iteration_to_commit(run, task))
    elif status is TaskStatus.DONE:
        if run.state.running or run.state.stage is not Stage.VERIFY:
            run.save(stage=Stage.VERIFY, running=False)
    else:
        run.sink.note(f"resume: reverting the interrupted attempt at {task_id}")
        end_attempt(run, revert=True)
        run.save(stage=Stage.BUILD, running=False)


def _iteration_to_commit(run: Run, task: Ticket) -> dict[str, Any]:
    """State changes that end the killed iteration of an accepted task and ask for its commit."""
    log = IterationLog(number=run.state.iteration + 1, spec=run.spec, stages=[Stage.VERIFY])
    log.accepted.append((task.id, task.name))
    if not run.settings.commit:
        return {"iteration": log.number}
    return {
        "iteration": log.number,
        "pending_commit": commit_message(run.settings.commit_prefix, log),
        "commit_base": head_sha(run.repo, short=False),
    }


def _commit_kept_work(run: Run) -> None:
    """Make the commit of an iteration whose work was kept when the run was killed before committing."""
    message = run.state.pending_commit
    if not message:
        return
    with run.critical():
        made = head_sha(run.repo, short=False) != run.state.commit_base
        sha = None if made else commit_all(run.repo, message)
        run.save(pending_commit=None, commit_base=None)
    if sha:
        run.sink.note(f"resume: made the commit of the interrupted iteration ({sha})")


def _drop_stray_snapshot(run: Run) -> None:
    """A snapshot the state file does not know (killed between snapshot and save): put the tree back."""
    snap = pending_snapshot(run.repo)
    if snap is None:
        return
    with run.critical():
        report = revert_attempt(run.repo, snap)
        drop_snapshot(run.repo, snap)
    run.sink.note(f"resume: stray attempt snapshot reverted ({report.summary()})")


def _first_stage(run: Run) -> Stage:
    board = read_board(run.store, run.spec).board
    stage = run.state.stage
    if stage is Stage.DECOMPOSE and not run.state.decompose_target:
        stage = None
    if stage in CONSTRUCT_STAGES and stage is not Stage.BUILD:
        return stage
    return route(board)
