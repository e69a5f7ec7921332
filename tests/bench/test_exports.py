"""ralph.bench and ralph.report declare an importable, sorted ``__all__``; every bench module has one too."""

from __future__ import annotations

import importlib
import pkgutil

import pytest

import ralph.bench


@pytest.mark.parametrize("name", ["ralph.bench", "ralph.report"])
def test_package_exports(name: str) -> None:
    module = importlib.import_module(name)
    exported = list(module.__all__)
    assert exported == sorted(exported) and len(exported) == len(set(exported))
    assert all(hasattr(module, item) for item in exported)
    assert module.__doc__ and "py" in module.__doc__


@pytest.mark.parametrize("info", list(pkgutil.iter_modules(ralph.bench.__path__)), ids=lambda i: i.name)
def test_every_bench_module_declares_what_it_exports(info: pkgutil.ModuleInfo) -> None:
    module = importlib.import_module(f"ralph.bench.{info.name}")
    assert module.__doc__, info.name
    assert all(hasattr(module, item) for item in module.__all__)
    assert info.name in (ralph.bench.__doc__ or ""), f"{info.name} is missing from the package docstring"
