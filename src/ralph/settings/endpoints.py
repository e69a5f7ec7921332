"""Whether a model is local: by its endpoint (DESIGN §3), the earlier name rules as a fallback."""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping, Sequence
from typing import Any
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict

__all__ = [
    "DEFAULT_LOCAL_PROVIDERS",
    "DEFAULT_SIM_MODELS",
    "Provider",
    "is_local_model",
    "is_loopback_url",
]

DEFAULT_LOCAL_PROVIDERS: tuple[str, ...] = ("llamacpp", "ollama", "vllm", "lmstudio", "local")
"""opencode provider ids that name a model served on this machine."""

DEFAULT_SIM_MODELS: Mapping[str, Mapping[str, Any]] = {
    "sim/devstral-small-2": {"local": True},
    "sim/opus-4.6": {"local": False},
    "sim/sonnet-4.5": {"local": False},
}
"""Simulated models known without configuration; ``sim_models`` entries merge over these key-wise."""

_LEGACY_PREFIXES = ("vllm:", "ollama:", "local:", "lmstudio:")
_LEGACY_HOSTS = ("localhost", "127.0.0.1")


class Provider(BaseModel):
    """An opencode/OpenAI-compatible provider: where it listens and whether it is local."""

    model_config = ConfigDict(extra="forbid", frozen=True, use_attribute_docstrings=True)

    base_url: str = ""
    """Endpoint URL, e.g. ``http://127.0.0.1:8080/v1``; a loopback host makes the provider local."""
    local: bool | None = None
    """Explicitly local (true) or remote (false); unset means decide from ``base_url``."""


def is_loopback_url(url: str) -> bool:
    """True when the URL's host is ``localhost`` or a loopback address."""
    try:
        host = urlsplit(url if "//" in url else f"//{url}").hostname or ""
    except ValueError:
        return False
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def is_local_model(
    model: str,
    *,
    local_providers: Sequence[str] = DEFAULT_LOCAL_PROVIDERS,
    providers: Mapping[str, Provider] | None = None,
    sim_models: Mapping[str, Mapping[str, Any]] | None = None,
) -> bool:
    """Local when: a sim model marked local; a ``provider/model`` whose provider is configured local (or has a
    loopback base_url) or is listed in ``local_providers``; else the earlier prefix/localhost rules."""
    if model.startswith("sim/"):
        table = sim_models if sim_models is not None else DEFAULT_SIM_MODELS
        return bool(table.get(model, {}).get("local", False))
    if "/" in model:
        provider = model.split("/", 1)[0]
        configured = (providers or {}).get(provider)
        if configured is not None and configured.local is not None:
            return configured.local
        if configured is not None and is_loopback_url(configured.base_url):
            return True
        if provider in local_providers:
            return True
    lowered = model.lower()
    return lowered.startswith(_LEGACY_PREFIXES) or any(host in lowered for host in _LEGACY_HOSTS)
