"""Simulated models: skill by difficulty, latency, tokens, price, locality and failure-mode weights."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, fields, replace
from enum import StrEnum
from typing import Any

from ralph.agents.base import Price
from ralph.errors import ConfigError

__all__ = [
    "DEFAULT_MODEL",
    "DEFAULT_SIM_MODELS",
    "FailureMode",
    "SimModel",
    "resolve_sim_model",
    "sim_model_table",
]

DEFAULT_MODEL = "sim/sonnet-4.5"
"""What the sim plays when a request names no model."""


_GENERIC_PRICE = Price(3.0, 0.3, 15.0)


class FailureMode(StrEnum):
    """How a simulated call goes wrong; ``wrong`` claims success but leaves a broken change (BUILD)."""

    TIMEOUT = "timeout"
    CONTEXT = "context"
    MALFORMED = "malformed"
    BLOCKED = "blocked"
    WRONG = "wrong"


@dataclass(frozen=True)
class SimModel:
    """One simulated model; ``skill[d-1]`` is the chance of success at difficulty ``d`` (1-5)."""

    name: str
    skill: tuple[float, ...] = (0.9, 0.8, 0.65, 0.5, 0.35)
    review: float = 0.9
    """Chance a VERIFY verdict agrees with what the check shows."""
    repair: float = 0.8
    """Chance a repair retry answers with a valid output block."""
    latency_s: float = 12.0
    """Virtual seconds per model call."""
    steps: int = 8
    """Model calls in a BUILD; other stages use fewer."""
    tokens_in: int = 2500
    tokens_cached: int = 12000
    tokens_out: int = 700
    price: Price = _GENERIC_PRICE
    local: bool = False
    failure_modes: tuple[tuple[FailureMode, float], ...] = (
        (FailureMode.TIMEOUT, 1.0),
        (FailureMode.CONTEXT, 1.0),
        (FailureMode.MALFORMED, 2.0),
        (FailureMode.BLOCKED, 2.0),
        (FailureMode.WRONG, 4.0),
    )

    @property
    def short(self) -> str:
        """Display name without the ``sim/`` prefix."""
        return self.name.removeprefix("sim/")

    def success_p(self, difficulty: int) -> float:
        return self.skill[min(max(difficulty, 1), len(self.skill)) - 1]


def _modes(
    timeout: float, context: float, malformed: float, blocked: float, wrong: float
) -> tuple[tuple[FailureMode, float], ...]:
    return tuple(zip(FailureMode, (timeout, context, malformed, blocked, wrong), strict=True))


DEFAULT_SIM_MODELS: Mapping[str, SimModel] = {
    "sim/opus-4.6": SimModel(
        name="sim/opus-4.6",
        skill=(0.98, 0.95, 0.9, 0.82, 0.7),
        review=0.97,
        repair=0.95,
        latency_s=14.0,
        steps=7,
        tokens_in=2500,
        tokens_cached=14000,
        tokens_out=700,
        price=Price(5.0, 0.5, 25.0),
        failure_modes=_modes(1, 1, 1, 3, 4),
    ),
    "sim/sonnet-4.5": SimModel(
        name="sim/sonnet-4.5",
        skill=(0.96, 0.9, 0.8, 0.68, 0.55),
        review=0.93,
        repair=0.9,
        latency_s=9.0,
        steps=8,
        tokens_in=2400,
        tokens_cached=13000,
        tokens_out=650,
        price=Price(3.0, 0.3, 15.0),
        failure_modes=_modes(1, 1, 2, 2, 4),
    ),
    "sim/devstral-small-2": SimModel(
        name="sim/devstral-small-2",
        skill=(0.9, 0.75, 0.55, 0.38, 0.25),
        review=0.8,
        repair=0.7,
        latency_s=12.0,
        steps=12,
        tokens_in=2200,
        tokens_cached=11000,
        tokens_out=600,
        price=Price(0.0, 0.0, 0.0),
        local=True,
        failure_modes=_modes(2, 2, 4, 1, 3),
    ),
}
"""Built-in table; ``sim_models`` entries in settings override these key by key."""

_FIELDS = {f.name for f in fields(SimModel)} - {"name"}


def resolve_sim_model(name: str, overrides: Mapping[str, Any] | None = None) -> SimModel:
    """The built-in model ``name`` (or a generic one) with ``overrides[name]`` merged over it."""
    name = name or DEFAULT_MODEL
    base = DEFAULT_SIM_MODELS.get(name, SimModel(name=name))
    entry = (overrides or {}).get(name)
    if not entry:
        return base
    if not isinstance(entry, Mapping):
        raise ConfigError(f"sim_models.{name}: expected a table, got {entry!r}")
    return replace(base, **{key: _field(name, key, value) for key, value in entry.items()})


def _field(model: str, key: str, value: Any) -> Any:
    where = f"sim_models.{model}.{key}"
    if key not in _FIELDS:
        raise ConfigError(f"{where}: unknown key (known: {', '.join(sorted(_FIELDS))})")
    try:
        return _convert(key, value)
    except (TypeError, ValueError) as err:
        raise ConfigError(f"{where}: {err}") from None


def _convert(key: str, value: Any) -> Any:
    if key == "skill":
        levels = [float(value)] * 5 if isinstance(value, int | float) else [float(v) for v in value]
        return tuple(_probability(v) for v in levels)
    if key in ("review", "repair"):
        return _probability(float(value))
    if key == "price":
        return Price(*(float(value.get(part, 0)) for part in ("input", "cached", "output")))
    if key == "failure_modes":
        unknown = set(value) - {mode.value for mode in FailureMode}
        if unknown:
            raise ValueError(f"unknown failure mode {sorted(unknown)} (known: {', '.join(FailureMode)})")
        return tuple((mode, float(value.get(mode.value, 0.0))) for mode in FailureMode)
    if key == "local":
        if not isinstance(value, bool):
            raise TypeError(f"expected a boolean, got {value!r}")
        return value
    number = float(value) if key == "latency_s" else int(value)
    if number < 0:
        raise ValueError(f"expected a number >= 0, got {value!r}")
    return number


def _probability(value: float) -> float:
    if not 0.0 <= value <= 1.0:
        raise ValueError(f"expected a probability in [0, 1], got {value}")
    return value


def sim_model_table(model: SimModel) -> dict[str, Any]:
    """``model`` as a ``sim_models`` entry (what ``ralph/config.toml`` holds)."""
    return {
        "local": model.local,
        "skill": list(model.skill),
        "review": model.review,
        "repair": model.repair,
        "latency_s": model.latency_s,
        "steps": model.steps,
        "tokens_in": model.tokens_in,
        "tokens_cached": model.tokens_cached,
        "tokens_out": model.tokens_out,
        "price": {"input": model.price.input, "cached": model.price.cached, "output": model.price.output},
        "failure_modes": {mode.value: weight for mode, weight in model.failure_modes},
    }
