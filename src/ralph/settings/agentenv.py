"""Which environment variables reach agents: their credentials, chosen by ``agent_env`` patterns.

Agents need their API keys; model-written checks and hooks never get any credential (``proc.scrubbed_env``).
Only this module and ``settings.load`` read the process environment.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from fnmatch import fnmatchcase

__all__ = ["DEFAULT_AGENT_ENV", "agent_environment"]

DEFAULT_AGENT_ENV: tuple[str, ...] = (
    "ANTHROPIC_*",
    "CLAUDE_*",
    "OPENAI_*",
    "OPENCODE_*",
    "OPENROUTER_*",
    "GEMINI_*",
    "GOOGLE_*",
    "AWS_*",
    "AZURE_*",
    "MISTRAL_*",
)
"""Variables the agent CLIs read for their providers' credentials and endpoints."""


def agent_environment(patterns: Sequence[str], environ: Mapping[str, str] | None = None) -> dict[str, str]:
    """The variables of ``environ`` (default the process environment) whose names match a pattern."""
    source = os.environ if environ is None else environ
    return {k: v for k, v in source.items() if any(fnmatchcase(k, p) for p in patterns)}
