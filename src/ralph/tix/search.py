"""``tix search``: FTS5 over name (weight 3), accept (2) and notes (1), plus a keyword cloud."""

from __future__ import annotations

import re
import sqlite3
from typing import Any

from ralph.tix.cache import Cache

__all__ = ["search_tickets"]

_WORD = re.compile(r"\w+", re.UNICODE)
_STOP = frozenset(
    (
        "the",
        "a",
        "an",
        "and",
        "or",
        "of",
        "to",
        "in",
        "on",
        "for",
        "with",
        "is",
        "are",
        "be",
        "it",
        "this",
        "that",
        "as",
        "at",
        "by",
        "from",
        "not",
        "no",
        "if",
        "then",
        "when",
        "into",
        "must",
        "should",
        "all",
        "any",
        "each",
    )
)


def _match_expression(text: str) -> str:
    """Every word as a quoted prefix term, OR-ed: user text can never be FTS5 syntax."""
    words = [w for w in _WORD.findall(text.lower()) if w]
    return " OR ".join(f'"{w}"*' for w in words)


def search_tickets(cache: Cache, text: str, limit: int = 20) -> dict[str, Any]:
    """``{"query","results":[{"id","name","score"}],"keyword_cloud":{word:int}}``; score = -bm25."""
    expression = _match_expression(text)
    results: list[dict[str, Any]] = []
    if expression:
        rows = cache.db.execute(
            "SELECT t.id, t.name, -bm25(tickets_fts, 3.0, 2.0, 1.0) AS score FROM tickets_fts"
            " JOIN tickets t ON t.seq = tickets_fts.rowid WHERE tickets_fts MATCH ?"
            " ORDER BY score DESC, t.seq LIMIT ?",
            (expression, limit),
        )
        results = [{"id": r[0], "name": r[1], "score": round(r[2], 2)} for r in rows]
    return {"query": text, "results": results, "keyword_cloud": _cloud(cache.db)}


def _cloud(db: sqlite3.Connection, size: int = 50) -> dict[str, int]:
    weights = {"name": 3, "accept": 2, "notes": 1}
    totals: dict[str, int] = {}
    for term, column, count in db.execute("SELECT term, col, cnt FROM tickets_fts_vocab"):
        if len(term) < 2 or term in _STOP or term.isdigit():
            continue
        totals[term] = totals.get(term, 0) + weights.get(column, 1) * count
    top = sorted(totals.items(), key=lambda kv: (-kv[1], kv[0]))[:size]
    return dict(top)
