"""RunReader over files written by the loop's and the ledger's own writers."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

from ralph.loop.state import LoopState
from ralph.watch import RunReader, RunStatus, build_frame, pid_alive
from ralph.watch.sources import log_dir_of

from .conftest import LiveRun


def reader_for(run: LiveRun, log_dir: Path | None = None) -> RunReader:
    return RunReader(run.repo, log_dir=log_dir, default_log_dir=run.repo / "nowhere")


def test_no_state_file_is_no_run(store_repo: Path) -> None:
    snap = RunReader(store_repo, log_dir=None, default_log_dir=store_repo / "logs").read()
    assert snap.state is None
    assert build_frame(snap, time.time()).status is RunStatus.NO_RUN


def test_running_run_reads_state_ledger_activity_and_store(live_run: LiveRun) -> None:
    live_run.save()
    live_run.start()
    live_run.stage("BUILD", model="sim-large", kill_reason="timeout", task_id=live_run.task_id)
    live_run.say("== BUILD start", "tool edit src/heap.c")
    reader = reader_for(live_run)
    snap = reader.read()
    assert snap.pid_alive and snap.start is not None and snap.end is None
    assert snap.task_name == "Add a string table"
    assert (snap.tasks_accepted, snap.tasks_total) == (1, 2)
    assert snap.activity == ("12:00:00 == BUILD start", "12:00:00 tool edit src/heap.c")
    frame = build_frame(snap, time.time())
    assert frame.status is RunStatus.RUNNING and frame.simulated and frame.profile == "hybrid"
    assert [k.reason for k in frame.kills] == ["timeout"]
    live_run.say("say done")
    live_run.stage("VERIFY", model="sim-small")
    later = reader.read()
    assert later.activity[-1] == "12:00:00 say done"
    assert [s["stage"] for s in later.stages] == ["BUILD", "VERIFY"]
    reader.close()


def test_end_record_finishes_the_run_with_its_exit_reason(live_run: LiveRun) -> None:
    live_run.save(running=False)
    live_run.start()
    reader = reader_for(live_run)
    assert build_frame(reader.read(), time.time()).status is RunStatus.RUNNING
    live_run.end("cost_limit", duration_s=321.0)
    frame = build_frame(reader.read(), time.time())
    assert (frame.status, frame.exit_reason, frame.usage.elapsed_s) == (
        RunStatus.FINISHED,
        "cost_limit",
        321.0,
    )


def test_follows_a_restarted_loop_to_its_new_run(live_run: LiveRun) -> None:
    live_run.save()
    live_run.start()
    live_run.stage("BUILD", kill_reason="context")
    live_run.say("first run line")
    reader = reader_for(live_run)
    assert reader.read().activity == ("12:00:00 first run line",)
    live_run.end("interrupted")
    second = LiveRun(live_run.repo, live_run.log_dir, "20270115_090000_bbbbbb", live_run.task_id)
    second.save(iteration=5)
    second.start()
    second.say("second run line")
    snap = reader.read()
    assert snap.state is not None and snap.state.run_id == second.run_id
    assert snap.activity == ("12:00:00 second run line",)
    assert snap.stages == () and snap.end is None
    frame = build_frame(snap, time.time())
    assert (frame.status, frame.position.iteration, frame.kills) == (RunStatus.RUNNING, 6, ())


def test_dead_pid_without_end_record_is_not_running(live_run: LiveRun) -> None:
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    live_run.pid = child.pid
    live_run.save()
    live_run.start()
    frame = build_frame(reader_for(live_run).read(), time.time())
    assert frame.status is RunStatus.STOPPED and frame.exit_reason is None


def test_another_hosts_run_is_not_running_here(live_run: LiveRun) -> None:
    live_run.save()
    live_run.start(host="some-other-machine.invalid")
    assert not reader_for(live_run).read().pid_alive


def test_given_log_dir_wins(live_run: LiveRun, tmp_path: Path) -> None:
    live_run.save()
    live_run.start()
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    assert reader_for(live_run, log_dir=elsewhere).read().start is None
    assert reader_for(live_run).read().start is not None


def test_log_dir_of_precedence(tmp_path: Path) -> None:
    state = LoopState(activity_log=str(tmp_path / "logs" / "activity" / "r.log"))
    assert log_dir_of(state, tmp_path / "given", tmp_path / "default") == tmp_path / "given"
    assert log_dir_of(state, None, tmp_path / "default") == tmp_path / "logs"
    assert log_dir_of(LoopState(), None, tmp_path / "default") == tmp_path / "default"
    assert log_dir_of(None, None, tmp_path / "default") == tmp_path / "default"


def test_pid_alive_rejects_missing_and_zombie_processes() -> None:
    assert not pid_alive(None) and not pid_alive(0)
    child = subprocess.Popen([sys.executable, "-c", "import sys; sys.stdin.read()"], stdin=subprocess.PIPE)
    try:
        assert pid_alive(child.pid)
        assert child.stdin is not None
        child.stdin.close()
        deadline = time.monotonic() + 10
        while pid_alive(child.pid) and time.monotonic() < deadline:
            time.sleep(0.01)
        assert not pid_alive(child.pid), "an exited, unreaped child (zombie) is not alive"
    finally:
        child.wait()
    assert not pid_alive(child.pid)
