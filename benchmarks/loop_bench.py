"""Ralph's own overhead per stage (everything but the agent) with the sim at zero latency, at 100 and 1,000
tickets, with git commit, other git work and acceptance checks reported apart; then RSS over many iterations.
Own time is given as wall time and as this process's CPU time (the wall figure grows with the machine's load;
the CPU figure much less).

    .venv/bin/python benchmarks/loop_bench.py [--tickets 100 1000] [--iterations 500]
"""

from __future__ import annotations

import argparse
import cProfile
import importlib
import os
import subprocess
import tempfile
import time
import timeit
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

construct_mod = importlib.import_module("ralph.loop.construct")
LOOP_MODULES = [
    importlib.import_module(f"ralph.loop.{name}")
    for name in ("attempt", "construct", "precheck", "resume", "review", "session")
]
FAST = {"latency_s": 0.0}
SPEC = "runtime-refactor.md"
GIT = "git snapshot/revert/diff/HEAD"
CATEGORIES = ("agent", "acceptance checks", "git commit", GIT)
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


def _patches() -> list[tuple[Any, str, str]]:
    """Every call the loop makes into git (gitops), the sandboxed checks and the sim agent, by category."""
    patches: list[tuple[Any, str, str]] = [(SimBackend, "run", "agent")]
    for module in LOOP_MODULES:
        for name, value in vars(module).items():
            home = getattr(value, "__module__", "") or ""
            if not callable(value) or isinstance(value, type):
                continue
            if home.startswith("ralph.gitops"):
                patches.append((module, name, "git commit" if name == "commit_all" else GIT))
            elif home == "ralph.sandbox" and name == "run_check":
                patches.append((module, name, "acceptance checks"))
    return patches


@contextmanager
def _timed(timers: Timers) -> Iterator[None]:
    """Wrap the agent, git and check calls to split the wall time of a run; ``drive`` times the stages
    (everything after the run's start-up)."""
    patches = [*_patches(), (construct_mod, "_drive", "drive")]
    saved = [(owner, name, getattr(owner, name)) for owner, name, _ in patches]
    for owner, name, label in patches:
        setattr(owner, name, _wrap(getattr(owner, name), timers, label))
    try:
        yield
    finally:
        for owner, name, original in saved:
            setattr(owner, name, original)


def _wrap(fn: Callable[..., Any], timers: Timers, label: str) -> Callable[..., Any]:
    """Wall time under ``label``, this process's CPU time under ``label cpu``; for ``drive``, also the part
    of each category spent inside the stages."""

    def timed(*args: Any, **kwargs: Any) -> Any:
        started, cpu = time.perf_counter(), time.process_time()
        before = dict(timers)
        try:
            return fn(*args, **kwargs)
        finally:
            timers[label] += time.perf_counter() - started
            timers[f"{label} cpu"] += time.process_time() - cpu
            if label == "drive":
                for key in (*CATEGORIES, *(f"{k} cpu" for k in CATEGORIES)):
                    timers[f"{key} (in stages)"] += timers[key] - before.get(key, 0.0)

    return timed


def overhead(root: Path, tickets: int, iterations: int) -> dict[str, float]:
    """Per stage: Ralph's own time in the stages (run start-up apart), and each excluded category."""
    repo = _planned(root, tickets)
    timers: Timers = defaultdict(float)
    settings = _settings(repo, root / f"logs{tickets}", max_iterations=iterations)
    with _timed(timers):
        started = time.perf_counter()
        construct(repo, settings, SPEC, options=ConstructOptions())
        total = time.perf_counter() - started
    stages = sum(1 for _ in (root / f"logs{tickets}" / "iterations.jsonl").open())
    in_stages = sum(timers[f"{key} (in stages)"] for key in CATEGORIES)
    own = timers["drive"] - in_stages
    own_cpu = timers["drive cpu"] - sum(timers[f"{key} cpu (in stages)"] for key in CATEGORIES)
    startup = total - timers["drive"] - (sum(timers[key] for key in CATEGORIES) - in_stages)
    row = {"tickets": tickets, "stages": stages, "own_ms": 1000 * own / stages, "startup_ms": 1000 * startup}
    row["own_cpu_ms"] = 1000 * own_cpu / stages
    return row | {f"{key}_ms": 1000 * timers[key] / stages for key in CATEGORIES}


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
    setattr(construct_mod, "_end_iteration", sampled)  # noqa: B010
    try:
        construct(repo, settings, SPEC, options=ConstructOptions())
    finally:
        setattr(construct_mod, "_end_iteration", original)  # noqa: B010
    return samples


def _calibration_us() -> float:
    return 1e6 * min(timeit.repeat("sum(range(1000))", number=2000, repeat=5)) / 2000


def _table(rows: list[dict[str, float]]) -> None:
    heads = ["tickets", "stages", "own_ms", "own_cpu_ms", "startup_ms", *(f"{key}_ms" for key in CATEGORIES)]
    titles = ["tickets", "stages", "own ms/stage", "own CPU ms/stage", "run start-up ms"]
    titles += [f"{k} ms/stage" for k in CATEGORIES]
    widths = [max(8, len(t)) for t in titles]
    print("  ".join(t.rjust(w) for t, w in zip(titles, widths, strict=True)))
    for row in rows:
        cells = [f"{row[h]:.0f}" if h in ("tickets", "stages") else f"{row[h]:.1f}" for h in heads]
        print("  ".join(c.rjust(w) for c, w in zip(cells, widths, strict=True)))


def _rss_report(samples: list[tuple[int, int]]) -> None:
    marks = [s for s in samples if s[0] in (10, 50, 100, 200, 300, 400, 500) or s is samples[-1]]
    print("\niteration  RSS (MB)")
    for number, kb in marks:
        print(f"{number:>9}  {kb / 1024:8.1f}")
    at50 = next((kb for n, kb in samples if n >= 50), None)
    if at50:
        drift = 100.0 * (samples[-1][1] - at50) / at50
        print(f"RSS change from iteration 50 to {samples[-1][0]}: {drift:+.1f}%")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--tickets", type=int, nargs="*", default=[100, 1000])
    parser.add_argument("--stage-iterations", type=int, default=12)
    parser.add_argument("--iterations", type=int, default=500)
    parser.add_argument("--cprofile", type=Path, help="Write a cProfile of the last overhead run here.")
    args = parser.parse_args()
    print("load average (1, 5, 15 min): " + ", ".join(f"{x:.2f}" for x in os.getloadavg()))
    print(f"calibration: sum(range(1000)) takes {_calibration_us():.1f} us (8-10 us on an idle desktop)")
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        rows = [overhead(root, n, args.stage_iterations) for n in args.tickets[:-1]]
        profile = cProfile.Profile() if args.cprofile else None
        if profile is not None:
            profile.enable()
        rows.append(overhead(root, args.tickets[-1], args.stage_iterations))
        if profile is not None:
            profile.disable()
            profile.dump_stats(args.cprofile)
        _table(rows)
        if args.iterations:
            _rss_report(rss(root, args.iterations))
    print("load average after: " + ", ".join(f"{x:.2f}" for x in os.getloadavg()))


if __name__ == "__main__":
    main()
