"""Many writers at once: constructs in git worktrees of one repository sharing one log folder, and ticket
writers in one of those worktrees while its construct runs. Then every ledger record must be whole and
belong to a run, and each run's end record must add up to its own iteration and call lines."""

from __future__ import annotations

import subprocess
import sys
from collections import Counter
from pathlib import Path
from typing import Any

from tests.reliability.audit import SplitFile, plan_tasks
from tests.reliability.harness import LEDGER_FILES, ROOT, child_env, finish, start_construct

from ralph.gitops import create_worktree
from ralph.tix import TicketStore, TicketType

NOTE_WRITER = """
import sys
from pathlib import Path
from ralph.tix import TicketStore
store = TicketStore.open(Path(sys.argv[1]))
for n in range(int(sys.argv[3])):
    store.add_note(f"writer {sys.argv[2]} note {n}")
"""


def make_worktrees(repo: Path, folder: Path, count: int) -> list[Path]:
    """``count`` worktrees on Ralph-made branches at HEAD; each adopts the plan's tasks."""
    trees = []
    for n in range(count):
        tree = create_worktree(repo, folder / f"cell-{n}", f"ralph/cell-{n}", "HEAD").path
        TicketStore.open(tree).adopt("ralph/work")
        trees.append(tree)
    return trees


def run_all(trees: list[Path], logs: Path, args: tuple[str, ...], writers: int, notes: int) -> list[str]:
    """Start every construct, then the note writers in the first worktree; wait for all. Outputs."""
    env = {"RALPH_PROFILE": "opus", "RALPH_LOG_DIR": str(logs)}
    runs = [start_construct(tree, *args, env=env) for tree in trees]
    writing = [
        subprocess.Popen(
            [sys.executable, "-c", NOTE_WRITER, str(trees[0]), str(w), str(notes)], env=child_env(), cwd=ROOT
        )
        for w in range(writers)
    ]
    assert all(w.wait(timeout=600) == 0 for w in writing)
    outputs = []
    for proc in runs:
        code, out = finish(proc)
        assert code in (0, 3), out[-2000:]
        outputs.append(out)
    return outputs


def ledger(logs: Path) -> dict[str, list[dict[str, Any]]]:
    """The three files, every line whole (no torn tail, no interleaving)."""
    found = {}
    for name in LEDGER_FILES:
        split = SplitFile.read(logs / name)
        assert not split.tail, f"{name} ends in a torn line"
        found[name] = split.records(name)
    return found


Record = dict[str, Any]


def check_run_adds_up(end: Record, iterations: list[Record], calls: list[Record]) -> None:
    """An end record's counts equal those of its own iteration and call lines."""
    stages = Counter(r["stage"] for r in iterations)
    assert {k: v["count"] for k, v in end["stages"].items()} == dict(stages), end["run_id"]
    remote = sum(1 for c in calls if not c["is_local"])
    assert end["api_calls"] == {"remote": remote, "local": len(calls) - remote}, end["run_id"]
    for key in ("input", "cached", "output"):
        assert end["tokens"][key] == sum(c["tokens"][key] for c in calls), (end["run_id"], key)
    assert abs(end["cost"] - sum(c["cost"] for c in calls)) < 1e-4, end["run_id"]
    assert end["iterations"] == len({r["iteration"] for r in iterations}), end["run_id"]


def check_notes(tree: Path, writers: int, notes: int) -> None:
    """Every note of every writer is in the plan once, beside the loop's own tickets."""
    store = TicketStore.open(tree)
    names = Counter(n.name for n in store.notes(open_only=False))
    expected = {f"writer {w} note {n}" for w in range(writers) for n in range(notes)}
    assert expected <= set(names) and all(names[name] == 1 for name in expected)
    tasks, tail = plan_tasks(tree)
    assert not tail and all(t.type is TicketType.TASK for t in tasks.values())
