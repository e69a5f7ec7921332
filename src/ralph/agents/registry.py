"""Backend names -> ``module:Class``, imported lazily; an unknown name lists the valid ones."""

from __future__ import annotations

import importlib
from typing import cast

from ralph.agents.base import AgentBackend, BackendOptions
from ralph.errors import UsageError

__all__ = ["BACKENDS", "backend_names", "get_backend"]

BACKENDS: dict[str, str] = {
    "opencode": "ralph.agents.opencode:OpencodeBackend",
    "claude": "ralph.agents.claude:ClaudeBackend",
    "acp": "ralph.agents.acp:AcpBackend",
    "openai": "ralph.agents.openai:OpenAIBackend",
    "sim": "ralph.agents.sim:SimBackend",
}


def backend_names() -> list[str]:
    return sorted(BACKENDS)


def get_backend(name: str, options: BackendOptions) -> AgentBackend:
    """Build backend ``name`` with ``options``; UsageError for an unknown or unavailable backend."""
    target = BACKENDS.get(name)
    if target is None:
        raise UsageError(f"unknown backend {name!r} (valid: {', '.join(backend_names())})")
    module_name, _, class_name = target.partition(":")
    try:
        module = importlib.import_module(module_name)
    except ModuleNotFoundError as err:
        raise UsageError(f"backend {name!r} is not available: {err}") from err
    return cast(AgentBackend, getattr(module, class_name)(options))
