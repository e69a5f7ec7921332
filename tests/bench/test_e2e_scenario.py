"""The whole bench on the bundled scenario with sim profiles, through the real `ralph` CLI:
setup -> plan -> run (interrupted with SIGINT, then resumed) -> collect -> analyze --json -> report.

Two profiles (opus: remote, devstral: local-only) x two replicates; real git worktrees, real `ralph construct`
subprocesses, real make builds. The analysis numbers are checked against the ledger lines themselves.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from ralph.scenarios import create_scenario

pytestmark = [pytest.mark.slow, pytest.mark.timeout(1800)]
CELLS = ("opus-r1", "opus-r2", "devstral-r1", "devstral-r2")
RALPH = [sys.executable, "-c", "from ralph.cli.main import main; main()"]


def ralph(*args: str, cwd: Path, check: bool = True) -> subprocess.CompletedProcess[str]:
    done = subprocess.run([*RALPH, *args], cwd=cwd, capture_output=True, text=True, timeout=900, check=False)
    if check:
        assert done.returncode == 0, (
            f"ralph {' '.join(args)} -> {done.returncode}\n{done.stdout}\n{done.stderr}"
        )
    return done


def git(repo: Path, *args: str) -> str:
    return subprocess.run(
        ["git", "-C", str(repo), *args], capture_output=True, text=True, check=True
    ).stdout.strip()


class World:
    """The scenario target, the experiment folder and what the pipeline printed along the way."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.target = create_scenario("c-runtime-refactor", root / "target").repo
        self.exp = root / "002-sim-showdown"
        self.exp.mkdir()
        (self.exp / "experiment.toml").write_text(
            f'target_repo = "{self.target}"\nbase_ref = "main"\nspec = "runtime-refactor.md"\n'
            'profiles = ["opus", "devstral"]\nreplicates = 2\nseed = 11\n'
            "[limits]\nmax_iterations = 6\nmax_wall_time_s = 7200\n"
            '[checks]\nbuild = "make build"\ntest = "make test"\ntest_timeout_s = 120\n'
            '[[gates]]\nlabel = "has-makefile"\ncommand = "test -f Makefile"\n'
            '[[gates]]\nlabel = "always-fails"\ncommand = "echo nope; exit 3"\n'
        )
        self.main_sha = git(self.target, "rev-parse", "main")
        self.work_sha = git(self.target, "rev-parse", "HEAD")
        self.outputs: dict[str, str] = {}
        self.interrupted: list[str] = []
        self.attempts_before: dict[str, int] = {}
        self.attempts_after: dict[str, int] = {}
        self.finished_before: list[str] = []

    def cell(self, name: str) -> Path:
        return self.target.parent / "target-experiments" / self.exp.name / name

    def meta(self, name: str) -> dict[str, Any]:
        path = self.exp / "results" / name / "experiment-meta.json"
        return json.loads(path.read_text()) if path.is_file() else {}


def _state_iteration(world: World, name: str) -> int:
    try:
        return int(
            json.loads((world.cell(name) / ".tix" / "ralph-state.json").read_text()).get("iteration", 0)
        )
    except (OSError, ValueError):
        return 0


def _interrupted_run(world: World) -> None:
    """Start `bench run --all`, SIGINT it once a cell has done an iteration, and record what was running."""
    proc = subprocess.Popen([*RALPH, "bench", "run", str(world.exp), "--all"], cwd=world.root, text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT)  # fmt: skip
    deadline = time.monotonic() + 600
    while time.monotonic() < deadline:
        running = [c for c in CELLS if world.meta(c).get("status") == "running"]
        if any(_state_iteration(world, c) >= 1 for c in running):
            break
        assert proc.poll() is None, proc.stdout.read() if proc.stdout else ""
        time.sleep(0.5)
    world.interrupted = [c for c in CELLS if world.meta(c).get("status") == "running"]
    proc.send_signal(signal.SIGINT)
    out, _ = proc.communicate(timeout=300)
    world.outputs["run-interrupted"] = out
    assert proc.returncode == 130, out


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    world = World(tmp_path_factory.mktemp("bench-e2e"))
    world.outputs["setup"] = ralph("bench", "setup", str(world.exp), cwd=world.root).stdout
    world.outputs["setup-again"] = ralph("bench", "setup", str(world.exp), cwd=world.root).stdout
    world.outputs["plan"] = ralph("bench", "plan", str(world.exp), cwd=world.root).stdout
    _interrupted_run(world)
    world.attempts_before = {c: len(world.meta(c).get("attempts", [])) for c in CELLS}
    world.finished_before = [c for c in CELLS if world.meta(c).get("status") == "finished"]
    world.outputs["run"] = ralph("bench", "run", str(world.exp), "--all", cwd=world.root).stdout
    world.attempts_after = {c: len(world.meta(c)["attempts"]) for c in CELLS}
    world.outputs["run-again"] = ralph("bench", "run", str(world.exp), "--all", cwd=world.root).stdout
    world.outputs["collect"] = ralph("bench", "collect", str(world.exp), cwd=world.root).stdout
    world.outputs["analyze"] = ralph("bench", "analyze", str(world.exp), "--json", cwd=world.root).stdout
    world.outputs["report"] = ralph("bench", "report", str(world.exp), cwd=world.root).stdout
    yield world


def test_setup_makes_marked_worktrees_and_leaves_the_users_branches_alone(world: World) -> None:
    listed = git(world.target, "worktree", "list", "--porcelain")
    for name in CELLS:
        branch = f"exp/{world.exp.name}/{name}"
        assert f"worktree {world.cell(name)}\n" in listed + "\n" and f"branch refs/heads/{branch}" in listed
        assert git(world.target, "config", "--get", f"branch.{branch}.ralph-created") == "true"
    assert world.outputs["setup"].count("created") == 4 and world.outputs["setup-again"].count("exists") == 4
    assert git(world.target, "rev-parse", "main") == world.main_sha
    assert git(world.target, "rev-parse", "HEAD") == world.work_sha
    assert git(world.target, "symbolic-ref", "--short", "HEAD") == "ralph/work"


def test_every_cell_starts_from_the_same_plan_commit(world: World) -> None:
    plan = json.loads((world.exp / "results" / "plan.json").read_text())
    sha = plan["runtime-refactor.md"]["commit"]
    for name in CELLS:
        first = git(world.cell(name), "rev-list", "--reverse", f"{world.main_sha}..HEAD").splitlines()[0]
        assert first == sha, name  # the very same commit, not a copy
    assert "planned" in world.outputs["plan"] and world.outputs["plan"].count("fast-forward") == 3


def test_interrupted_run_records_and_resumes(world: World) -> None:
    assert world.interrupted, world.outputs["run-interrupted"]
    for name in world.interrupted:
        meta = world.meta(name)
        first = meta["attempts"][0]
        assert first["exit_code"] is not None and first["ended_at"]
        assert len(meta["attempts"]) == world.attempts_before[name] + 1  # resumed once
    for name in CELLS:
        meta = world.meta(name)
        assert meta["status"] == "finished" and meta["exit_code"] in (0, 3, 4), meta
        assert meta["host"]["cpu_count"] >= 1 and meta["started_at"] and meta["ended_at"]
        for attempt in meta["attempts"]:
            if attempt["pid"]:
                with pytest.raises(ProcessLookupError):
                    os.kill(attempt["pid"], 0)  # no construct process survives
    runs = _ledger_runs(world)
    stopped = [r for r in runs.values() if r.get("exit_reason") == "interrupted"]
    assert stopped, "the interrupted construct runs wrote their final record"
    for name in CELLS:  # the resumed run started every cell that had not finished, exactly once
        assert world.attempts_after[name] == world.attempts_before[name] + (name not in world.finished_before)
    lines = world.outputs["run-again"].splitlines()
    assert all(
        any(x.startswith(f"{c}: finished") and x.endswith("skipped: finished") for x in lines) for c in CELLS
    )
    assert {c: len(world.meta(c)["attempts"]) for c in CELLS} == world.attempts_after


def test_collect_writes_gates_git_stats_and_the_cells_own_ledger(world: World) -> None:
    for name in CELLS:
        folder = world.exp / "results" / name
        assert (folder / "gate-has-makefile-exit.txt").read_text().strip() == "0"
        assert (folder / "gate-always-fails-exit.txt").read_text().strip() == "3"
        assert "nope" in (folder / "gate-always-fails.log").read_text()
        for check in ("build", "test"):
            assert (folder / f"{check}-exit.txt").read_text().split()[0].lstrip("-").isdigit()
        commits = (folder / "git-log.txt").read_text().splitlines()
        assert len(commits) == int(git(world.cell(name), "rev-list", "--count", f"{world.main_sha}..HEAD"))
        assert json.loads((folder / "tix-full.json").read_text())
        lines = [json.loads(x) for x in (folder / "ledger" / "runs.jsonl").read_text().splitlines()]
        assert lines and {x["branch"] for x in lines} == {f"exp/{world.exp.name}/{name}"}


def _ledger_runs(world: World) -> dict[str, dict[str, Any]]:
    final: dict[str, dict[str, Any]] = {}
    for line in (world.exp / "logs" / "runs.jsonl").read_text().splitlines():
        record = json.loads(line)
        if record["run_id"] not in final or record.get("record") == "end":
            final[record["run_id"]] = record
    return final


def test_analyze_json_matches_the_ledger(world: World) -> None:
    data = json.loads(world.outputs["analyze"])
    runs = [r for r in _ledger_runs(world).values() if r.get("experiment") == world.exp.name]
    rows = {r["cell"]: r for r in data["runs"]}
    assert list(rows) == list(CELLS)
    for name in CELLS:
        mine = sorted((r for r in runs if r["branch"].endswith("/" + name)), key=lambda r: r["started_at"])
        row = rows[name]
        assert row["run_ids"] == [r["run_id"] for r in mine]
        assert row["cost"] == pytest.approx(sum(r["cost"] for r in mine))
        assert row["iterations"] == sum(r["iterations"] for r in mine)
        assert row["api_remote"] == sum(r["api_calls"]["remote"] for r in mine)
        assert row["api_local"] == sum(r["api_calls"]["local"] for r in mine)
        assert row["tasks_completed"] == mine[-1]["tasks"]["completed"]
        assert 0.0 <= row["completion_rate"] <= 1.0
        assert row["simulated"] is True
    assert all(rows[c]["api_local"] == 0 for c in ("opus-r1", "opus-r2"))
    assert all(rows[c]["api_remote"] == 0 for c in ("devstral-r1", "devstral-r2"))
    summaries = {s["arm"]: s for s in data["summaries"]}
    assert summaries["opus"]["cells"] == 2 and summaries["devstral"]["offload_pct"] == 100.0
    assert (
        summaries["opus"]["cost"]["method"] == "bootstrap"
        and summaries["opus"]["completion"]["method"] == "wilson"
    )
    assert {c["metric"] for c in data["comparisons"]} == {"completion", "cost", "time", "remote_calls"}
    gates = {row["cell"]: row for row in data["correctness"]}
    assert all(
        gates[c]["gates"][0]["exit_code"] == 0 and gates[c]["gates"][1]["exit_code"] == 3 for c in CELLS
    )


def test_report_is_written_with_every_figure(world: World) -> None:
    path = Path(world.outputs["report"].strip().splitlines()[-1])
    assert path == world.exp / "results" / "report.html"
    html = path.read_text()
    assert html.count('<img src="data:image/png;base64,') == 5
    assert "Profiles over replicates" in html and "Pairwise comparison" in html
    assert 'href="opus-r1/"' in html


def _spans(world: World, names: tuple[str, ...]) -> list[tuple[datetime, datetime]]:
    return [
        (datetime.fromisoformat(a["started_at"]), datetime.fromisoformat(a["ended_at"]))
        for name in names
        for a in world.meta(name)["attempts"]
    ]


def _overlap(a: tuple[datetime, datetime], b: tuple[datetime, datetime]) -> bool:
    return a[0] < b[1] and b[0] < a[1]


def test_one_cloud_slot_and_one_local_slot(world: World) -> None:
    opus, devstral = _spans(world, CELLS[:2]), _spans(world, CELLS[2:])
    for group in (opus, devstral):  # cells of the same slot never ran at the same time
        assert not any(_overlap(a, b) for i, a in enumerate(group) for b in group[i + 1 :]), group
    assert any(
        _overlap(a, b) for a in opus for b in devstral
    )  # the local-only cells ran beside the cloud one
