"""tix speed at 1,000 and 10,000 tickets; prints a table (a benchmark, never a timed test).

Targets at 10,000 tickets: in-process ``query full`` < 50 ms, one CLI mutation < 150 ms wall (interpreter
start included), full cache rebuild < 1 s.
Run: ``.venv/bin/python benchmarks/tix_bench.py [--sizes 1000,10000] [--repeat 5]``.
"""

from __future__ import annotations

import argparse
import glob
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from ralph.tix import TicketStore

TIX = str(Path(sys.executable).with_name("tix"))


def _git_repo(folder: Path) -> Path:
    repo = folder / "repo"
    repo.mkdir()
    subprocess.run(["git", "init", "-q", "-b", "main", str(repo)], check=True)
    subprocess.run(["git", "-C", str(repo), "commit", "-q", "--allow-empty", "-m", "init"], check=True)
    return repo


def _plan_lines(count: int) -> str:
    """``count`` tickets (90 % tasks, 5 % issues, 5 % notes) plus done/accept history for a third."""
    lines = []
    for i in range(count):
        kind = "issue" if i % 20 == 18 else "note" if i % 20 == 19 else "task"
        rec = {
            "t": kind,
            "id": f"{kind[0]}-{i:08x}",
            "name": f"{kind} number {i}: implement part {i % 97} of the parser",
            "s": "p",
            "spec": f"spec-{i % 5}.md",
            "notes": f"src/module_{i % 13}/file_{i}.py needs care",
            "accept": f"pytest tests/test_{i}.py passes",
            "branch": "main",
            "priority": ("high", "medium", "low", "none")[i % 4],
            "labels": [f"module:m{i % 13}", f"epic:e{i % 7}"],
            "author": "bench",
            "created_at": 1_700_000_000 + i,
            "updated_at": 1_700_000_000 + i,
            "meta": {"cost": i % 10 / 4, "tokens_in": i * 10, "tokens_out": i, "model": f"m{i % 3}"},
        }
        if kind == "task" and i % 10 == 1 and i > 1:
            rec["deps"] = [f"t-{i - 1:08x}"]
        lines.append(json.dumps(rec, separators=(",", ":")))
        if kind == "task" and i % 3 == 0:
            lines.append(json.dumps({**rec, "s": "d", "done_at": "abc1234"}, separators=(",", ":")))
            if i % 6 == 0:
                lines.append(
                    json.dumps({"t": "accept", "id": rec["id"], "name": rec["name"], "time": 1.7e9 + i})
                )
    return "\n".join(lines) + "\n"


def _cpu() -> float:
    """CPU seconds of this process and its finished children (fairer than wall time on a busy host)."""
    me, kids = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return me.ru_utime + me.ru_stime + kids.ru_utime + kids.ru_stime


def _timed(action: Callable[[], object], repeat: int) -> tuple[float, float]:
    """Median wall and median CPU time, in milliseconds."""
    wall, cpu = [], []
    for _ in range(repeat):
        start, start_cpu = time.perf_counter(), _cpu()
        action()
        wall.append((time.perf_counter() - start) * 1000)
        cpu.append((_cpu() - start_cpu) * 1000)
    return statistics.median(wall), statistics.median(cpu)


def _drop_cache(repo: Path) -> None:
    for path in glob.glob(str(repo / ".tix" / "cache.db*")):
        os.unlink(path)


def _cold_full(repo: Path) -> None:
    store = TicketStore.open(repo)
    store.full()
    store.close()


def _rebuild(repo: Path) -> None:
    store = TicketStore.open(repo)
    store.refresh()
    store.close()


_CLI_ENV = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
_CLI_ENV["PYTHONPYCACHEPREFIX"] = os.path.join(tempfile.gettempdir(), "tix-bench-pycache")


def _cli(repo: Path, *args: str) -> None:
    """Run the installed ``tix`` with bytecode caching on (as a normal install has it)."""
    subprocess.run([TIX, *args], cwd=repo, check=True, capture_output=True, env=_CLI_ENV)


def bench_size(count: int, repeat: int) -> list[tuple[str, tuple[float, float]]]:
    with tempfile.TemporaryDirectory(prefix="tix-bench-") as folder:
        repo = _git_repo(Path(folder))
        TicketStore.init(repo).close()
        (repo / ".tix" / "plan.jsonl").write_text(_plan_lines(count), encoding="utf-8")
        rows = [("cache rebuild (full replay)", _timed(lambda: (_drop_cache(repo), _rebuild(repo)), repeat))]
        store = TicketStore.open(repo)
        rows.append(("query full, in-process, cold (open + load)", _timed(lambda: _cold_full(repo), repeat)))
        store.full()
        rows.append(("query full, in-process, warm", _timed(store.full, repeat)))
        rows.append(("tasks(), in-process, warm", _timed(store.tasks, repeat)))
        rows.append(
            ("add_task, in-process", _timed(lambda: store.add_task({"name": "bench add"}), repeat * 4))
        )
        fresh = [store.add_task({"name": f"flow {i}"}).id for i in range(repeat * 4)]
        cycle = iter(fresh)
        rows.append(
            ("done + accept, in-process", _timed(lambda: _done_accept(store, next(cycle)), repeat * 4))
        )
        store.close()
        _cli(repo, "query", "full")
        rows.append(("CLI tix query full (wall)", _timed(lambda: _cli(repo, "query", "full"), repeat)))
        rows.append(
            ("CLI tix task add (wall)", _timed(lambda: _cli(repo, "task", "add", '{"name":"x"}'), repeat))
        )
        rows.append(("CLI tix status (wall, Typer path)", _timed(lambda: _cli(repo, "status"), repeat)))
        return rows


def _done_accept(store: TicketStore, ticket_id: str) -> None:
    store.done(ticket_id)
    store.accept(ticket_id)


def _import_ms(module: str) -> float:
    """Cumulative import time of ``module`` from ``python -X importtime`` (microseconds -> ms)."""
    done = subprocess.run(
        [sys.executable, "-X", "importtime", "-c", f"import {module}"], capture_output=True, text=True
    )
    for line in reversed(done.stderr.splitlines()):
        parts = [p.strip() for p in line.split("|")]
        if len(parts) == 3 and parts[2] == module:
            return int(parts[1]) / 1000
    return float("nan")


def _calibration_us() -> float:
    """``sum(range(1000))`` in microseconds: about 8-10 on an idle desktop, so it scales the table."""
    import timeit

    return min(timeit.repeat("sum(range(1000))", number=2000, repeat=5)) / 2000 * 1e6


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sizes", default="1000,10000")
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    results = {size: dict(bench_size(size, args.repeat)) for size in sizes}
    names = list(next(iter(results.values())))
    header = f"{'operation (median wall / CPU, ms)':48s}" + "".join(f"{f'{s:,} tickets':>22s}" for s in sizes)
    print(header)
    print("-" * len(header))
    for name in names:
        cells = "".join(f"{results[s][name][0]:>12.1f} /{results[s][name][1]:>8.1f}" for s in sizes)
        print(f"{name:48s}{cells}")
    print()
    print(f"load average at end: {os.getloadavg()[0]:.2f} on {os.cpu_count()} CPUs (figures are medians)")
    print(f"calibration: sum(range(1000)) = {_calibration_us():.1f} us (about 8-10 us on an idle desktop)")
    for module in ("ralph.cli.tix", "ralph.tix", "typer"):
        print(f"import {module}: {_import_ms(module):.1f} ms cumulative (python -X importtime)")


if __name__ == "__main__":
    main()
