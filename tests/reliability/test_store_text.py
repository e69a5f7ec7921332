"""Text the ticket store cannot write must be refused cleanly, never crash the writer: a lone surrogate (a
JSON escape like \\ud800, or a byte that is not UTF-8 in a shell argument) reaches `tix` from users and
scripts. plan.jsonl stays strict UTF-8 (the C tix reads it), so the write refuses such text with one
StoreError line and leaves the file as it was; one already in the file as an escape is read as U+FFFD, and
a lookup with one finds nothing, so neither the SQLite cache nor search fails on it."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from ralph.errors import StoreError
from ralph.tix import TicketStore
from ralph.tix.search import search_tickets

TIX = [sys.executable, "-c", "from ralph.cli.tix import main; main()"]


@pytest.fixture
def store(git_repo: Path) -> TicketStore:
    return TicketStore.init(git_repo)


def tix(store: TicketStore, *args: str | bytes) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*TIX, *args], cwd=store.root, capture_output=True, text=True, errors="replace", check=False
    )


def test_store_stores_or_refuses_a_lone_surrogate(store: TicketStore) -> None:
    try:
        ticket = store.add_task({"name": "bad \ud800 name"})
    except StoreError:
        return
    assert ticket.name.startswith("bad ")


def test_tix_cli_refuses_a_lone_surrogate_without_a_traceback(store: TicketStore) -> None:
    done = subprocess.run(
        [*TIX, "task", "add", '{"name": "bad \\ud800 escape"}'],
        cwd=store.root,
        capture_output=True,
        text=True,
        check=False,
    )
    assert "Traceback" not in done.stderr, done.stderr[-500:]


def test_the_refusal_is_one_line_and_leaves_the_plan_byte_identical(store: TicketStore) -> None:
    store.add_task({"name": "kept"})
    plan = store.root / ".tix" / "plan.jsonl"
    before = plan.read_bytes()
    undecodable = os.fsencode("caf") + b"\xff"  # argv bytes that are not UTF-8: Python sees "caf\udcff"
    attempts = [
        ("task", "add", '{"name": "bad \\ud800 escape"}'),
        ("task", "add", b'{"name": "' + undecodable + b'"}'),
        ("task", "add", '[{"name": "fine"}, {"name": "fine too", "notes": "\\udfff"}]'),
        ("task", "update", store.tasks()[0].id, '{"labels": ["x\\udc80"]}'),
    ]
    for args in attempts:
        done = tix(store, *args)
        assert (done.returncode, done.stdout) == (1, ""), (args, done.stderr)
        assert "Traceback" not in done.stderr
        assert done.stderr.startswith("error: refused: ") and done.stderr.count("\n") == 1, done.stderr
        assert "lone surrogate" in done.stderr and "nothing was written" in done.stderr
        assert plan.read_bytes() == before
    with pytest.raises(StoreError, match=r"U\+D800, a lone surrogate"):
        store.add_task({"name": "bad \ud800 name"})
    with pytest.raises(StoreError, match="lone surrogate"):
        store.update(store.tasks()[0].id, {"meta": {"key\udc80": "v"}})
    assert plan.read_bytes() == before
    assert [t.name for t in store.tasks()] == ["kept"]


def test_an_escaped_lone_surrogate_in_the_plan_reads_as_a_replacement_character(store: TicketStore) -> None:
    """A hand edit (or another writer) may leave a valid JSON escape of a lone surrogate in plan.jsonl."""
    plan = store.root / ".tix" / "plan.jsonl"
    line = '{"t":"task","id":"t-0000abcd","name":"hand \\ud800 edit","s":"p","labels":["l\\udc80"]}\n'
    with plan.open("a", encoding="utf-8") as out:
        out.write(line)
    ticket = store.get("t-0000abcd")
    assert (ticket.name, ticket.labels) == ("hand \ufffd edit", ("l\ufffd",))
    assert [r["id"] for r in search_tickets(store.cache, "hand")["results"]] == ["t-0000abcd"]
    updated = store.update("t-0000abcd", {"notes": "now valid"})
    assert updated.name == "hand \ufffd edit"
    last = plan.read_bytes().splitlines()[-1].decode("utf-8")
    assert json.loads(last)["name"] == "hand \ufffd edit"
    listed = tix(store, "search", "edit")
    assert listed.returncode == 0 and "t-0000abcd" in listed.stdout, listed.stderr


def test_a_lookup_with_a_lone_surrogate_finds_nothing(store: TicketStore) -> None:
    store.add_task({"name": "present"})
    with pytest.raises(StoreError, match="unknown id"):
        store.done("t-\udcff")
    assert [r["name"] for r in search_tickets(store.cache, "pres\udcff")["results"]] == ["present"]
    for args in (("task", "done", b"t-\xff"), ("tree", b"t-\xff"), ("q", b"tasks | name=caf\xff")):
        done = tix(store, *args)
        assert "Traceback" not in done.stderr, (args, done.stderr)
    assert tix(store, "q", b"tasks | name=caf\xff").stdout == "[]\n"
