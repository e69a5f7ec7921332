"""Where the pinned agent CLIs are, and the offline environment each one runs in against the fake server.

Every agent gets a private HOME/XDG tree, a provider config that points only at 127.0.0.1, the switches
that stop update checks, telemetry and model-list downloads, and (when ``unshare -n`` works) a network
namespace with nothing but loopback.
"""

from __future__ import annotations

import json
import shlex
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from tests.fakes.model_server import ScriptedModelServer
from tests.fakes.netjail import jail_prefix

ROOT = Path(__file__).resolve().parents[2]
NODE_MODULES = ROOT / ".cache" / "agents" / "node_modules"
PINS = {"opencode": "1.18.33", "claude": "2.1.332", "claude-agent-acp": "0.23.1"}
FAKE_MODEL = "m1"
CLAUDE_MODEL = "claude-sonnet-4-5"


def binary(name: str) -> Path:
    """The pinned CLI as installed by scripts/install-agents.sh."""
    if name == "claude-agent-acp":
        return NODE_MODULES / "@zed-industries" / "claude-agent-acp" / "dist" / "index.js"
    return NODE_MODULES / ".bin" / name


def missing_binaries() -> list[str]:
    return [f"{name}@{pin}" for name, pin in PINS.items() if not binary(name).exists()]


def home_env(home: Path) -> dict[str, str]:
    return {
        "HOME": str(home),
        "XDG_CONFIG_HOME": str(home / ".config"),
        "XDG_DATA_HOME": str(home / ".local" / "share"),
        "XDG_STATE_HOME": str(home / ".local" / "state"),
        "XDG_CACHE_HOME": str(home / ".cache"),
        "NO_PROXY": "*",
    }


def opencode_config(
    server: ScriptedModelServer,
    *,
    context: int = 32768,
    output: int = 4096,
    cost: tuple[float, float] = (3, 15),
) -> dict[str, Any]:
    """An opencode.json whose only provider is the fake server (models ``fake/m1``, the default, and
    ``fake/m2``)."""
    model = {
        "name": "Fake model",
        "limit": {"context": context, "output": output},
        "cost": {"input": cost[0], "output": cost[1]},
    }
    return {
        "$schema": "https://opencode.ai/config.json",
        "provider": {
            "fake": {
                "npm": "@ai-sdk/openai-compatible",
                "name": "Fake",
                "options": {"baseURL": f"{server.base_url}/v1", "apiKey": "dummy"},
                "models": {FAKE_MODEL: model, "m2": {**model, "name": "Second fake model"}},
            }
        },
        "model": f"fake/{FAKE_MODEL}",
        "small_model": f"fake/{FAKE_MODEL}",
        "autoupdate": False,
        "share": "disabled",
    }


def opencode_env(home: Path, config: Mapping[str, Any]) -> dict[str, str]:
    return {
        **home_env(home),
        "OPENCODE_CONFIG_CONTENT": json.dumps(config),
        "OPENCODE_DISABLE_AUTOUPDATE": "1",
        "OPENCODE_DISABLE_MODELS_FETCH": "1",
        "OPENCODE_DISABLE_LSP_DOWNLOAD": "1",
        "OPENCODE_DISABLE_SHARE": "1",
        "OPENCODE_DISABLE_DEFAULT_PLUGINS": "1",
    }


def claude_env(home: Path, server: ScriptedModelServer) -> dict[str, str]:
    return {
        **home_env(home),
        "ANTHROPIC_BASE_URL": server.base_url,
        "ANTHROPIC_API_KEY": "sk-ant-dummy",
        "CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC": "1",
        "DISABLE_TELEMETRY": "1",
        "DISABLE_ERROR_REPORTING": "1",
        "DISABLE_AUTOUPDATER": "1",
        "CLAUDE_CODE_MAX_RETRIES": "0",
        "IS_SANDBOX": "1",
    }


def write_wrapper(path: Path, argv: tuple[str, ...], env: Mapping[str, str]) -> Path:
    """A one-file program (for ``opencode_bin``) that exports ``env`` and runs ``argv`` plus its own args."""
    exports = "".join(f"export {k}={shlex.quote(v)}\n" for k, v in env.items())
    command = " ".join(shlex.quote(a) for a in argv)
    path.write_text(f'#!/bin/sh\n{exports}exec {command} "$@"\n')
    path.chmod(0o755)
    return path


def jailed(server: ScriptedModelServer, *argv: str) -> tuple[str, ...]:
    """``argv`` behind the loopback-only network jail that forwards the server's port."""
    return (*jail_prefix({server.port: str(server.unix_path)}), *argv)
