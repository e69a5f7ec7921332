"""Ralph's own overhead per stage (everything but the agent) with the sim at zero latency, at 100 and 1,000
tickets, with git commit, other git work and acceptance checks reported apart; then RSS over many iterations.

    .venv/bin/python benchmarks/loop_bench.py [--tickets 100 1000] [--iterations 500]
"""

from __future__ import annotations

import argparse
import importlib
import os
import subprocess
import tempfile
import time
from collections import defaultdict
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from ralph.agents.sim import SimBackend
from ralph.loop import ConstructOptions, construct, plan_spec
from ralph.scenarios import create_scenario
from ralph.settings import Settings, load_settings
from ralph.tix import TicketStore

attempt_mod = importlib.import_module("ralph.loop.attempt")
construct_mod = importlib.import_module("ralph.loop.construct")
precheck_mod = importlib.import_module("ralph.loop.precheck")
review_mod = importlib.import_module("ralph.loop.review")
FAST = {"latency_s": 0.0}
SPEC = "runtime-refactor.md"
Timers = dict[str, float]


def _settings(repo: Path, log_dir: Path, **overrides: Any) -> Settings:
    models = {name: FAST for name in ("sim/opus-4.6", "sim/sonnet-4.5", "sim/devstral-small-2")}
    base = {"sim_models": models, "log_dir": log_dir, "progress_stall_abort_s": 0, "max_wall_time_s": 0}
    return load_settings(repo, profile="opus", overrides={**base, **overrides}, env={})


def _planned(root: Path, tickets: int) -> Path:
    repo = create_scenario("c-runtime-refactor", root / f"repo{tickets}").repo
    plan_spec(repo, _settings(repo, root / "logs"), f"ralph/specs/{SPEC}")
    store = TicketStore.open(repo)
    filler = max(0, tickets - len(store.tasks()))
    items = [
        {
            "name": f"filler task {n}",
            "spec": SPEC,
            "notes": f"src/f{n}.c",
            "accept": "x",
            "labels": ["parked"],
        }
        for n in range(filler)
    ]
    for start in range(0, len(items), 200):
        store.add_tasks(items[start : start + 200])
    subprocess.run(["git", "-C", str(repo), "add", "-A"], check=True)
    subprocess.run(["git", "-C", str(repo), "commit", "-qm", "filler"], check=True)
    return repo


@contextmanager
def _timed(timers: Timers) -> Iterator[None]:
    """Wrap the agent, git and check calls to split the wall time of a run."""
    patches: list[tuple[Any, str, str]] = [
        (SimBackend, "run", "agent"),
        (construct_mod, "commit_all", "git commit"),
        (attempt_mod, "snapshot_attempt", "git snapshot/revert/diff"),
        (attempt_mod, "revert_attempt", "git snapshot/revert/diff"),
        (attempt_mod, "drop_snapshot", "git snapshot/revert/diff"),
        (review_mod, "diff_since", "git snapshot/revert/diff"),
        (precheck_mod, "run_check", "acceptance checks"),
    ]
    saved = [(owner, name, getattr(owner, name)) for owner, name, _ in patches]
    for owner, name, label in patches:
        setattr(owner, name, _wrap(getattr(owner, name), timers, label))
    try:
        yield
    finally:
        for owner, name, original in saved:
            setattr(owner, name, original)


def _wrap(fn: Callable[..., Any], timers: Timers, label: str) -> Callable[..., Any]:
    def timed(*args: Any, **kwargs: Any) -> Any:
        started = time.perf_counter()
        try:
            return fn(*args, **kwargs)
        finally:
            timers[label] += time.perf_counter() - started

    return timed


def overhead(root: Path, tickets: int, iterations: int) -> dict[str, float]:
    repo = _planned(root, tickets)
    timers: Timers = defaultdict(float)
    settings = _settings(repo, root / f"logs{tickets}", max_iterations=iterations)
    with _timed(timers):
        started = time.perf_counter()
        construct(repo, settings, SPEC, options=ConstructOptions())
        total = time.perf_counter() - started
    stages = sum(1 for _ in (root / f"logs{tickets}" / "iterations.jsonl").open())
    own = total - sum(timers.values())
    return {"tickets": tickets, "stages": stages, "own_ms": 1000 * own / stages, "total_s": total} | {
        f"{k}_ms": 1000 * v / stages for k, v in timers.items()
    }


def _rss_kb() -> int:
    with open(f"/proc/{os.getpid()}/statm") as fh:
        return int(fh.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") // 1024


def rss(root: Path, iterations: int) -> list[tuple[int, int]]:
    """RSS after each iteration of a run whose BUILD is always wrong and VERIFY always rejects."""
    repo = _planned(root / "rss", 100)
    samples: list[tuple[int, int]] = []
    original = construct_mod._end_iteration

    def sampled(run: Any) -> None:
        original(run)
        samples.append((run.totals.iterations, _rss_kb()))

    bad = {"latency_s": 0.0, "skill": [0.0] * 5, "failure_modes": {"wrong": 1.0}, "local": True}
    wrong = {"sim/opus-4.6": {"latency_s": 0.0, "review": 1.0}, "sim/wrong": bad}
    settings = _settings(
        repo, root / "logs-rss", sim_models=wrong, model_build="sim/wrong", max_iterations=iterations,
        max_retries_per_task=0, max_failures=0, loop_detection_threshold=0,
    )  # fmt: skip
    construct_mod._end_iteration = sampled  # type: ignore[assignment]
    try:
        construct(repo, settings, SPEC, options=ConstructOptions())
    finally:
        construct_mod._end_iteration = original  # type: ignore[assignment]
    return samples


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--tickets", type=int, nargs="*", default=[100, 1000])
    parser.add_argument("--stage-iterations", type=int, default=12)
    parser.add_argument("--iterations", type=int, default=500)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        rows = [overhead(root, n, args.stage_iterations) for n in args.tickets]
        keys = sorted({k for row in rows for k in row} - {"tickets", "stages", "total_s", "own_ms"})
        print(f"{'tickets':>8} {'stages':>7} {'own ms/stage':>13} " + " ".join(f"{k:>28}" for k in keys))
        for row in rows:
            extra = " ".join(f"{row.get(k, 0.0):>28.1f}" for k in keys)
            print(f"{row['tickets']:>8} {row['stages']:>7} {row['own_ms']:>13.1f} {extra}")
        if args.iterations:
            samples = rss(root, args.iterations)
            marks = [s for s in samples if s[0] in (10, 50, 100, 200, 300, 400, 500) or s is samples[-1]]
            print("\niteration  RSS (MB)")
            for number, kb in marks:
                print(f"{number:>9}  {kb / 1024:8.1f}")
            at50 = next((kb for n, kb in samples if n >= 50), None)
            if at50:
                drift = 100.0 * (samples[-1][1] - at50) / at50
                print(f"RSS change from iteration 50 to {samples[-1][0]}: {drift:+.1f}%")


if __name__ == "__main__":
    main()
