"""Hostile agent output through the real loop: Ralph's opencode backend runs a scripted stand-in whose every
answer is hostile (hostile.py), in every stage. The run must end by a guard (never a crash), keep its files
whole, leave the worktree at its last commit and write nothing outside it; 100 MB of output must stay
within ``output_cap_bytes`` in memory with the rest spilled to the log folder.

Hypothesis draws the scripts (derandomized: the same examples every run) and does not shrink a failure: each
example is a whole run, so the failing script is printed and the run's output is kept in ``output.txt``."""

from __future__ import annotations

import itertools
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from tests.reliability.audit import SplitFile, plan_tasks
from tests.reliability.harness import (
    LEDGER_FILES,
    PeakRss,
    build_by,
    commit_files,
    copy_repo,
    fake_opencode,
    finish,
    full_size,
    json_lines,
    ralph,
    read_state,
    record_figure,
    start_construct,
    tree_files,
)
from tests.reliability.hostile import block, script

from ralph.sandbox import choose_sandbox

STAGES = ("build", "verify", "decompose", "investigate")
GUARD_EXITS = (0, 3, 4)
_examples = itertools.count()

needs_bwrap = pytest.mark.skipif(choose_sandbox("auto").used != "bwrap", reason="bubblewrap cannot run here")


def files_under(folder: Path) -> set[str]:
    return {str(p.relative_to(folder)) for p in folder.rglob("*")} if folder.exists() else set()


def check_survived(repo: Path, logs: Path, outside: Path, code: int, out: str) -> dict[str, object]:
    """What every hostile run must leave: a guard's exit, whole files, the tree at HEAD, nothing outside."""
    assert code in GUARD_EXITS, out[-3000:]
    assert "Traceback" not in out, out[-3000:]
    for name in LEDGER_FILES:
        split = SplitFile.read(logs / name)
        assert not split.tail, f"{name} torn"
        split.records(name)
    ends = [r for r in json_lines(logs / "runs.jsonl") if r["record"] == "end"]
    assert len(ends) == 1 and ends[0]["exit_reason"] in out
    tasks, tail = plan_tasks(repo)
    assert not tail and tasks
    assert read_state(repo).get("attempt") is None
    assert tree_files(repo) == commit_files(repo, "HEAD")
    assert files_under(outside) == set()
    return ends[0]


EXAMPLES = 30 if full_size() else 4
EXAMPLE_BUDGET_S = 120
"""pytest-timeout's limit covers all the examples of a test: a full-size run takes 5 to 10 minutes on a
loaded 2-core host, so the global 300 s fired in the middle of an example; Hypothesis then replayed it,
the replay passed, and the timeout was reported as a FlakyFailure (``_WrappedBaseException``)."""


@needs_bwrap
@pytest.mark.timeout(EXAMPLES * EXAMPLE_BUDGET_S)
@settings(
    max_examples=EXAMPLES,
    deadline=None,
    derandomize=True,
    phases=(Phase.explicit, Phase.generate),
    suppress_health_check=list(HealthCheck),
)
@given(data=st.data())
def test_hostile_answers_in_every_stage_end_in_a_guard_and_change_nothing_outside(
    planned_template: Callable[[str], Path], tmp_path: Path, isolated_home: Path, data: st.DataObject
) -> None:
    root = tmp_path / f"example-{next(_examples)}"
    outside = root / "outside"
    outside.mkdir(parents=True)
    repo = copy_repo(planned_template("opus"), root / "repo")
    turns = data.draw(script(STAGES, outside), label="script")
    program = fake_opencode(root / "agent", turns)
    home_before = files_under(isolated_home)
    env = {**build_by(program), "RALPH_BACKEND": "opencode", "RALPH_LOG_DIR": str(root / "logs")}
    proc = start_construct(repo, "--max-iterations", "2", "--max-failures", "30", env=env)
    code, out = finish(proc)
    (root / "output.txt").write_text(out, encoding="utf-8", errors="backslashreplace")
    end = check_survived(repo, root / "logs", outside, code, out)
    assert files_under(isolated_home) == home_before
    record_figure("hostile", answers=consumed(root / "agent", turns), exit_reason=end["exit_reason"])


def consumed(agent: Path, turns: dict[str, list[dict[str, object]]]) -> dict[str, int]:
    """Hostile answers the agent really gave, by kind (a stage's list is used in order, the last repeats)."""
    kinds: dict[str, int] = {}
    for stage, items in turns.items():
        counter = agent / f"script.{stage}.count"
        used = int(counter.read_text()) if counter.exists() else 0
        for n in range(used):
            kind = str(items[min(n, len(items) - 1)].get("kind", "?"))
            kinds[kind] = kinds.get(kind, 0) + 1
    return kinds


@needs_bwrap
def test_hostile_plan_of_ten_thousand_tasks_and_shell_text_is_refused_or_stored_inert(
    planned_template: Callable[[str], Path], tmp_path: Path
) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    repo = copy_repo(planned_template("opus"), tmp_path / "repo")
    item = {"name": f"Rename $(touch {outside}/x) in src/heap.c", "notes": "Edit src/heap.c", "accept": "1"}
    many = {"tasks": [{**item, "name": f"{item['name']} {n}"} for n in range(10_000)]}
    metachar = {
        "name": f"Rename `touch {outside}/tick`; rm -rf ~ | tee {outside}/p in src/heap.c",
        "notes": "Rename heap_t to rt_heap_t in src/heap.c and include/heap.h",
        "accept": "grep -c heap_t src/heap.c prints 0",
        "check": "! grep -q heap_t src/heap.c",
    }
    turns = [{"text": block(json.dumps(many))}, {"text": block(json.dumps({"tasks": [metachar]}))}]
    program = fake_opencode(tmp_path / "agent", turns)
    env = {**build_by(program), "RALPH_BACKEND": "opencode", "RALPH_LOG_DIR": str(tmp_path / "logs")}
    done = ralph(repo, "plan", "ralph/specs/runtime-refactor.md", env=env)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "Traceback" not in done.stderr
    names = [t.name for t in plan_tasks(repo)[0].values()]
    assert metachar["name"] in names
    assert not [n for n in names if "$(touch" in n]
    assert files_under(outside) == set()


@pytest.mark.parametrize(
    "chunk",
    [
        pytest.param(64, id="100MB-in-64KB-events"),
        pytest.param(0, id="100MB-in-one-line"),
    ],
)
def test_100_mb_of_output_is_capped_in_memory_and_spilled(
    planned_template: Callable[[str], Path], tmp_path: Path, chunk: int
) -> None:
    """Peak RSS of the ralph process with 100 MB of agent output, against the same run with 1 MB."""
    peaks: list[float] = []
    for size_mb in (1, 100):
        logs = tmp_path / f"logs-{size_mb}"
        peaks.append(_big_run(planned_template, tmp_path / f"run-{size_mb}", logs, size_mb, chunk))
    spilled = sum(p.stat().st_size for p in (logs / "spill").rglob("*.log"))
    shape = "64KB-events" if chunk else "one-line"
    record_figure("rss", shape=shape, peak_mb=peaks[1], base_mb=peaks[0], spilled=spilled)
    assert spilled >= 100 * 1024 * 1024
    assert peaks[1] - peaks[0] < BOUND_MB


CAP_MB = 4
BOUND_MB = 2 * CAP_MB + 8
"""What 99 MB more output may add: the kept text and the spill's first cap (each up to ``CAP_MB``) and the
reader's 64 queued lines (up to 4 MB), with room for the allocator."""


def _big_run(template: Callable[[str], Path], root: Path, logs: Path, size_mb: int, chunk: int) -> float:
    repo = copy_repo(template("opus"), root / "repo")
    answer = block('{"verdict": "blocked", "summary": "too much", "reason": "too much"}')
    big: dict[str, Any] = {"text": "x" * 1023 + "\n", "repeat": size_mb * 1024, "chunk": chunk}
    program = fake_opencode(root / "agent", {"build": [big, {"text": answer}]})
    env = build_by(program, RALPH_LOG_DIR=str(logs), RALPH_OUTPUT_CAP_BYTES=str(CAP_MB * 1024 * 1024))
    proc = start_construct(repo, "--max-iterations", "1", env=env)
    probe = PeakRss(proc.pid)
    code, out = finish(proc)
    assert code == 3, out
    return probe.peak_mb
