"""Run the reliability torture suite (tests/reliability) at full size and write benchmarks/reliability.md.

Full size: the 50-kill crash torture besides the 8-kill one, 30 hostile-output examples instead of 5, and
the 8 concurrent constructs run to their end. The figures come from the tests themselves (through
``RELIABILITY_FIGURES``), so every number in the report passed the same checks the suite makes.

    .venv/bin/python benchmarks/reliability.py [--seed 50] [--quick] [--out benchmarks/reliability.md]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
import xml.etree.ElementTree as ET
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
Figures = dict[str, list[dict[str, Any]]]


@dataclass(frozen=True)
class Case:
    """One test of the suite as junit reports it."""

    name: str
    outcome: str
    seconds: float
    reason: str = ""


def run_suite(work: Path, full: bool, seed: int) -> tuple[list[Case], Figures, float]:
    """pytest over tests/reliability (slow tests included); the cases, the figures, the wall time."""
    figures, junit = work / "figures.jsonl", work / "junit.xml"
    env = {
        **os.environ,
        "RELIABILITY_FIGURES": str(figures),
        "RELIABILITY_FULL": "1" if full else "0",
        "RELIABILITY_CRASH_SEED": str(seed),
    }
    argv = [sys.executable, "-m", "pytest", "tests/reliability", "-m", "slow or not slow", "-q", "-rxX"]
    argv += ["-p", "no:cacheprovider", f"--basetemp={work / 'tmp'}", f"--junitxml={junit}"]
    started = time.monotonic()
    subprocess.run(argv, cwd=ROOT, env=env, check=False)
    return read_junit(junit), read_figures(figures), time.monotonic() - started


def read_junit(path: Path) -> list[Case]:
    return [_case(node) for node in ET.parse(path).getroot().iter("testcase")] if path.exists() else []


def _case(node: ET.Element) -> Case:
    outcome, reason = "passed", ""
    for child in node:
        if child.tag in ("failure", "error"):
            outcome, reason = "failed", (child.get("message") or "")[:300]
        elif child.tag == "skipped":
            xfail = child.get("type") == "pytest.xfail"
            outcome, reason = ("xfailed" if xfail else "skipped"), child.get("message") or ""
    name = f"{node.get('classname', '')}.{node.get('name', '')}"
    return Case(name, outcome, float(node.get("time", 0)), reason)


def read_figures(path: Path) -> Figures:
    found: Figures = {}
    for line in path.read_text().splitlines() if path.exists() else []:
        record = json.loads(line)
        found.setdefault(record.pop("name"), []).append(record)
    return found


def verdict(cases: list[Case]) -> str:
    counts = Counter(c.outcome for c in cases)
    return ", ".join(f"{n} {outcome}" for outcome, n in sorted(counts.items())) or "not run"


def row(title: str, size: str, held: str, cases: list[Case]) -> str:
    return f"| {title} | {size} | {held} | {verdict(cases)} |"


def crash_size(figures: Figures) -> str:
    runs = figures.get("crash", [])
    parts = [
        f"seed {f['seed']}: {f['kills']} kills over {f['restarts']} starts in {f['episodes']} episode(s), "
        f"{f['attempts_in_flight']} with an attempt in flight, {f['pending_commits']} with kept work not yet "
        f"committed, {f['orphans_killed']} processes orphaned by the kill"
        for f in runs
    ]
    return f"{sum(f['kills'] for f in runs)} kills ({'; '.join(parts)})"


def hostile_kinds(figures: Figures) -> Counter[str]:
    kinds: Counter[str] = Counter()
    for example in figures.get("hostile", []):
        kinds.update(example["answers"])
    return kinds


def hostile_size(figures: Figures) -> str:
    kinds = hostile_kinds(figures)
    shown = ", ".join(f"{k} {n}" for k, n in sorted(kinds.items()))
    runs = len(figures.get("hostile", []))
    return f"{sum(kinds.values())} hostile answers in {runs} runs ({shown}), and a 10,000-task plan"


def rss_size(figures: Figures) -> str:
    rows = [
        f"{f['shape']}: peak RSS {f['peak_mb']:.0f} MB (the same run with 1 MB: {f['base_mb']:.0f} MB), "
        f"{f['spilled'] / 2**20:.0f} MB spilled"
        for f in figures.get("rss", [])
    ]
    return "; ".join(rows) or "not measured"


def concurrency_size(figures: Figures) -> str:
    f = (figures.get("concurrency") or [{}])[-1]
    return (
        f"{f.get('constructs', '?')} constructs in worktrees sharing one log folder, "
        f"{f.get('note_writers', '?')} ticket writers ({f.get('notes', '?')} notes), "
        f"{f.get('ledger_lines', '?')} ledger lines"
    )


def table(cases: list[Case], figures: Figures) -> list[str]:
    def of(word: str) -> list[Case]:
        return [c for c in cases if word in c.name]

    return [
        "| Torture | Size | What held | Tests |",
        "| --- | --- | --- | --- |",
        row("Crash anywhere (`kill -9`)", crash_size(figures), LOST_NOTHING, of("test_crash")),
        row("Signals", "SIGINT, SIGTERM during a stage; a second SIGINT", SIGNALS, of("test_signals")),
        row("Concurrency", concurrency_size(figures), CONCURRENCY, of("test_concurrency")),
        row("Hostile agent output", hostile_size(figures), HOSTILE, of("test_hostile")),
        row("100 MB of agent output", rss_size(figures), CAPPED, of("test_100_mb")),
        row(
            "Orphans",
            "2 children and a setsid daemon; agent exits, or times out",
            "0 left",
            of("test_orphans"),
        ),
        row(
            "Sandboxed checks",
            "write outside, env key, HOME key file, 127.0.0.1",
            SANDBOX,
            of("test_sandboxed"),
        ),
        row("Secrets", "7 planted keys; construct, status, log, bench + report", SECRETS, of("test_secrets")),
        row(
            "Branches and push",
            "default, foreign, --allow-branch, --push, diverged",
            PUSH,
            of("test_branches"),
        ),
    ]


LOST_NOTHING = "0 tasks lost or duplicated, 0 ledger lines lost or torn, each end = the uninterrupted run"
SIGNALS = "exit 130, end record `interrupted`, state saved, 0 agent processes left"
CONCURRENCY = "0 lines lost or interleaved, every line names its run, every end record adds up"
HOSTILE = "every run ended by a guard, 0 crashes, 0 files outside the worktree"
CAPPED = "kept up to `output_cap_bytes` (4 MB here), the rest spilled"
SANDBOX = "bwrap: none got through; none: env and timeout hold"
SECRETS = "0 found in files, commits, prompts, output"
PUSH = "refused / unchanged / fast-forward / not overwritten"


def headline(cases: list[Case], figures: Figures) -> str:
    conc = (figures.get("concurrency") or [{}])[-1]
    failed = len([c for c in cases if c.outcome == "failed"])
    held = f"but {failed} test(s) failed" if failed else "with zero lost tasks, ledger lines or user files"
    kills = sum(f["kills"] for f in figures.get("crash", []))
    answers = sum(hostile_kinds(figures).values())
    return (
        f"Ralph survived {kills} `kill -9`s at random points, {answers} hostile agent answers and "
        f"{conc.get('constructs', 0)} concurrent runs beside {conc.get('note_writers', 0)} ticket writers, "
        f"{held}."
    )


def render(cases: list[Case], figures: Figures, seconds: float, full: bool) -> str:
    size = "full size" if full else "quick"
    failed = [c for c in cases if c.outcome == "failed"]
    slowest = sorted(cases, key=lambda c: -c.seconds)[:10]
    gaps = [f"- `{c.name.split('.')[-1]}`: {c.reason}" for c in cases if c.outcome == "xfailed"]
    return "\n".join(
        [
            "# Reliability torture: figures",
            "",
            f"Generated by `benchmarks/reliability.py` ({size}) on {time.strftime('%Y-%m-%d')}, "
            f"{platform.system()} {platform.machine()}, {os.cpu_count()} cores, commit {_commit()}: "
            f"{len(cases)} tests in {seconds / 60:.1f} min. Do not edit; run the script again.",
            "",
            f"**{headline(cases, figures)}**",
            "",
            *table(cases, figures),
            "",
            "## Known gaps (strict xfail: each test fails until its owner fixes it)",
            "",
            *(gaps or ["None."]),
            *(["", "## Failures", "", *(f"- `{c.name}`: {c.reason}" for c in failed)] if failed else []),
            "",
            "## Slowest tests",
            "",
            "| Test | Seconds |",
            "| --- | --- |",
            *(f"| `{c.name.split('.')[-1]}` | {c.seconds:.0f} |" for c in slowest),
            "",
        ]
    )


README_MARKS = ("<!-- reliability -->", "<!-- /reliability -->")


def put_headline(readme: Path, line: str) -> None:
    """Replace the text between the README's reliability marks with ``line``."""
    text = readme.read_text(encoding="utf-8")
    start, end = (text.find(mark) for mark in README_MARKS)
    if start < 0 or end < start:
        print(f"{readme.name}: no {README_MARKS[0]} ... {README_MARKS[1]} marks; headline not written")
        return
    head = text[: start + len(README_MARKS[0])]
    readme.write_text(f"{head}{line}{text[end:]}", encoding="utf-8")
    print(f"updated the headline in {readme}")


def _commit() -> str:
    done = subprocess.run(
        ["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"], capture_output=True, text=True
    )
    return done.stdout.strip() or "unknown"


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--seed", type=int, default=50, help="Seed of the 50-kill crash torture.")
    parser.add_argument("--quick", action="store_true", help="Default sizes (as `make test`), not full size.")
    parser.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "reliability.md")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="ralph-reliability-") as folder:
        cases, figures, seconds = run_suite(Path(folder), not args.quick, args.seed)
    args.out.write_text(render(cases, figures, seconds, not args.quick), encoding="utf-8")
    print(f"wrote {args.out}")
    if not args.quick:
        put_headline(ROOT / "README.md", headline(cases, figures))
    return 1 if any(c.outcome == "failed" for c in cases) or not cases else 0


if __name__ == "__main__":
    sys.exit(main())
