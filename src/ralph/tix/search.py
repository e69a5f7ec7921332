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


def _weight(words: list[str], columns: tuple[str, str, str]) -> float:
    """Sum of column weights (name 3, accept 2, notes 1) over query words that prefix a token there."""
    score = 0.0
    for word in words:
        for text, weight in zip(columns, (3, 2, 1), strict=True):
            if any(token.startswith(word) for token in _WORD.findall(text.lower())):
                score += weight
    return score


def search_tickets(cache: Cache, text: str, limit: int = 20) -> dict[str, Any]:
    """``{"query","results":[{"id","name","score"}],"keyword_cloud":{word:int}}``. FTS5 finds the
    matches; the score is the C tix's weighted sum, with bm25 breaking ties."""
    cache.ensure_search_index()
    expression = _match_expression(text)
    words = [w for w in _WORD.findall(text.lower()) if w]
    results: list[dict[str, Any]] = []
    if expression:
        rows = cache.db.execute(
            "SELECT t.id, t.name, t.accept, t.notes FROM tickets_fts"
            " JOIN tickets t ON t.seq = tickets_fts.rowid WHERE tickets_fts MATCH ?"
            " ORDER BY bm25(tickets_fts, 3.0, 2.0, 1.0), t.seq",
            (expression,),
        )
        scored = [(_weight(words, (r[1], r[2], r[3])), index, r) for index, r in enumerate(rows)]
        scored.sort(key=lambda item: (-item[0], item[1]))
        results = [{"id": r[0], "name": r[1], "score": round(score, 2)} for score, _, r in scored[:limit]]
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
