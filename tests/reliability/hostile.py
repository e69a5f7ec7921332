"""Hostile agent answers, as turns of the scripted opencode (fake_agent.py): hypothesis strategies per stage.

Each answer is aimed at one weak spot: bytes that are not UTF-8, NUL bytes and lone surrogates, nested and
unterminated output blocks, JSON nested past any limit, numbers too large to read, ten thousand list items,
paths that climb out of the worktree or point elsewhere, and shell metacharacters in every text field.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from hypothesis import strategies as st

START, END = "[RALPH_OUTPUT]", "[/RALPH_OUTPUT]"
Turn = dict[str, Any]


def block(body: str, *, close: bool = True) -> str:
    return f"Here is my answer.\n{START}\n{body}\n{END if close else ''}\n"


def escapes(outside: Path) -> list[str]:
    """Text that tries to reach ``outside`` (an empty folder next to the worktree) or the user's files."""
    return [
        f"$(touch {outside}/dollar)",
        f"`touch {outside}/backtick`",
        f"; touch {outside}/semicolon #",
        f"| tee {outside}/pipe &",
        f"> {outside}/redirect",
        f"../{outside.name}/climb",
        f"{outside}/absolute",
        "~/.ssh/id_rsa",
        "/etc/passwd",
        "../../../../../../etc/shadow",
        "\x00nul\x00",
        "\ud800lone surrogate\udfff",
        "name\nwith\nnewlines",
    ]


def task(outside: Path, fields: st.DrawFn) -> dict[str, Any]:
    """A task whose fields mix plausible text with escape attempts."""
    bad = st.sampled_from(escapes(outside))
    return {
        "name": fields(bad) + " Rename heap_t in src/heap.c",
        "notes": "Edit src/heap.c and " + fields(bad),
        "accept": "grep -c rt_heap src/heap.c prints 3 " + fields(bad),
        "check": f'grep -q rt_heap src/heap.c && touch {outside}/ran; cd "$(dirname "$PWD")" && touch x',
        "deps": [fields(bad)],
        "labels": [fields(bad)],
    }


@st.composite
def answer(draw: st.DrawFn, stage: str, outside: Path) -> Turn:
    """One hostile answer for ``stage`` (build, verify, decompose, investigate)."""
    kind = draw(st.sampled_from(sorted(_KINDS)))
    return {**_KINDS[kind](draw, stage, outside), "kind": kind}


def _valid(draw: st.DrawFn, stage: str, outside: Path) -> dict[str, Any]:
    """A schema-shaped answer for the stage, every text field hostile."""
    bad = st.sampled_from(escapes(outside))
    if stage == "build":
        verdict = draw(st.sampled_from(["done", "blocked"]))
        return {
            "verdict": verdict,
            "summary": draw(bad),
            "reason": draw(bad),
            "issues": [{"desc": draw(bad)}],
        }
    if stage == "verify":
        passed = draw(st.booleans())
        return {"results": [{"task_id": "@TASK@", "passed": passed, "reason": draw(bad)}], "issues": []}
    items = [task(outside, draw) for _ in range(draw(st.integers(2, 3)))]
    return {"subtasks": items} if stage == "decompose" else {"tasks": items, "out_of_scope": [draw(bad)]}


def _shaped(draw: st.DrawFn, stage: str, outside: Path) -> Turn:
    return {"text": block(json.dumps(_valid(draw, stage, outside)))}


def _nested(draw: st.DrawFn, stage: str, outside: Path) -> Turn:
    inner = block(json.dumps(_valid(draw, stage, outside)))
    depth = draw(st.integers(1, 50))
    return {"text": (START + "\n") * depth + inner + (END + "\n") * draw(st.integers(0, depth))}


def _unterminated(draw: st.DrawFn, stage: str, outside: Path) -> Turn:
    body = json.dumps(_valid(draw, stage, outside))
    return {"text": block(body[: draw(st.integers(0, len(body)))], close=False)}


def _deep(draw: st.DrawFn, stage: str, outside: Path) -> Turn:
    depth = draw(st.integers(33, 200_000))
    opener, closer = draw(st.sampled_from([("[", "]"), ('{"a":', "}")]))
    return {"text": block('{"verdict": ' + opener * depth + "1" + closer * depth + "}")}


def _huge_number(draw: st.DrawFn, stage: str, outside: Path) -> Turn:
    number = draw(st.sampled_from(["1" * 1_000_000, "1e999999", "-1e400", "9" * 5000 + ".5e-99999"]))
    return {
        "text": block('{"verdict": "done", "summary": "n", "n": ' + number + ', "results": [' + number + "]}")
    }


def _many(draw: st.DrawFn, stage: str, outside: Path) -> Turn:
    count = draw(st.sampled_from([10_000, 100_000]))
    key = {"build": "issues", "verify": "results", "decompose": "subtasks"}.get(stage, "tasks")
    item = {"desc": "x"} if key == "issues" else task(outside, draw)
    return {"text": block(json.dumps({"verdict": "done", "summary": "s", key: [item] * count}))}


def _raw_bytes(draw: st.DrawFn, stage: str, outside: Path) -> Turn:
    junk = draw(st.binary(min_size=1, max_size=2000))
    mangled = b"\xff\xfe\xc3(" + START.encode() + b"\xed\xa0\x80{\x00}" + junk + b"\n"
    return {"text": "progress\n", "raw": mangled.hex()}


def _text(draw: st.DrawFn, stage: str, outside: Path) -> Turn:
    alphabet = st.characters(codec=None, categories=None)
    return {"text": draw(st.text(alphabet, max_size=2000)), "repeat": draw(st.integers(1, 3))}


def _long_line(draw: st.DrawFn, stage: str, outside: Path) -> Turn:
    return {
        "text": draw(st.sampled_from(["z", "\u00e9", "\x00", START])),
        "repeat": draw(st.integers(1, 3_000_000)),
    }


_KINDS = {
    "shaped": _shaped,
    "nested": _nested,
    "unterminated": _unterminated,
    "deep": _deep,
    "huge_number": _huge_number,
    "many": _many,
    "raw_bytes": _raw_bytes,
    "text": _text,
    "long_line": _long_line,
}


def script(stages: tuple[str, ...], outside: Path) -> st.SearchStrategy[dict[str, list[Turn]]]:
    """A fake agent script: a list of hostile answers for each stage."""
    return st.fixed_dictionaries({s: st.lists(answer(s, outside), min_size=3, max_size=8) for s in stages})
