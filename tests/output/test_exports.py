"""The settings, ledger and output packages declare an importable ``__all__`` (ruff keeps it sorted)."""

from __future__ import annotations

import importlib

import pytest


@pytest.mark.parametrize("name", ["ralph.settings", "ralph.ledger", "ralph.output"])
def test_public_names(name: str) -> None:
    module = importlib.import_module(name)
    exported = list(module.__all__)
    assert len(exported) == len(set(exported))
    assert all(hasattr(module, item) for item in exported)
    assert module.__doc__ and ".py" in module.__doc__
