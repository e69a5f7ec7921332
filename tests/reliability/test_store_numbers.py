"""Numbers SQLite cannot hold (integers beyond 64 bits, in meta or in a counter) reach the store from
scripts and from hand-edited plan files. The plan keeps them exactly; the cache must still load them, so that
one such line never makes every later `tix` command fail."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from ralph.tix import TicketStore

TIX = [sys.executable, "-c", "from ralph.cli.tix import main; main()"]
HUGE = 2**70
BEYOND_DOUBLE = 10**400


@pytest.fixture
def store(git_repo: Path) -> TicketStore:
    return TicketStore.init(git_repo)


def test_huge_integers_are_kept_exactly_and_the_cache_still_loads(store: TicketStore) -> None:
    kept = store.add_task({"name": "big", "meta": {"n": HUGE, "far": BEYOND_DOUBLE}})
    counted = store.add_task({"name": "counter", "retries": HUGE})
    for fresh in (store, TicketStore(store.root)):
        tickets = {t.id: t for t in fresh.tasks()}
        assert tickets[kept.id].meta == {"n": HUGE, "far": BEYOND_DOUBLE}
        assert tickets[counted.id].retries == HUGE
    (store.root / ".tix" / "cache.db").unlink()
    rebuilt = {t.id: t for t in TicketStore(store.root).tasks()}
    assert rebuilt[kept.id].meta["far"] == BEYOND_DOUBLE and rebuilt[counted.id].retries == HUGE


def test_tix_commands_keep_working_after_a_huge_number(store: TicketStore) -> None:
    def tix(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([*TIX, *args], cwd=store.root, capture_output=True, text=True, check=False)

    added = tix("task", "add", f'{{"name": "big", "meta": {{"n": {HUGE}}}}}')
    assert added.returncode == 0, added.stderr
    for argv in (("status",), ("query", "tasks"), ("q", "tasks | retries>=0 | select id,name")):
        done = tix(*argv)
        assert done.returncode == 0 and "Traceback" not in done.stderr, done.stderr
    assert str(HUGE) in tix("query", "tasks").stdout
