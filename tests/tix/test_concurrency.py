"""Concurrent writers: every add lands exactly once, the file parses, ids are unique."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
from tests.tix.cli_helpers import TIX

from ralph.tix import TicketStore

WRITER = """
import sys
from pathlib import Path
import pytest

from ralph.tix import TicketStore
store = TicketStore.open(Path(sys.argv[1]))
for i in range(int(sys.argv[3])):
    store.add_task({"name": f"w{sys.argv[2]}-{i}", "meta": {"worker": int(sys.argv[2])}})
store.close()
"""


def _check_plan(store: TicketStore, expected: int) -> None:
    lines = store.plan_path.read_text(encoding="utf-8").splitlines()
    records = [json.loads(line) for line in lines]
    assert len(records) == expected
    ids = [r["id"] for r in records]
    assert len(set(ids)) == expected
    assert len(store.tasks()) == expected
    assert sorted(t.id for t in store.tasks()) == sorted(ids)


@pytest.mark.timeout(900)
def test_eight_processes_add_200_each(store: TicketStore) -> None:
    workers = [
        subprocess.Popen([sys.executable, "-c", WRITER, str(store.root), str(n), "200"]) for n in range(8)
    ]
    assert [w.wait(timeout=600) for w in workers] == [0] * 8
    _check_plan(store, 1600)
    names = {t.name for t in store.tasks()}
    assert names == {f"w{n}-{i}" for n in range(8) for i in range(200)}


def test_cli_writers_in_parallel(store: TicketStore) -> None:
    script = (
        f'for i in 1 2 3 4 5 6; do {TIX} task add "{{\\"name\\":\\"cli-$1-$i\\"}}" >/dev/null || exit 1; done'
    )
    workers = [subprocess.Popen(["bash", "-c", script, "worker", str(n)], cwd=store.root) for n in range(4)]
    assert [w.wait(timeout=600) for w in workers] == [0] * 4
    _check_plan(store, 24)
