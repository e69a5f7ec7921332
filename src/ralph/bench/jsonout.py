"""``ralph bench analyze --json``: the Analysis as strict JSON (NaN/inf become null; plot data left out).

``analysis_json`` writes the text in one pass over the dataclasses (field names cached per class, strings
quoted by the json module's C helper), byte for byte what ``json.dumps(to_plain(analysis), indent=...)``
gives; ``json.dumps`` with an indent runs the json module's pure-Python encoder, which took seconds for ten
thousand cells. Anything the pass does not know goes the ``json.dumps`` way.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from dataclasses import fields, is_dataclass
from enum import Enum
from json.encoder import encode_basestring_ascii
from typing import Any

from ralph.bench.analysis import Analysis

__all__ = ["analysis_json", "to_plain"]

_OMIT = frozenset({"timelines"})
_FIELDS: dict[type, tuple[str, ...]] = {}


def to_plain(value: Any) -> Any:
    """Dataclasses, mappings, tuples, enums and floats as JSON-safe Python values."""
    if is_dataclass(value) and not isinstance(value, type):
        return {f.name: to_plain(getattr(value, f.name)) for f in fields(value) if f.name not in _OMIT}
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, Mapping):
        return {str(k): to_plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [to_plain(v) for v in value]
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


class _Unusual(Exception):
    """A value the one-pass writer leaves to ``json.dumps``."""


def _names(kind: type) -> tuple[str, ...] | None:
    names = _FIELDS.get(kind)
    if names is None and is_dataclass(kind):
        names = _FIELDS[kind] = tuple(f.name for f in fields(kind) if f.name not in _OMIT)
    return names


class _Writer:
    def __init__(self, indent: int | None) -> None:
        self.out: list[str] = []
        self.step = None if indent is None else " " * indent
        self.item = ", " if indent is None else ","

    def value(self, value: Any, level: int) -> None:
        kind = type(value)
        if kind is str:
            self.out.append(encode_basestring_ascii(value))
        elif kind is int:
            self.out.append(int.__repr__(value))
        elif kind is float:
            self.out.append(float.__repr__(value) if math.isfinite(value) else "null")
        elif value is None:
            self.out.append("null")
        elif value is True:
            self.out.append("true")
        elif value is False:
            self.out.append("false")
        elif kind is tuple or kind is list:
            self.sequence(value, level)
        elif (names := _names(kind)) is not None:
            self.pairs([(name, getattr(value, name)) for name in names], level)
        elif kind is dict:
            self.pairs([(str(k), v) for k, v in value.items()], level)
        elif isinstance(value, Enum) and type(value.value) in (str, int):
            self.out.append(json.dumps(value.value))
        else:
            raise _Unusual(kind.__name__)

    def _open(self, level: int) -> tuple[str, str]:
        """(separator between items, text before the closing bracket)."""
        if self.step is None:
            return self.item, ""
        inner = "\n" + self.step * (level + 1)
        self.out.append(inner)
        return self.item + inner, "\n" + self.step * level

    def sequence(self, items: list[Any] | tuple[Any, ...], level: int) -> None:
        if not items:
            self.out.append("[]")
            return
        self.out.append("[")
        separator, close = self._open(level)
        for i, item in enumerate(items):
            if i:
                self.out.append(separator)
            self.value(item, level + 1)
        self.out.append(close + "]")

    def pairs(self, items: list[tuple[str, Any]], level: int) -> None:
        if not items:
            self.out.append("{}")
            return
        self.out.append("{")
        separator, close = self._open(level)
        for i, (key, item) in enumerate(items):
            if i:
                self.out.append(separator)
            self.out.append(encode_basestring_ascii(key) + ": ")
            self.value(item, level + 1)
        self.out.append(close + "}")


def analysis_json(analysis: Analysis, indent: int | None = 2) -> str:
    writer = _Writer(indent)
    try:
        writer.value(analysis, 0)
    except _Unusual:
        return json.dumps(to_plain(analysis), indent=indent, allow_nan=False)
    return "".join(writer.out)
