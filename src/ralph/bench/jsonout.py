"""``ralph bench analyze --json``: the Analysis as strict JSON (NaN/inf become null; plot data left out)."""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from dataclasses import fields, is_dataclass
from enum import Enum
from typing import Any

from ralph.bench.analysis import Analysis

__all__ = ["analysis_json", "to_plain"]

_OMIT = frozenset({"timelines"})


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


def analysis_json(analysis: Analysis, indent: int | None = 2) -> str:
    return json.dumps(to_plain(analysis), indent=indent, allow_nan=False)
