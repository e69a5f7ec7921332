"""TQL parser: ``source [all] {filter} {| segment}`` -> a Query (pure; StoreError with one clear line).

Segments: filters (AND), ``select f,..``, ``group f``, ``count``, ``sum|avg|min|max|count_distinct f``,
``having alias op value ..``, ``sort f [asc|desc], ..``, ``limit N``, ``offset N``, ``distinct``.
A filter is ``[!]field op [value]`` with op one of ``= != > < >= <= ~``; values may be "quoted".
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from ralph.errors import StoreError

__all__ = ["AGGREGATES", "SOURCES", "Aggregate", "Filter", "Query", "SortKey", "parse_tql"]

SOURCES = {"tasks": 0, "issues": 1, "notes": 2, "tickets": None}
AGGREGATES = ("count_distinct", "count", "sum", "avg", "min", "max")
_FILTER = re.compile(r"^(!?)([A-Za-z_][A-Za-z0-9_.:-]*?)(!=|>=|<=|=|>|<|~)(.*)$", re.DOTALL)
_KEYWORDS = {"select", "group", "having", "sort", "limit", "offset", "distinct", *AGGREGATES}


@dataclass(frozen=True, slots=True)
class Filter:
    field: str
    op: str
    value: str
    negate: bool = False


@dataclass(frozen=True, slots=True)
class Aggregate:
    func: str
    field: str | None

    @property
    def alias(self) -> str:
        return "count" if self.field is None else f"{self.func}_{self.field}"


@dataclass(frozen=True, slots=True)
class SortKey:
    field: str
    desc: bool = False


@dataclass
class Query:
    """A parsed TQL pipeline."""

    source: str
    include_resolved: bool = False
    filters: list[Filter] = field(default_factory=list)
    select: list[str] = field(default_factory=list)
    group: str | None = None
    aggregates: list[Aggregate] = field(default_factory=list)
    having: list[Filter] = field(default_factory=list)
    sort: list[SortKey] = field(default_factory=list)
    limit: int | None = None
    offset: int | None = None
    distinct: bool = False


def _split(text: str, sep: str) -> list[str]:
    """Split on ``sep`` (or on whitespace when sep is " ") outside double quotes."""
    parts: list[str] = []
    current: list[str] = []
    quoted = False
    for char in text:
        if char == '"':
            quoted = not quoted
        if not quoted and (char == sep or (sep == " " and char.isspace())):
            parts.append("".join(current))
            current = []
        else:
            current.append(char)
    if quoted:
        raise StoreError("unterminated quote in query")
    parts.append("".join(current))
    return [p for p in (s.strip() for s in parts) if p] if sep == " " else [p.strip() for p in parts]


def _unquote(value: str) -> str:
    if len(value) >= 2 and value[0] == value[-1] == '"':
        return value[1:-1]
    return value


def parse_filter(token: str) -> Filter:
    match = _FILTER.match(token)
    if not match:
        raise StoreError(f"bad filter: {token!r} (expected field op value, e.g. status=done)")
    negate, name, op, value = match.groups()
    return Filter(name, op, _unquote(value), bool(negate))


def parse_tql(text: str) -> Query:
    """Parse a pipeline; the first segment names the source."""
    segments = _split(text, "|")
    if not segments or not segments[0]:
        raise StoreError("empty query (expected tasks, issues, notes or tickets)")
    head = _split(segments[0], " ")
    if head[0] not in SOURCES:
        raise StoreError(f"unknown source: {head[0]!r} (expected tasks, issues, notes or tickets)")
    query = Query(source=head[0])
    rest = head[1:]
    if rest and rest[0] == "all":
        query.include_resolved, rest = True, rest[1:]
    query.filters.extend(parse_filter(tok) for tok in rest)
    for segment in segments[1:]:
        _parse_segment(query, segment)
    return query


def _parse_segment(query: Query, segment: str) -> None:
    tokens = _split(segment, " ")
    if not tokens:
        raise StoreError("empty pipeline stage")
    word, args = tokens[0], tokens[1:]
    if word not in _KEYWORDS:
        query.filters.extend(parse_filter(tok) for tok in tokens)
    elif word == "select":
        query.select.extend(_names(args, "select"))
    elif word == "group":
        query.group = _one(args, "group")
    elif word in AGGREGATES:
        _add_aggregate(query, word, args)
    elif word == "having":
        query.having.extend(parse_filter(tok) for tok in _need(args, "having"))
    elif word == "sort":
        query.sort.extend(_sort_keys(args))
    elif word in ("limit", "offset"):
        _set_bound(query, word, _one(args, word))
    else:
        query.distinct = True
        if args:
            raise StoreError("distinct takes no arguments")


def _need(args: list[str], word: str) -> list[str]:
    if not args:
        raise StoreError(f"{word} needs an argument")
    return args


def _one(args: list[str], word: str) -> str:
    if len(args) != 1:
        raise StoreError(f"{word} takes exactly one argument")
    return args[0]


def _names(args: list[str], word: str) -> list[str]:
    names = [n.strip() for n in " ".join(_need(args, word)).split(",") if n.strip()]
    return _need(names, word)


def _add_aggregate(query: Query, word: str, args: list[str]) -> None:
    if word == "count" and not args:
        query.aggregates.append(Aggregate("count", None))
        return
    query.aggregates.append(Aggregate(word, _one(args, word)))


def _sort_keys(args: list[str]) -> list[SortKey]:
    keys: list[SortKey] = []
    for part in " ".join(_need(args, "sort")).split(","):
        words = part.split()
        if not words or len(words) > 2 or (len(words) == 2 and words[1].lower() not in ("asc", "desc")):
            raise StoreError(f"bad sort key: {part.strip()!r} (expected field [asc|desc])")
        keys.append(SortKey(words[0], len(words) == 2 and words[1].lower() == "desc"))
    return keys


def _set_bound(query: Query, word: str, value: str) -> None:
    if not value.isdigit() or (word == "limit" and int(value) == 0):
        kind = "positive" if word == "limit" else "non-negative"
        raise StoreError(f"{word} must be a {kind} number")
    if word == "limit":
        query.limit = int(value)
    else:
        query.offset = int(value)
