"""TQL -> parameterised SQL over the cache tables (the SELECT half here, filters in tql_where), and
execution into row dicts. Rows keep the C tix shape (enums as ints, unset text as "");
``labels``/``deps``/``meta`` may be selected and come back as lists/objects."""

from __future__ import annotations

import json
from typing import Any

from ralph.errors import StoreError
from ralph.tix.cache import Cache
from ralph.tix.schema import ROW_COLUMNS
from ralph.tix.tql import Aggregate, Query, parse_tql
from ralph.tix.tql_where import Builder, Compiled, add_filters, check_field

__all__ = ["Compiled", "compile_tql", "run_tql"]

_JSON_SELECTS = {
    "labels": "(SELECT json_group_array(label) FROM ticket_labels WHERE ticket_id = t.id)",
    "deps": "(SELECT json_group_array(dep_id) FROM (SELECT dep_id FROM ticket_deps WHERE ticket_id = t.id"
    " ORDER BY pos))",
    "meta": "(SELECT json_group_object(key, coalesce(value_num, value_text)) FROM ticket_meta"
    " WHERE ticket_id = t.id)",
}
_FLIP = {"=": "!=", "!=": "=", ">": "<=", "<=": ">", "<": ">=", ">=": "<"}
_DEFAULT_ORDER = "t.priority DESC, t.created_at ASC, t.seq ASC"


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _aggregate_sql(b: Builder, agg: Aggregate) -> str:
    if agg.field is None:
        return "COUNT(*)"
    check_field(agg.field)
    numeric = agg.func not in ("count", "count_distinct")
    expr = b.value_expr(agg.field, numeric=numeric)
    if agg.func == "count_distinct":
        return f"COUNT(DISTINCT {expr})"
    return f"{agg.func.upper()}({expr})"


def _row_columns(b: Builder, q: Query, json_columns: set[str]) -> list[str]:
    if not q.select or q.select == ["*"]:
        return [f"t.{_quote(c)}" for c in ROW_COLUMNS]
    cols = []
    for name in q.select:
        key = "labels" if name == "label" and not b.label_join else name
        if key in _JSON_SELECTS:
            cols.append(f"{_JSON_SELECTS[key]} AS {_quote(name)}")
            json_columns.add(name)
        else:
            check_field(name)
            cols.append(f"{b.value_expr(name)} AS {_quote(name)}")
    return cols


def _having(b: Builder, q: Query, aggregates: dict[str, str]) -> tuple[list[str], list[Any]]:
    terms, params = [], []
    for f in q.having:
        if f.field not in aggregates:
            raise StoreError(
                f"having: unknown aggregate {f.field!r} (have: {', '.join(aggregates) or 'none'})"
            )
        op = (
            {"=": "!=", "!=": "=", ">": "<=", "<=": ">", "<": ">=", ">=": "<"}.get(f.op, f.op)
            if f.negate
            else f.op
        )
        if op in ("~", "!~"):
            raise StoreError("having does not support ~")
        terms.append(f"{aggregates[f.field]} {op} ?")
        params.append(_having_value(f.value))
    return terms, params


def _having_value(text: str) -> float | str:
    try:
        return float(text) if "." in text else int(text)
    except ValueError:
        return text


def _order(b: Builder, q: Query, aggregates: dict[str, str], group_expr: str | None) -> str:
    if not q.sort:
        if group_expr is not None:
            return group_expr
        return "" if aggregates else _DEFAULT_ORDER
    keys = []
    for key in q.sort:
        if key.field in aggregates:
            expr = _quote(key.field)
        elif key.field == q.group and group_expr is not None:
            expr = group_expr
        else:
            check_field(key.field)
            expr = b.value_expr(key.field)
        keys.append(f"{expr} {'DESC' if key.desc else 'ASC'}")
    return ", ".join(keys)


def _build_select(b: Builder, q: Query) -> Compiled:
    """Assemble the statement; parameters follow the text order (joins, where, having)."""
    json_columns: set[str] = set()
    aggregates = {a.alias: _aggregate_sql(b, a) for a in q.aggregates}
    group_expr = None
    if q.group is not None or aggregates:
        if q.select:
            raise StoreError("select cannot be combined with group or aggregates")
        cols = []
        if q.group is not None:
            check_field(q.group)
            group_expr = b.value_expr(q.group)
            cols.append(f"{group_expr} AS {_quote(q.group)}")
        cols.extend(f"{sql} AS {_quote(alias)}" for alias, sql in aggregates.items())
    else:
        cols = _row_columns(b, q, json_columns)
    having, having_params = _having(b, q, aggregates)
    order = _order(b, q, aggregates, group_expr)
    label_join = " LEFT JOIN ticket_labels tl ON tl.ticket_id = t.id" if b.label_join else ""
    sql = f"SELECT {'DISTINCT ' if q.distinct else ''}{', '.join(cols)} FROM tickets t{label_join}"
    sql += "".join(f" {j}" for j in b.joins)
    if b.where:
        sql += " WHERE " + " AND ".join(b.where)
    if group_expr is not None:
        sql += f" GROUP BY {group_expr}"
    if having:
        sql += " HAVING " + " AND ".join(having)
    if order:
        sql += f" ORDER BY {order}"
    if q.limit is not None or q.offset is not None:
        sql += f" LIMIT {q.limit if q.limit is not None else -1}"
        sql += f" OFFSET {q.offset}" if q.offset is not None else ""
    return Compiled(sql, [*b.join_params, *b.where_params, *having_params], json_columns)


def compile_tql(text: str) -> Compiled:
    """Compile a TQL pipeline to SQL (grammar in ``ralph.tix.tql``)."""
    query = parse_tql(text)
    b = Builder(query)
    add_filters(b, query)
    return _build_select(b, query)


def run_tql(cache: Cache, text: str) -> list[dict[str, Any]]:
    """Execute a pipeline on the cache; JSON-valued columns come back as lists/objects."""
    compiled = compile_tql(text)
    try:
        cursor = cache.db.execute(compiled.sql, compiled.params)
    except Exception as err:
        raise StoreError(f"query failed: {err}") from err
    names = [d[0] for d in cursor.description or ()]
    rows = [dict(zip(names, row, strict=True)) for row in cursor]
    for row in rows:
        for name in compiled.json_columns & row.keys():
            if isinstance(row[name], str):
                row[name] = json.loads(row[name])
    return rows
