"""Stage names shared by settings, backends, the loop and the ledger.

Values are the ledger strings (upper case, as the earlier ralph wrote them); ``key`` is the lower-case
form used in config keys such as ``model_build``.
"""

from __future__ import annotations

from enum import StrEnum

__all__ = ["Stage"]


class Stage(StrEnum):
    PLAN = "PLAN"
    INVESTIGATE = "INVESTIGATE"
    BUILD = "BUILD"
    VERIFY = "VERIFY"
    DECOMPOSE = "DECOMPOSE"
    DEDUP = "DEDUP"
    COMPLETE = "COMPLETE"

    @property
    def key(self) -> str:
        """Lower-case name used in config keys (``model_<key>``, ``backend_<key>``)."""
        return self.value.lower()

    @classmethod
    def parse(cls, text: str) -> Stage:
        """Accept ``build`` or ``BUILD``; raise ValueError listing valid names otherwise."""
        try:
            return cls(text.upper())
        except ValueError:
            valid = ", ".join(s.key for s in cls)
            raise ValueError(f"unknown stage {text!r} (valid: {valid})") from None

    @classmethod
    def routed(cls) -> tuple[Stage, ...]:
        """Stages that call a model and can be routed to a backend/model/agent."""
        return (cls.PLAN, cls.INVESTIGATE, cls.BUILD, cls.VERIFY, cls.DECOMPOSE, cls.DEDUP)
