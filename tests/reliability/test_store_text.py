"""Text the ticket store cannot write must be refused cleanly, never crash the writer: a lone surrogate (a
JSON escape like \\ud800, or a byte that is not UTF-8 in a shell argument) reaches `tix` from users and
scripts. The loop cleans agent text before it reaches the store; `tix` itself does not yet."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from ralph.errors import StoreError
from ralph.tix import TicketStore

TIX = [sys.executable, "-c", "from ralph.cli.tix import main; main()"]
SURROGATE_BUG = (
    "tix writes plan.jsonl with json.dumps(ensure_ascii=False) and a strict UTF-8 encode: a lone surrogate "
    "in any field raises UnicodeEncodeError (a traceback from `tix task add`) instead of being stored "
    "escaped or refused with StoreError"
)


@pytest.fixture
def store(git_repo: Path) -> TicketStore:
    return TicketStore.init(git_repo)


@pytest.mark.xfail(strict=True, raises=UnicodeEncodeError, reason=SURROGATE_BUG)
def test_store_stores_or_refuses_a_lone_surrogate(store: TicketStore) -> None:
    try:
        ticket = store.add_task({"name": "bad \ud800 name"})
    except StoreError:
        return
    assert ticket.name.startswith("bad ")


@pytest.mark.xfail(strict=True, raises=AssertionError, reason=SURROGATE_BUG)
def test_tix_cli_refuses_a_lone_surrogate_without_a_traceback(store: TicketStore) -> None:
    done = subprocess.run(
        [*TIX, "task", "add", '{"name": "bad \\ud800 escape"}'],
        cwd=store.root,
        capture_output=True,
        text=True,
        check=False,
    )
    assert "Traceback" not in done.stderr, done.stderr[-500:]
