"""The lazy backend registry."""

from __future__ import annotations

import subprocess
import sys

import pytest

from ralph.agents.base import BackendOptions
from ralph.agents.registry import BACKENDS, backend_names, get_backend, register
from ralph.errors import UsageError


def test_every_documented_backend_is_registered_and_builds() -> None:
    assert backend_names() == ["acp", "claude", "openai", "opencode", "sim"]
    for name in ["acp", "claude", "openai", "opencode"]:
        backend = get_backend(name, BackendOptions())
        assert backend.name == name
        backend.close()


def test_unknown_name_lists_the_valid_ones() -> None:
    with pytest.raises(
        UsageError, match=r"unknown backend 'nope' \(valid: acp, claude, openai, opencode, sim\)"
    ):
        get_backend("nope", BackendOptions())


def test_register_checks_the_target_and_errors_are_usage_errors(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(BACKENDS, "x", "ralph.agents.nothing_here:X")
    with pytest.raises(UsageError, match="not available"):
        get_backend("x", BackendOptions())
    register("y", "ralph.agents.openai:Missing")
    monkeypatch.delitem(BACKENDS, "y")
    with pytest.raises(UsageError, match="must look like"):
        register("z", "no-colon")


def test_imports_are_lazy() -> None:
    code = "\n".join(
        [
            "import sys",
            "from ralph.agents.registry import get_backend",
            "from ralph.agents.base import BackendOptions",
            "get_backend('openai', BackendOptions())",
            "acp_loaded = any(m == 'acp' or m.startswith('acp.') for m in sys.modules)",
            "print(acp_loaded, 'ralph.agents.claude' in sys.modules)",
        ]
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.split() == ["False", "False"]
