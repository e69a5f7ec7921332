"""TQL -> SQL compilation and execution (interim: the compiler lands in the next commit)."""

from __future__ import annotations

from typing import Any

from ralph.errors import StoreError
from ralph.tix.cache import Cache

__all__ = ["Compiled", "compile_tql", "run_tql"]


class Compiled:
    def display(self) -> str:
        raise StoreError("TQL is not available yet")


def compile_tql(text: str) -> Compiled:
    raise StoreError("TQL is not available yet")


def run_tql(cache: Cache, text: str) -> list[dict[str, Any]]:
    raise StoreError("TQL is not available yet")
