"""Where a run starts: after a crash the interrupted attempt is reverted (or kept, if its BUILD had already
finished), a leftover snapshot is cleaned up, and the stage is taken from the state file or the tickets."""

from __future__ import annotations

from ralph.gitops import drop_snapshot, pending_snapshot, revert_attempt
from ralph.loop.attempt import end_attempt
from ralph.loop.board import read_board
from ralph.loop.run import Run
from ralph.loop.stages import CONSTRUCT_STAGES, route
from ralph.stage import Stage
from ralph.tix import TaskStatus

__all__ = ["resume_stage"]


def resume_stage(run: Run) -> Stage:
    """Repair what a killed run left behind, then return the stage to run first."""
    state = run.state
    attempt = state.attempt
    if attempt is not None:
        task = run.store.find(attempt.task_id)
        built = task is not None and task.status is TaskStatus.DONE
        if state.stage is Stage.BUILD or not built:
            run.sink.note(f"resume: reverting the interrupted attempt at {attempt.task_id}")
            end_attempt(run, revert=True)
            run.save(stage=Stage.BUILD, running=False)
        elif state.running or state.stage is not Stage.VERIFY:
            run.save(stage=Stage.VERIFY, running=False)
    else:
        _drop_stray_snapshot(run)
    return _first_stage(run)


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
