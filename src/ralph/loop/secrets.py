"""The credentials Ralph hands to agents, masked in what Ralph writes from agent output (activity log, the
answer text that feeds tickets, commits and repair prompts): an agent that prints its environment must not
put its key into Ralph's files."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from ralph.proc import is_secret_name
from ralph.settings import Settings, agent_environment

__all__ = ["MASK", "SecretMask", "agent_secrets"]

MASK = "***"
_MIN_CHARS = 8
"""Shorter values are not masked (they would blank ordinary words)."""


class SecretMask:
    """``mask(text)`` puts ``***`` for every known secret value; ``longest`` is the longest one's length."""

    def __init__(self, values: Iterable[str] = ()) -> None:
        self._values = sorted({v for v in values if len(v) >= _MIN_CHARS}, key=len, reverse=True)
        self.longest = len(self._values[0]) if self._values else 0

    def __call__(self, text: str) -> str:
        for value in self._values:
            if value in text:
                text = text.replace(value, MASK)
        return text


def agent_secrets(settings: Settings, environ: Mapping[str, str] | None = None) -> SecretMask:
    """The mask of the credential-named variables among those passed to agents (``agent_env``)."""
    passed = agent_environment(settings.agent_env, environ)
    return SecretMask(value for name, value in passed.items() if is_secret_name(name))
