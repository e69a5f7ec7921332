"""The WHERE half of TQL compilation: source, filters, enum sugar, label and meta joins (no cap)."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from ralph.errors import StoreError, UsageError
from ralph.tix.records import Priority, TaskStatus, TicketType
from ralph.tix.schema import ROW_COLUMNS, TEXT_COLUMNS
from ralph.tix.tql import SOURCES, Filter, Query

__all__ = ["Builder", "Compiled", "add_filters", "check_field"]

_NUMBER = re.compile(r"^-?\d+(\.\d+)?$")
_FLIP = {"=": "!=", "!=": "=", ">": "<=", "<=": ">", "<": ">=", ">=": "<", "~": "!~"}
_ENUMS: dict[str, Any] = {"status": TaskStatus.parse, "type": TicketType.parse, "priority": Priority.parse}


@dataclass
class Compiled:
    """SQL text, its parameters, and the output columns that hold JSON."""

    sql: str
    params: list[Any]
    json_columns: set[str] = field(default_factory=set)

    def display(self) -> str:
        """The SQL with parameters shown inline (for ``q --sql``)."""
        parts = self.sql.split("?")
        out = [parts[0]]
        for value, rest in zip(self.params, parts[1:], strict=True):
            out.append(repr(value) if isinstance(value, str) else str(value))
            out.append(rest)
        return "".join(out)


class Builder:
    def __init__(self, query: Query) -> None:
        self.q = query
        self.joins: list[str] = []
        self.join_params: list[Any] = []
        self.where: list[str] = []
        self.where_params: list[Any] = []
        self.meta_alias: dict[str, str] = {}
        self.label_join = query.group == "label"

    def meta(self, key: str) -> str:
        if not key:
            raise StoreError("meta field needs a key: meta.<key>")
        if key not in self.meta_alias:
            alias = f"m{len(self.meta_alias)}"
            self.meta_alias[key] = alias
            self.joins.append(
                f"LEFT JOIN ticket_meta {alias} ON {alias}.ticket_id = t.id AND {alias}.key = ?"
            )
            self.join_params.append(key)
        return self.meta_alias[key]

    def value_expr(self, name: str, numeric: bool = False) -> str:
        """SQL for a field in select/group (numeric=True: for aggregates and sorting)."""
        if name in ROW_COLUMNS:
            return f't."{name}"'
        if name.startswith("meta."):
            alias = self.meta(name[5:])
            return f"{alias}.value_num" if numeric else f"coalesce({alias}.value_num, {alias}.value_text)"
        if name == "label" and self.label_join:
            return "tl.label"
        raise StoreError(f"unknown field: {name!r}")


def check_field(name: str) -> None:
    if name not in ROW_COLUMNS and name not in ("label", "deps") and not name.startswith("meta."):
        raise StoreError(f"unknown field: {name!r}")


def _bind(name: str, value: str) -> Any:
    """Enum names become their integer codes; numeric columns need numbers; text binds as text."""
    if name in _ENUMS:
        try:
            parsed = _ENUMS[name](value)
        except UsageError as err:
            raise StoreError(str(err)) from err
        return int(parsed) if name == "priority" else parsed.code
    if name in TEXT_COLUMNS:
        return value
    if not _NUMBER.match(value):
        raise StoreError(f"{name} needs a number, got {value!r}")
    return float(value) if "." in value else int(value)


def _filter(b: Builder, f: Filter) -> None:
    check_field(f.field)
    op = _FLIP[f.op] if f.negate else f.op
    if f.field in ("label", "deps"):
        _set_filter(b, f.field, op, f.value)
    elif f.field.startswith("meta."):
        _meta_filter(b, b.meta(f.field[5:]), op, f.value)
    else:
        _column_filter(b, f.field, op, f.value)


def _column_filter(b: Builder, name: str, op: str, value: str) -> None:
    col = f't."{name}"'
    empty = "''" if name in TEXT_COLUMNS else "0"
    if value == "" and op in ("=", "!="):
        unset = f"({col} IS NULL OR {col} = {empty})"
        b.where.append(unset if op == "=" else f"NOT {unset}")
        return
    if op in ("~", "!~"):
        b.where.append(f"{col} {'NOT ' if op == '!~' else ''}LIKE ?")
        b.where_params.append(_like(value))
        return
    values = value.split(",") if op in ("=", "!=") else [value]
    if len(values) > 1:
        b.where.append(f"{col} {'NOT ' if op == '!=' else ''}IN ({','.join('?' * len(values))})")
    else:
        b.where.append(f"{col} {op} ?")
    b.where_params.extend(_bind(name, v) for v in values)


def _like(value: str) -> str:
    return value.replace("*", "%").replace("?", "_")


def _set_filter(b: Builder, name: str, op: str, value: str) -> None:
    """``label``/``deps`` hold sets: = any of, != none of, ~ any like; an empty value tests presence."""
    table, column = ("ticket_labels", "label") if name == "label" else ("ticket_deps", "dep_id")
    if op in ("=", "!=") and value == "":
        exists = f"EXISTS (SELECT 1 FROM {table} WHERE ticket_id = t.id)"
        b.where.append(exists if op == "!=" else f"NOT {exists}")
        return
    if op not in ("=", "!=", "~", "!~"):
        raise StoreError(f"{name} supports only =, != and ~")
    values = value.split(",") if op in ("=", "!=") else [_like(value)]
    test = f"IN ({','.join('?' * len(values))})" if op in ("=", "!=") else "LIKE ?"
    if name == "label" and b.label_join and op in ("=", "~"):
        b.where.append(f"tl.label {test}")
    else:
        neg = "NOT " if op in ("!=", "!~") else ""
        b.where.append(f"{neg}EXISTS (SELECT 1 FROM {table} WHERE ticket_id = t.id AND {column} {test})")
    b.where_params.extend(values)


def _meta_filter(b: Builder, alias: str, op: str, value: str) -> None:
    if value == "" and op in ("=", "!="):
        b.where.append(f"{alias}.key IS {'NOT ' if op == '!=' else ''}NULL")
        return
    if op in ("~", "!~"):
        b.where.append(f"{alias}.value_text {'NOT ' if op == '!~' else ''}LIKE ?")
        b.where_params.append(_like(value))
        return
    numeric = bool(_NUMBER.match(value))
    column = f"{alias}.value_num" if numeric else f"{alias}.value_text"
    b.where.append(f"{column} {op} ?")
    b.where_params.append(float(value) if numeric else value)


def add_filters(b: Builder, query: Query) -> None:
    """Source type, the filters, and the default hiding of resolved tickets."""
    kind = SOURCES[query.source]
    if kind is not None:
        b.where.append("t.type = ?")
        b.where_params.append(kind)
    for f in query.filters:
        _filter(b, f)
    if not query.include_resolved and not any(f.field == "status" for f in query.filters):
        b.where.append("t.status < 2")
