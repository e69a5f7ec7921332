"""Credential redaction for settings snapshots written into run records."""

from __future__ import annotations

import re
from typing import Any

from ralph.proc import is_secret_name

__all__ = ["REDACTED", "looks_like_secret_value", "redact"]

REDACTED = "***"

_SECRET_VALUE = re.compile(
    r"^(sk-|sk_|rk_|pk_live|ghp_|gho_|ghs_|github_pat_|glpat-|xox[abpr]-|AKIA|ASIA|AIza|hf_|ya29\.|Bearer\s)"
    r"|-----BEGIN [A-Z ]*PRIVATE KEY-----"
)
_TOKEN_COUNT = re.compile(r"tokens|token_(count|limit|budget|s)|max_token", re.IGNORECASE)
_URL_PASSWORD = re.compile(r"(?P<head>[a-z][a-z0-9+.-]*://[^/@:\s]+:)(?P<pw>[^/@\s]+)(?P<tail>@)", re.I)
_ASSIGNMENT = re.compile(r"^(?P<name>-{0,2}[A-Za-z_][A-Za-z0-9_-]*)=(?P<value>.+)$")


def looks_like_secret_value(value: str) -> bool:
    """True for strings shaped like API keys, bearer tokens or private keys."""
    return bool(_SECRET_VALUE.search(value.strip()))


def _secret_key(name: str) -> bool:
    name = name.replace("-", "_")
    return is_secret_name(name) and not _TOKEN_COUNT.search(name)


def _redact_string(value: str) -> str:
    if looks_like_secret_value(value):
        return REDACTED
    match = _ASSIGNMENT.match(value)
    if match and _secret_key(match["name"].lstrip("-")):
        return f"{match['name']}={REDACTED}"
    return _URL_PASSWORD.sub(lambda m: f"{m['head']}{REDACTED}{m['tail']}", value)


def _redact_argv(items: list[Any]) -> list[Any]:
    """Redact list items, and the item after a secret-named flag (``["--api-key", "abc"]``)."""
    out: list[Any] = []
    for index, item in enumerate(items):
        previous = items[index - 1] if index else None
        flag = isinstance(previous, str) and previous.startswith("-") and "=" not in previous
        if flag and _secret_key(str(previous).lstrip("-")) and isinstance(item, str):
            out.append(REDACTED)
        else:
            out.append(redact(item, top=False))
    return out


def redact(value: Any, *, top: bool = True) -> Any:
    """Copy of ``value`` with credential-looking strings and (below the top level) secret-named keys masked.

    Top-level keys are settings fields, whose names are never secrets (``max_tokens`` is a count)."""
    if isinstance(value, dict):
        return {
            key: REDACTED if not top and _secret_key(str(key)) else redact(item, top=False)
            for key, item in value.items()
        }
    if isinstance(value, list | tuple):
        return _redact_argv(list(value))
    if isinstance(value, str):
        return _redact_string(value)
    return value
