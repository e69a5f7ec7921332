"""Backend names -> ``module:Class``, imported lazily; an unknown name lists the valid ones.

Only the chosen backend's module is imported, so ``sim`` runs without the ACP SDK being loaded and a
broken optional backend cannot stop the others. ``register`` adds a name (the shape a plug-in hook would
use later).
"""

from __future__ import annotations

import importlib
from typing import cast

from ralph.agents.base import AgentBackend, BackendOptions
from ralph.errors import UsageError

__all__ = ["BACKENDS", "backend_names", "check_endpoint", "get_backend", "register"]

BACKENDS: dict[str, str] = {
    "opencode": "ralph.agents.opencode:OpencodeBackend",
    "claude": "ralph.agents.claude:ClaudeBackend",
    "acp": "ralph.agents.acp:AcpBackend",
    "openai": "ralph.agents.openai:OpenAIBackend",
    "sim": "ralph.agents.sim:SimBackend",
}


def register(name: str, target: str) -> None:
    """Make ``name`` build the class at ``target`` (``"package.module:Class"``)."""
    module, sep, cls = target.partition(":")
    if not (module and sep and cls):
        raise UsageError(f"backend target {target!r} must look like 'package.module:Class'")
    BACKENDS[name] = target


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
    try:
        cls = getattr(module, class_name)
    except AttributeError as err:
        raise UsageError(f"backend {name!r}: {module_name} has no {class_name}") from err
    return cast(AgentBackend, cls(options))


def check_endpoint(base_url: str) -> tuple[bool, str]:
    """Is the OpenAI-compatible endpoint at ``base_url`` up? Loads only the ``openai`` backend module."""
    from ralph.agents.openai import health_check

    return health_check(base_url)
