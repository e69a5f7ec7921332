"""The pieces of `bench run` and `collect` that need no agent: slots, ledger tail, meta, argv, gates."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest

from ralph.bench.analysis import GateOutcome
from ralph.bench.collected import read_correctness, read_gate, write_gate
from ralph.bench.experiment import Arm, Concurrency, Experiment, Gate, Limits
from ralph.bench.gates import run_gate
from ralph.bench.launch import CLOUD, capacity, cell_env, construct_argv, plan_argv, slots_of
from ralph.bench.loading import load_experiment
from ralph.bench.meta import CellMeta, CellStatus, read_meta, status_of, write_meta
from ralph.bench.progress import LedgerTail, startable
from ralph.bench.template import init_experiment
from ralph.errors import UsageError


def experiment(tmp_path: Path, **changes: object) -> Experiment:
    fields: dict[str, object] = {
        "name": "e", "folder": tmp_path, "source": tmp_path / "experiment.toml",
        "target_repo": tmp_path / "t", "base_ref": "main", "spec": "s.md", "replicates": 2,
        "worktree_base": tmp_path / "wt",
        "log_dir": tmp_path / "logs", "results_dir": tmp_path / "results",
        "arms": (Arm("opus", "opus", {"sim_seed": 4, "use_acp": False}), Arm("dev", "devstral")),
    }  # fmt: skip
    fields.update(changes)
    return Experiment(**fields)  # type: ignore[arg-type]


def test_slots_let_local_cells_run_beside_the_cloud_one() -> None:
    cloud, local_a, local_b = frozenset({CLOUD}), frozenset({"local:a"}), frozenset({"local:b"})
    hybrid = frozenset({CLOUD, "local:a"})
    one = {CLOUD: 1, "local:a": 1, "local:b": 1}
    assert startable([cloud, cloud, local_a, local_b], {}, one.__getitem__) == [0, 2, 3]
    assert startable([cloud, local_a], {CLOUD: 1}, one.__getitem__) == [1]
    assert startable([hybrid, local_a, cloud], {}, one.__getitem__) == [0]
    assert startable([cloud, cloud, cloud], {CLOUD: 1}, lambda s: 2) == [0]


def test_capacity_comes_from_the_experiment(tmp_path: Path) -> None:
    exp = experiment(tmp_path, concurrency=Concurrency(cloud=2, local=3))
    assert (capacity(exp, CLOUD), capacity(exp, "local:http://127.0.0.1:8080")) == (2, 3)


def test_construct_argv_carries_limits_profile_experiment_replicate_and_log_dir(tmp_path: Path) -> None:
    exp = experiment(tmp_path, limits=Limits(10, 600, 2, max_cost=5.0, stage_timeout_s=300),
                     ralph_command=("ralph",))  # fmt: skip
    cell = exp.cells()[1]
    assert construct_argv(exp, cell) == [
        "ralph", "construct", "--profile", "opus", "--max-iterations", "10", "--max-wall-time", "600",
        "--max-failures", "2", "--max-cost", "5.0", "--stage-timeout", "300",
        "--log-dir", str(tmp_path / "logs"), "--experiment", "e", "--replicate", "2",
    ]  # fmt: skip
    assert plan_argv(exp, Arm("x", None), "ralph/specs/s.md") == [
        "ralph", "plan", "ralph/specs/s.md", "--log-dir", str(tmp_path / "logs"),
    ]  # fmt: skip
    env = cell_env(cell.arm, {"PATH": "/bin"})
    assert env == {"PATH": "/bin", "RALPH_SIM_SEED": "4", "RALPH_USE_ACP": "false"}


def test_slots_follow_the_settings_locality(tmp_path: Path, git_repo: Path) -> None:
    (git_repo / "ralph").mkdir()
    (git_repo / "ralph" / "config.toml").write_text(
        '[profiles.hybrid]\nmodel = "sim/opus-4.6"\nmodel_build = "sim/devstral-small-2"\n'
        '[profiles.devstral]\nmodel = "sim/devstral-small-2"\n'
        '[profiles.llama]\nmodel = "llamacpp/devstral"\n'
        '[providers.llamacpp]\nbase_url = "http://127.0.0.1:8080/v1"\n'
    )
    arms = (Arm("hybrid", "hybrid"), Arm("devstral", "devstral"), Arm("llama", "llama"))
    exp = experiment(tmp_path, target_repo=git_repo, arms=arms, replicates=1)
    hybrid, devstral, llama = (slots_of(exp, c) for c in exp.cells())
    assert hybrid == {CLOUD, "local:sim/devstral-small-2"}
    assert devstral == {"local:sim/devstral-small-2"}
    assert llama == {"local:http://127.0.0.1:8080/v1"}


def test_ledger_tail_reads_only_complete_new_lines(tmp_path: Path) -> None:
    tail = LedgerTail(tmp_path)
    tail.poll()  # no file yet
    path = tmp_path / "iterations.jsonl"
    first = json.dumps({"run_id": "r1", "cost": 0.5, "reconcile": {"accepted": 2}})
    path.write_text(first + "\n" + '{"run_id": "r1", "cost": 1')
    tail.poll()
    assert tail.totals(["r1"]) == (2, 0.5)
    with path.open("a") as handle:
        handle.write(', "reconcile": {"accepted": 1}}\n{"run_id": "r2", "cost": 2.0}\n')
    tail.poll()
    assert tail.totals(["r1"]) == (3, 1.5) and tail.totals(["r1", "r2", "r1"]) == (3, 3.5)


def test_meta_lifecycle_round_trips(tmp_path: Path) -> None:
    meta = CellMeta("e", "opus-r1", "opus", "opus", 1, "/t", "main", "s.md", "/w", "exp/e/opus-r1")
    assert read_meta(tmp_path) is None
    running = meta.begin(pid=4242)
    write_meta(tmp_path, running)
    assert read_meta(tmp_path) == running and running.status is CellStatus.RUNNING
    ended = running.end(130, "run-1")
    write_meta(tmp_path, ended)
    again = read_meta(tmp_path)
    assert again == ended and again is not None and again.status is CellStatus.INTERRUPTED
    resumed = again.begin(pid=4243).end(3, "run-2")
    assert [a.run_id for a in resumed.attempts] == [
        "run-1",
        "run-2",
    ] and resumed.status is CellStatus.FINISHED
    assert resumed.started_at == running.started_at
    assert [status_of(c) for c in (0, 3, 4, 130, -2, 1, 2)] == [
        "finished", "finished", "finished", "interrupted", "interrupted", "failed", "failed",
    ]  # fmt: skip


def test_gates_pass_fail_and_time_out(tmp_path: Path) -> None:
    ok, out = run_gate(Gate("ok", "echo hello; echo warn >&2"), tmp_path)
    assert ok.passed and "hello" in out and "warn" in out
    bad, _ = run_gate(Gate("bad", "exit 7"), tmp_path)
    assert (bad.passed, bad.exit_code) == (False, 7)
    started = time.monotonic()
    slow, out = run_gate(Gate("slow", "sleep 30 & sleep 30; wait", timeout_s=1.0), tmp_path)
    assert slow.timed_out and slow.exit_code is None and time.monotonic() - started < 15
    assert "timed out" in out


def test_collected_files_round_trip(tmp_path: Path) -> None:
    write_gate(tmp_path, "build", GateOutcome("build", 0), "built\n")
    write_gate(tmp_path, "test", GateOutcome("test", None, timed_out=True), "slow\n")
    written = write_gate(tmp_path, "gate", GateOutcome("asan", 2), "leak\n")
    assert written.log == "gate-asan.log" and (tmp_path / "gate-asan.log").read_text() == "leak\n"
    (tmp_path / "git-log.txt").write_text("a one\nb two\n")
    (tmp_path / "git-shortstat.txt").write_text(" 2 files changed, 1 insertion(+), 4 deletions(-)\n")
    found = read_correctness(tmp_path, ["asan", "missing"])
    assert found is not None
    assert found.build == GateOutcome("build", 0, False, "build.log")
    assert found.test is not None and found.test.timed_out and found.test.exit_code is None
    assert [g.label for g in found.gates] == ["asan"] and found.gates[0].exit_code == 2
    assert (found.commits, found.insertions, found.deletions) == (2, 1, 4)
    assert read_gate(tmp_path, "nothing", "gate") is None
    assert read_correctness(tmp_path / "absent", []) is None


def test_init_writes_a_template_that_loads(tmp_path: Path) -> None:
    path = init_experiment("003-timeouts", tmp_path)
    assert path == tmp_path / "003-timeouts" / "experiment.toml"
    exp = load_experiment(path.parent)
    assert exp.name == "003-timeouts" and [a.name for a in exp.arms] == ["opus", "sonnet"]
    with pytest.raises(UsageError, match="already holds"):
        init_experiment("003-timeouts", tmp_path)


def test_select_cells(tmp_path: Path) -> None:
    exp = experiment(tmp_path)
    assert [c.name for c in exp.select([], True)] == ["opus-r1", "opus-r2", "dev-r1", "dev-r2"]
    assert [c.name for c in exp.select(["dev"], False)] == ["dev-r1", "dev-r2"]
    assert [c.name for c in exp.select(["opus", "dev-r2"], False, replicate=2)] == ["opus-r2", "dev-r2"]
    with pytest.raises(UsageError, match="--all"):
        exp.select([], False)
    with pytest.raises(UsageError, match="unknown profile or variant 'zzz'"):
        exp.select(["zzz"], False)
    with pytest.raises(UsageError, match=r"replicates 1\.\.2"):
        exp.select([], True, replicate=3)
