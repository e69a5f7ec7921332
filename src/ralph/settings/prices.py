"""Model prices in USD per million tokens: a built-in table for Claude ids, overridable by ``prices``.

Ids are matched after normalising: lower case, provider prefix dropped (``anthropic/``), dots as dashes
(``4.6`` -> ``4-6``), date and ``[1m]`` suffixes dropped, bare family names (``opus-4-6``) given their
``claude-`` prefix; then the longest table key that is a prefix of the id wins.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from pydantic import BaseModel, ConfigDict, Field

__all__ = ["DEFAULT_PRICES", "ModelPrice", "find_price", "normalise_model_id"]


class ModelPrice(BaseModel):
    """USD per million tokens; same fields as ``ralph.agents.base.Price`` (``Price(**p.model_dump())``)."""

    model_config = ConfigDict(extra="forbid", frozen=True, use_attribute_docstrings=True)

    input: float = Field(default=0.0, ge=0)
    """USD per million uncached input tokens."""
    cached: float = Field(default=0.0, ge=0)
    """USD per million cache-read input tokens."""
    output: float = Field(default=0.0, ge=0)
    """USD per million output tokens."""


def _p(input_: float, cached: float, output: float) -> ModelPrice:
    return ModelPrice(input=input_, cached=cached, output=output)


DEFAULT_PRICES: Mapping[str, ModelPrice] = {
    "claude-opus-4-6": _p(5.0, 0.5, 25.0),
    "claude-opus-4-5": _p(5.0, 0.5, 25.0),
    "claude-opus-4-1": _p(15.0, 1.5, 75.0),
    "claude-opus-4": _p(15.0, 1.5, 75.0),
    "claude-opus": _p(5.0, 0.5, 25.0),
    "claude-sonnet-4-5": _p(3.0, 0.3, 15.0),
    "claude-sonnet-4": _p(3.0, 0.3, 15.0),
    "claude-sonnet": _p(3.0, 0.3, 15.0),
    "claude-haiku-4-5": _p(1.0, 0.1, 5.0),
    "claude-haiku": _p(1.0, 0.1, 5.0),
    "claude-3-7-sonnet": _p(3.0, 0.3, 15.0),
    "claude-3-5-sonnet": _p(3.0, 0.3, 15.0),
    "claude-3-5-haiku": _p(0.8, 0.08, 4.0),
    "claude-3-opus": _p(15.0, 1.5, 75.0),
}
"""Anthropic list prices (cached = cache read) as of early 2026."""

_DATE_SUFFIX = re.compile(r"-(20\d{6}|latest)$")
_FAMILY = re.compile(r"^(opus|sonnet|haiku)\b")


def normalise_model_id(model: str) -> str:
    """``anthropic/Claude-Opus-4.6-20260101[1m]`` -> ``claude-opus-4-6``."""
    text = model.strip().lower()
    text = text.rsplit("/", 1)[-1]
    text = text.split(":", 1)[0] if text.startswith(("vllm:", "ollama:", "local:", "lmstudio:")) else text
    text = re.sub(r"\[[^\]]*\]$", "", text).replace(".", "-").replace("_", "-")
    text = _DATE_SUFFIX.sub("", text)
    if _FAMILY.match(text):
        text = "claude-" + text
    return text


def find_price(model: str, overrides: Mapping[str, ModelPrice] | None = None) -> ModelPrice | None:
    """Price of ``model``: an override wins over the built-in table; exact id first, then longest prefix."""
    if not model:
        return None
    if overrides and model in overrides:
        return overrides[model]
    wanted = normalise_model_id(model)
    for table in (overrides or {}, DEFAULT_PRICES):
        normalised = {normalise_model_id(key): price for key, price in table.items()}
        if wanted in normalised:
            return normalised[wanted]
        best = max((key for key in normalised if _is_prefix(key, wanted)), key=len, default=None)
        if best is not None:
            return normalised[best]
    return None


def _is_prefix(key: str, wanted: str) -> bool:
    return wanted.startswith(key) and (len(wanted) == len(key) or wanted[len(key)] == "-")
