"""Scale: 10,000 runs and 1,000,000 iteration lines read within the bench analyze budget (< 15 s, < 1 GB).

Run with ``-m slow``; the numbers are printed (``-s``).
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from ralph.ledger import IterationRecord, Reconcile, RunPhase, RunRecord, Tokens

RUNS = 10_000
ITERATIONS = 1_000_000

_READER = """
import json, resource, sys, time
from pathlib import Path
from ralph.ledger import iter_iterations, read_runs
log_dir = Path(sys.argv[1])
w0, c0 = time.perf_counter(), time.process_time()
runs = read_runs(log_dir)
cost = 0.0
count = 0
for line in iter_iterations(log_dir):
    cost += line["cost"]
    count += 1
w1, c1 = time.perf_counter(), time.process_time()
subset = sum(1 for _ in iter_iterations(log_dir, run_ids={runs[0].run_id, runs[1].run_id}))
w2, c2 = time.perf_counter(), time.process_time()
for name in ("runs.jsonl", "iterations.jsonl"):
    with open(log_dir / name) as handle:
        for text in handle:
            json.loads(text)
c3 = time.process_time()
print(json.dumps({"runs": len(runs), "iterations": count, "subset": subset,
                  "wall_s": w1 - w0, "cpu_s": c1 - c0,
                  "filtered_wall_s": w2 - w1, "filtered_cpu_s": c2 - c1, "bare_json_cpu_s": c3 - c2,
                  "max_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
"""


def _write_ledger(log_dir: Path) -> None:
    """Bulk-write realistic lines (the writer's own format) without a lock per line, to save test time."""
    log_dir.mkdir()
    with (log_dir / "runs.jsonl").open("w") as runs:
        for n in range(RUNS):
            start = RunRecord(
                run_id=f"run{n:05d}",
                spec="s.md",
                profile=f"p{n % 6}",
                host="h",
                pid=1,
                config_snapshot={"model": "anthropic/claude-opus-4-6", "max_iterations": 25},
            )
            end = RunRecord(**{**start.__dict__, "record": RunPhase.END, "exit_reason": "complete"})
            runs.write(json.dumps(start.to_json(), separators=(",", ":")) + "\n")
            runs.write(json.dumps(end.to_json(), separators=(",", ":")) + "\n")
    per_run = ITERATIONS // RUNS
    sample = IterationRecord(
        run_id="RUN",
        iteration=-7,
        stage="BUILD",
        model="llamacpp/devstral",
        is_local=True,
        task_id="t-0123abcd",
        cost=0.01,
        tokens=Tokens(12000, 30000, 800),
        duration_s=42.5,
        backend="opencode",
        api_calls=3,
        ts=1.7e9,
        reconcile=Reconcile(accepted=1),
    )
    head, tail = json.dumps(sample.to_json(), separators=(",", ":")).split('"RUN","iteration":-7')
    with (log_dir / "iterations.jsonl").open("w") as its:
        for n in range(ITERATIONS):
            its.write(f'{head}"run{n // per_run:05d}","iteration":{n % per_run}{tail}\n')


@pytest.mark.slow
@pytest.mark.timeout(900)
def test_ten_thousand_runs_and_a_million_iterations(tmp_path: Path) -> None:
    _write_ledger(tmp_path / "logs")
    out = subprocess.run(
        [sys.executable, "-c", _READER, str(tmp_path / "logs")], capture_output=True, text=True, check=True
    )
    result = json.loads(out.stdout)
    print(result)
    assert result["runs"] == RUNS and result["iterations"] == ITERATIONS and result["subset"] == 200
    # CPU time, not wall time, so a shared machine does not fail the budget; and where even bare json.loads of
    # every line takes longer than the budget, the reader may add at most 60 % on top of it.
    assert result["cpu_s"] < max(15.0, 1.6 * result["bare_json_cpu_s"])
    assert result["max_rss_mb"] < 1024
