"""Agent answer -> validated stage output: the last complete ``[RALPH_OUTPUT]`` block; bounded, never guessed.

Work is bounded whatever the agent wrote: only the last ``SCAN_CHARS`` are searched, a block over
``MAX_BLOCK_CHARS`` or nested deeper than ``MAX_DEPTH`` is an error, and at most ``MAX_ERRORS`` are reported.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from functools import cache
from typing import Any, Final

from jsonschema import Draft202012Validator
from jsonschema.exceptions import ValidationError

from ralph.output.schemas import END, LIST_LIMITS, START, example_for, schema_for
from ralph.stage import Stage

__all__ = [
    "MAX_BLOCK_CHARS",
    "MAX_DEPTH",
    "MAX_ERRORS",
    "SCAN_CHARS",
    "ParsedOutput",
    "extract_block",
    "parse_output",
    "repair_prompt",
    "storable_text",
    "validate_output",
]

SCAN_CHARS: Final = 4_000_000
MAX_BLOCK_CHARS: Final = 2_000_000
MAX_DEPTH: Final = 32
MAX_ERRORS: Final = 10

_FENCE = re.compile(r"^```[A-Za-z0-9_-]*[ \t]*\n?|\n?```[ \t]*$")
_REQUIRED = re.compile(r"^'(?P<name>.+)' is a required property$")
_SURROGATE = re.compile("[\ud800-\udfff]")
_JSON_TYPES = {dict: "object", list: "array", str: "string", bool: "boolean", int: "integer", float: "number"}


@dataclass(frozen=True)
class ParsedOutput:
    """Valid ``data``, or ``errors``: short lines fit to quote in a repair prompt."""

    ok: bool
    data: dict[str, Any] | None
    errors: tuple[str, ...] = ()


def _fail(*errors: str) -> ParsedOutput:
    return ParsedOutput(ok=False, data=None, errors=tuple(errors))


def extract_block(text: str) -> str | None:
    """Content of the last complete block (the innermost one when blocks nest), or None."""
    window = text[-SCAN_CHARS:]
    last_end = window.rfind(END)
    if last_end < 0:
        return None
    start = window.rfind(START, 0, last_end)
    if start < 0:
        return None
    content_start = start + len(START)
    return window[content_start : window.find(END, content_start)]


def _missing_block_error(text: str) -> str:
    window = text[-SCAN_CHARS:]
    if START in window:
        return f"{START} block is not closed with {END}"
    if END in window:
        return f"{END} found without an opening {START}"
    return f"no {START} ... {END} block found at the end of the answer"


def _unwrap(content: str) -> str:
    body = _FENCE.sub("", content.replace("\x00", "").strip()).strip()
    if not body.startswith("{") and "{" in body:
        body = body[body.index("{") : body.rindex("}") + 1] if "}" in body else body
    return body


def _finite_float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise ValueError(f"number {text[:20]} is out of range")
    return value


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not valid JSON")


def _decode(body: str) -> tuple[Any, str | None]:
    if len(body) > MAX_BLOCK_CHARS:
        return None, f"output block is {len(body):,} characters; the limit is {MAX_BLOCK_CHARS:,}"
    try:
        return json.loads(body, parse_float=_finite_float, parse_constant=_reject_constant), None
    except json.JSONDecodeError as err:
        return None, f"invalid JSON at line {err.lineno} column {err.colno}: {err.msg}"
    except RecursionError:
        return None, f"JSON is nested deeper than {MAX_DEPTH} levels"
    except ValueError as err:
        return None, f"invalid JSON: {str(err)[:120]}"


def _depth_exceeds(value: Any, limit: int) -> bool:
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if depth > limit:
            return True
        if isinstance(item, dict):
            stack.extend((child, depth + 1) for child in item.values())
        elif isinstance(item, list):
            stack.extend((child, depth + 1) for child in item)
    return False


def storable_text(text: str) -> str:
    """``text`` with lone surrogates (from JSON escapes like ``\\ud800``) replaced: writable as UTF-8."""
    return _SURROGATE.sub("\ufffd", text)


def _storable(value: Any) -> Any:
    if isinstance(value, str):
        return storable_text(value)
    if isinstance(value, dict):
        return {storable_text(str(k)): _storable(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_storable(item) for item in value]
    return value


def parse_output(stage: Stage, text: str) -> ParsedOutput:
    """Validate the last complete block of ``text`` against ``stage``'s schema; prose is never read. Strings
    in the result are storable (no lone surrogates)."""
    content = extract_block(text)
    if content is None:
        return _fail(_missing_block_error(text))
    body = _unwrap(content)
    if not body:
        return _fail("the output block is empty; it must hold one JSON object")
    data, error = _decode(body)
    if error is not None:
        return _fail(error)
    if not isinstance(data, dict):
        return _fail(f"the output must be a JSON object, got {_json_type(data)}")
    if _depth_exceeds(data, MAX_DEPTH):
        return _fail(f"JSON is nested deeper than {MAX_DEPTH} levels")
    errors = validate_output(stage, data)
    return _fail(*errors) if errors else ParsedOutput(ok=True, data=_storable(data))


@cache
def _validator(stage: Stage) -> Draft202012Validator:
    return Draft202012Validator(schema_for(stage))


def validate_output(stage: Stage, data: dict[str, Any]) -> list[str]:
    """Schema errors of ``data`` for ``stage`` (at most ``MAX_ERRORS``, plus a count of the rest)."""
    too_long = _oversized_lists(stage, data)
    if too_long:
        return too_long
    errors = _limited(_format_error(err) for err in _validator(stage).iter_errors(data))
    return errors


def _oversized_lists(stage: Stage, data: dict[str, Any]) -> list[str]:
    found: list[str] = []
    for key, limit in LIST_LIMITS[stage].items():
        value = data.get(key)
        if isinstance(value, list) and len(value) > limit:
            found.append(f"{key}: {len(value)} items; at most {limit} allowed")
    return found


def _limited(errors: Iterable[str]) -> list[str]:
    out: list[str] = []
    for error in errors:
        if len(out) == MAX_ERRORS:
            out.append("... more errors not shown")
            break
        if error not in out:
            out.append(error)
    return out


def _path(parts: Iterable[Any]) -> str:
    text = ""
    for part in parts:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text or "(top level)"


def _json_type(value: Any) -> str:
    return "null" if value is None else _JSON_TYPES.get(type(value), type(value).__name__)


def _short(value: Any) -> str:
    text = json.dumps(value, ensure_ascii=False) if not isinstance(value, dict | list) else _json_type(value)
    return text if len(text) <= 40 else text[:37] + "..."


def _format_error(err: ValidationError) -> str:
    path = _path(err.absolute_path)
    kind = err.validator
    if kind == "required":
        match = _REQUIRED.match(err.message)
        name = match["name"] if match else "?"
        return f"{path}.{name}: required" if err.absolute_path else f"{name}: required"
    if kind == "type":
        return f"{path}: expected {_expected(err.validator_value)}, got {_json_type(err.instance)}"
    if kind == "enum":
        allowed: list[Any] = list(err.schema.get("enum", [])) if isinstance(err.schema, dict) else []
        choices = ", ".join(json.dumps(choice) for choice in allowed)
        return f"{path}: must be one of {choices}, got {_short(err.instance)}"
    return _format_bound(path, str(kind), err)


def _expected(value: Any) -> str:
    return " or ".join(value) if isinstance(value, list) else str(value)


def _format_bound(path: str, kind: str, err: ValidationError) -> str:
    limit = err.validator_value
    messages = {
        "minItems": f"at least {limit} items required, got {_len(err.instance)}",
        "maxItems": f"at most {limit} items allowed, got {_len(err.instance)}",
        "minLength": "must not be empty",
        "maxLength": f"at most {limit} characters",
        "minimum": f"must be >= {limit}",
        "maximum": f"must be <= {limit}",
    }
    if kind == "anyOf" and path.endswith("priority"):
        return f"{path}: must be high, medium, low or 0-3, got {_short(err.instance)}"
    if kind == "anyOf" and ".deps[" in path:
        return f"{path}: must be a task id, a task name or a batch index, got {_short(err.instance)}"
    return f"{path}: {messages.get(kind, err.message[:120])}"


def _len(value: Any) -> int:
    return len(value) if isinstance(value, list | str) else 0


def repair_prompt(stage: Stage, errors: Iterable[str]) -> str:
    """Text sent in the same session when the output failed validation: the errors and what to send back."""
    lines = list(_bullets(errors))
    return "\n".join(
        [
            f"Your {START} block could not be used:",
            *lines,
            "",
            "Do not redo the work. As your final action, write one complete corrected "
            f"{START} ... {END} block: the whole JSON object, plain text, no code fences.",
            "Minimal valid example of the shape:",
            START,
            json.dumps(example_for(stage), ensure_ascii=False),
            END,
        ]
    )


def _bullets(errors: Iterable[str]) -> Iterator[str]:
    for shown, error in enumerate(errors):
        if shown == MAX_ERRORS:
            yield "- ... more errors not shown"
            return
        yield f"- {error[:300]}"
