"""One configuration layer: its raw values checked key by key against the Settings fields."""

from __future__ import annotations

import difflib
import json
import shlex
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Annotated, Any, Literal, get_args, get_origin

from pydantic import TypeAdapter, ValidationError

from ralph.errors import ConfigError
from ralph.settings.model import Settings
from ralph.settings.redact import redact

__all__ = ["MERGED_KEYS", "Layer", "check_layer", "env_values", "expected_type"]

MERGED_KEYS = frozenset({"providers", "prices", "sim_models"})
"""Table-valued keys that merge entry by entry across layers instead of replacing."""

_NOT_FROM_ENV = frozenset({"profile"})


@dataclass(frozen=True)
class Layer:
    """Checked values of one source; ``source`` is what ``Settings.source_of`` reports."""

    source: str
    values: dict[str, Any] = field(default_factory=dict)


@cache
def _adapter(key: str) -> TypeAdapter[Any]:
    info = Settings.model_fields[key]
    annotation: Any = info.annotation
    if info.metadata:
        annotation = Annotated.__class_getitem__((annotation, *info.metadata))  # type: ignore[attr-defined]
    return TypeAdapter(annotation)


def expected_type(key: str) -> str:
    """Human name of ``key``'s type, with bounds (``an integer >= 0``)."""
    info = Settings.model_fields[key]
    bounds = {
        attr: getattr(meta, attr) for meta in info.metadata for attr in ("ge", "le") if hasattr(meta, attr)
    }
    text = _type_name(info.annotation)
    if "ge" in bounds and "le" in bounds:
        return f"{text} from {bounds['ge']} to {bounds['le']}"
    if "ge" in bounds:
        return f"{text} >= {bounds['ge']}"
    return f"{text} <= {bounds['le']}" if "le" in bounds else text


def _type_name(annotation: Any) -> str:
    origin = get_origin(annotation)
    if origin is Literal:
        return "one of " + ", ".join(repr(choice) for choice in get_args(annotation))
    if origin is list:
        return "a list of strings" if get_args(annotation) == (str,) else "a list"
    if origin is dict:
        return "a table"
    names = {bool: "a boolean", int: "an integer", float: "a number", str: "a string", Path: "a path string"}
    return names.get(annotation, str(annotation))


def check_layer(raw: Mapping[str, Any], *, source: str, where: str, strict: bool) -> Layer:
    """Validate every key of ``raw``; ConfigError names ``where``, the key and the expected type."""
    values: dict[str, Any] = {}
    for key, value in raw.items():
        if key not in Settings.model_fields:
            raise ConfigError(f"{where}: unknown key '{key}'{_suggestion(key)}")
        if strict and isinstance(value, str) and Settings.model_fields[key].annotation is Path:
            value = Path(value)
        try:
            values[key] = _adapter(key).validate_python(value, strict=strict)
        except ValidationError as err:
            raise ConfigError(_type_error(where, key, value, err)) from None
    return Layer(source=source, values=values)


def _suggestion(key: str) -> str:
    close = difflib.get_close_matches(key, list(Settings.model_fields), n=1)
    return f" (did you mean '{close[0]}'?)" if close else ""


def _type_error(where: str, key: str, value: Any, err: ValidationError) -> str:
    first = err.errors()[0]
    path = ".".join(str(part) for part in (key, *first["loc"]))
    text = repr(redact(value, top=False))
    shown = text if len(text) <= 60 else text[:57] + "..."
    if first["loc"]:
        return f"{where}: key '{path}': {first['msg'].lower()} (got {shown} for '{key}')"
    return f"{where}: key '{key}': expected {expected_type(key)}, got {shown}"


def env_values(environ: Mapping[str, str]) -> dict[str, tuple[str, Any]]:
    """``RALPH_<KEY>`` variables -> {key: (variable name, parsed value)}; lists and tables take JSON."""
    found: dict[str, tuple[str, Any]] = {}
    for key in Settings.model_fields:
        name = f"RALPH_{key.upper()}"
        if key in _NOT_FROM_ENV or name not in environ:
            continue
        found[key] = (name, _parse_env(key, name, environ[name]))
    return found


def _parse_env(key: str, name: str, text: str) -> Any:
    origin = get_origin(Settings.model_fields[key].annotation)
    if origin not in (list, dict):
        return text
    if text.lstrip().startswith(("[", "{")):
        try:
            return json.loads(text)
        except json.JSONDecodeError as err:
            raise ConfigError(f"environment {name}: key '{key}': invalid JSON ({err.msg})") from None
    if origin is dict:
        raise ConfigError(f"environment {name}: key '{key}': expected a JSON object")
    if key == "acp_command":
        return shlex.split(text)
    return [part.strip() for part in text.split(",") if part.strip()]
