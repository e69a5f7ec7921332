"""Benchmark `ralph bench analyze` and `ralph bench report` on a synthetic ledger.

Writes an experiment of 8 profiles x 1,250 replicates = 10,000 cells, one construct run each with 100 stage
records (1,000,000 iterations.jsonl lines, schema 1), then runs the real CLI commands as child processes and
reads each child's wall time, CPU time and peak RSS (``os.wait4``). Budgets: analyze < 15 s and < 1 GB;
report < 30 s. Each command first runs with an empty fold cache (an ``XDG_CACHE_HOME`` of its own); then
``analyze --json`` and ``report`` run again with the checkpoint the first ``analyze`` left ("warm").

    .venv/bin/python benchmarks/bench_analyze.py [--runs 10000] [--iterations 100] [--keep DIR]
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time
import timeit
from pathlib import Path

PROFILES = ("hybrid", "opus", "sonnet", "opus-sonnet", "sonnet-hybrid", "devstral", "haiku", "qwen")
STAGES = ("BUILD", "VERIFY", "BUILD", "VERIFY", "INVESTIGATE", "DECOMPOSE")
RALPH = [sys.executable, "-c", "from ralph.cli.main import main; main()"]
BUDGETS = {"analyze": (15.0, 1024.0), "analyze --json": (15.0, 1024.0), "report": (30.0, None)}
BUDGETS |= {f"{step}, warm": budget for step, budget in BUDGETS.items()}


def _iteration(rng: random.Random, run_id: str, i: int, ts: float, local: bool) -> str:
    stage = STAGES[i % len(STAGES)]
    tokens = {
        "input": rng.randint(500, 5000),
        "cached": rng.randint(0, 20000),
        "output": rng.randint(100, 2000),
    }
    ok = rng.random() < 0.85
    record = {
        "schema": 1, "run_id": run_id, "iteration": i // 2 + 1, "stage": stage, "model": "sim/opus-4.6",
        "is_local": local and stage == "BUILD", "task_id": f"t-{i:08x}", "cost": 0.0 if local else 0.02,
        "tokens": tokens, "duration_s": rng.uniform(5, 120), "outcome": "success" if ok else "failure",
        "reconcile": {"added": 0, "accepted": int(ok and stage == "VERIFY"), "rejected": 0, "issues": 0},
        "backend": "sim", "api_calls": 3, "ts": ts, "simulated": True,
    }  # fmt: skip
    if not ok:
        record["kill_reason"] = rng.choice(("timeout", "context", "loop"))
    return json.dumps(record, separators=(",", ":"))


def _run_record(exp: str, cell: str, k: int, profile: str, run_id: str, iterations: int, t0: float) -> str:
    record = {
        "schema": 1, "run_id": run_id, "record": "end", "spec": "spec.md", "branch": f"exp/{exp}/{cell}",
        "worktree": f"/nowhere/{cell}", "profile": profile,
        "started_at": f"2026-01-01T00:00:{k % 60:02d}+00:00",
        "ended_at": "2026-01-01T02:00:00+00:00", "duration_s": 3600.0 + k, "exit_reason": "max_iterations",
        "iterations": iterations // 2, "tasks": {"total": 20, "completed": k % 21, "failed": 0},
        "cost": 1.0 + (k % 7), "tokens": {"input": 100000, "cached": 300000, "output": 20000},
        "api_calls": {"remote": 300, "local": 0 if profile != "devstral" else 300},
        "kills": {"timeout": k % 3, "context": 0, "loop": 0}, "retries": {"validation": 1, "task": 0},
        "stages": {}, "experiment": exp, "replicate": k, "host": "bench", "pid": 1, "simulated": True,
    }  # fmt: skip
    return json.dumps(record, separators=(",", ":"))


def generate(root: Path, runs: int, per_run: int) -> Path:
    """Write the experiment folder with its ledger; returns the folder."""
    exp = root / "900-synthetic"
    logs = exp / "logs"
    logs.mkdir(parents=True)
    replicates = runs // len(PROFILES)
    (exp / "experiment.toml").write_text(
        f'target_repo = "{root}/target"\nbase_ref = "main"\nspec = "spec.md"\n'
        f"profiles = {json.dumps(list(PROFILES))}\nreplicates = {replicates}\n"
    )
    rng = random.Random(7)
    with (logs / "runs.jsonl").open("w") as run_file, (logs / "iterations.jsonl").open("w") as it_file:
        for index in range(replicates * len(PROFILES)):
            profile, k = PROFILES[index // replicates], index % replicates + 1
            run_id = f"20260101_000000_{index:06x}"
            t0 = 1_767_225_600.0 + index
            lines = (_iteration(rng, run_id, i, t0 + 60 * i, profile == "devstral") for i in range(per_run))
            it_file.write("\n".join(lines) + "\n")
            run_file.write(_run_record(exp.name, f"{profile}-r{k}", k, profile, run_id, per_run, t0) + "\n")
    return exp


def measure(name: str, args: list[str], cwd: Path, cache: Path) -> dict[str, float | str]:
    """Run the real CLI in a child (fold cache in ``cache``); wall time, CPU time and its own peak RSS."""
    env = {**os.environ, "XDG_CACHE_HOME": str(cache)}
    started = time.perf_counter()
    proc = subprocess.Popen([*RALPH, *args], cwd=cwd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    assert proc.stdout is not None and proc.stderr is not None
    out = proc.stdout.read()
    err = proc.stderr.read()
    _, status, usage = os.wait4(proc.pid, 0)
    elapsed = time.perf_counter() - started
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"{name} failed: {err.decode()[-2000:]}")
    cpu = usage.ru_utime + usage.ru_stime
    return {
        "step": name,
        "seconds": elapsed,
        "cpu": cpu,
        "peak_rss_mb": usage.ru_maxrss / 1024,
        "output_bytes": len(out),
    }


def _json_floor(path: Path) -> tuple[float, float]:
    """Seconds a child needs just to json.loads every line (the floor for any reader of this ledger)."""
    code = "import json,sys\nfor line in open(sys.argv[1], 'rb'): json.loads(line)"
    started = time.perf_counter()
    proc = subprocess.Popen([sys.executable, "-c", code, str(path)])
    _, _, usage = os.wait4(proc.pid, 0)
    return time.perf_counter() - started, usage.ru_utime + usage.ru_stime


def _calibration_us() -> float:
    return 1e6 * min(timeit.repeat("sum(range(1000))", number=2000, repeat=5)) / 2000


def _load() -> str:
    return ", ".join(f"{x:.2f}" for x in os.getloadavg())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=10_000)
    parser.add_argument("--iterations", type=int, default=100, help="stage records per run")
    parser.add_argument("--keep", type=Path, help="generate here (or reuse what is there) and keep the files")
    options = parser.parse_args()
    root = options.keep or Path(tempfile.mkdtemp(prefix="bench-analyze-"))
    root.mkdir(parents=True, exist_ok=True)
    try:
        started = time.perf_counter()
        exp = root / "900-synthetic"
        if not (exp / "logs" / "iterations.jsonl").is_file():
            generate(root, options.runs, options.iterations)
        size = (exp / "logs" / "iterations.jsonl").stat().st_size / 1e6
        print(f"ledger: {options.runs} runs x {options.iterations} iterations ({size:.0f} MB), "
              f"ready in {time.perf_counter() - started:.1f} s")  # fmt: skip
        print(f"load average (1, 5, 15 min): {_load()} on {os.cpu_count()} CPUs")
        print(f"calibration: sum(range(1000)) takes {_calibration_us():.1f} us (8-10 us on an idle desktop)")
        wall, cpu = _json_floor(exp / "logs" / "iterations.jsonl")
        print(f"calibration: bare json.loads of every iterations line: {wall:.1f} s ({cpu:.1f} s cpu) here")
        caches = Path(tempfile.mkdtemp(prefix="bench-analyze-cache-"))
        steps = {
            "analyze": ["bench", "analyze", str(exp)],
            "analyze --json": ["bench", "analyze", str(exp), "--json"],
            "report": ["bench", "report", str(exp), "-o", str(root / "report.html")],
        }
        try:
            rows = [measure(name, args, root, caches / name.replace(" ", "")) for name, args in steps.items()]
            for name in ("analyze --json", "report"):  # with the checkpoint the first analyze left
                rows.append(measure(f"{name}, warm", steps[name], root, caches / "analyze"))
        finally:
            shutil.rmtree(caches, ignore_errors=True)
        print(f"load average after: {_load()}")
        _print(rows)
    finally:
        if options.keep is None:
            shutil.rmtree(root, ignore_errors=True)


def _print(rows: list[dict[str, float | str]]) -> None:
    print(f"{'step':22} {'seconds':>8} {'cpu s':>7} {'peak RSS MB':>12} {'output MB':>10}  budget")
    failed = False
    for row in rows:
        seconds, rss = float(row["seconds"]), float(row["peak_rss_mb"])
        limit_s, limit_mb = BUDGETS[str(row["step"])]
        ok = seconds < limit_s and (limit_mb is None or rss < limit_mb)
        failed |= not ok
        budget = f"< {limit_s:g} s" + (f", < {limit_mb:g} MB" if limit_mb else "")
        print(f"{row['step']!s:22} {seconds:8.1f} {float(row['cpu']):7.1f} {rss:12.0f} "
              f"{float(row['output_bytes']) / 1e6:10.2f}  "
              f"{budget} {'ok' if ok else 'OVER'}")  # fmt: skip
    if failed:
        raise SystemExit(1)


if __name__ == "__main__":
    main()
