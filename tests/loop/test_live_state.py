"""The state file while a run goes on: live totals during a stage (throttled), one write per stage boundary,
recent kills, stage start, and the fields the watch guards read."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import pytest

from ralph.agents.base import AgentEvent, EventKind, ModelCall, StageResult, Usage
from ralph.clock import VirtualClock
from ralph.ledger import LedgerWriter
from ralph.loop.guards import Limits, Totals
from ralph.loop.live import ActivitySink
from ralph.loop.run import Run
from ralph.loop.signals import SignalGuard
from ralph.loop.state import LoopState, state_path
from ralph.settings import load_settings
from ralph.stage import Stage
from ralph.tix import TicketStore

CALL = ModelCall(backend="sim", model="m", is_local=False, usage=Usage(input=100, output=20), cost=0.25)


@pytest.fixture
def run(store: TicketStore, tmp_path: Path, isolated_home: Path) -> Run:
    clock = VirtualClock(start=1_000.0)
    return Run(
        repo=store.root,
        settings=load_settings(store.root, env={}),
        store=store,
        clock=clock,
        ledger=LedgerWriter(tmp_path / "logs"),
        run_id="r1",
        spec="s.md",
        spec_text="",
        backends={},
        sink=ActivitySink(tmp_path / "logs" / "activity" / "r1.log"),
        signals=SignalGuard(),
        state=LoopState(spec="s.md"),
        totals=Totals(started_at=clock.now(), last_progress_at=clock.now()),
        limits=Limits(),
    )


def _on_disk(run: Run) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(state_path(run.repo).read_text())
    return data


def test_a_deferred_change_is_written_with_the_next_save(run: Run) -> None:
    run.save(stage=Stage.BUILD, running=True, task_id="t-1")
    first = _on_disk(run)
    assert first["stage"] == "BUILD" and first["stage_started_at"] == pytest.approx(run.now(), abs=5)
    assert first["host"] and first["loop_repeats"] == 0 and first["last_progress_at"]
    run.defer(stage=Stage.VERIFY, running=False)
    assert _on_disk(run) == first
    run.save(running=True)
    assert _on_disk(run)["stage"] == "VERIFY" and _on_disk(run)["running"] is True


def test_live_totals_during_a_stage_at_most_once_a_second(run: Run, monkeypatch: pytest.MonkeyPatch) -> None:
    now = [100.0]
    monkeypatch.setattr(time, "monotonic", lambda: now[0])
    run.save(stage=Stage.BUILD, running=True)
    step = AgentEvent(EventKind.STEP, call=CALL)
    run.events.emit(step)
    assert _on_disk(run)["totals"]["cost"] == 0
    now[0] += 1.5
    run.events.emit(step)
    live = _on_disk(run)["totals"]
    assert live["cost"] == 0.5 and live["tokens"] == 240 and live["api_calls_remote"] == 2
    run.account(Stage.BUILD, None, StageResult(text="", session_id=None, calls=(CALL,), duration_s=1.0))
    run.save(running=False)
    exact = _on_disk(run)["totals"]
    assert exact["cost"] == 0.25 and exact["api_calls_remote"] == 1


def test_recent_kills_keep_the_last_five(run: Run) -> None:
    for n in range(7):
        run.record_kill(Stage.BUILD, f"t-{n}", "timeout")
    run.save()
    kills = _on_disk(run)["recent_kills"]
    assert [k["task_id"] for k in kills] == ["t-2", "t-3", "t-4", "t-5", "t-6"]
    assert kills[-1]["reason"] == "timeout" and kills[-1]["stage"] == "BUILD" and kills[-1]["at"]
