"""The one exception tree, and the reasons a run exits or a stage is killed.

    RalphError (exit 1)
    +-- UsageError (2)        bad flags, bad config, unknown profile, not a git repo, missing spec
    |   +-- ConfigError (2)   a config file, key or type is wrong (message names all three)
    +-- StoreError (1)        tix: unknown id, illegal transition, malformed JSON, missing .tix
    +-- GitError (1)          a git command failed
    +-- AgentError (1)        a backend could not run at all (binary missing, protocol broken)
    +-- Interrupted (130)     SIGINT / SIGTERM

Exit codes of a finished run come from ``ExitReason.exit_code`` (DESIGN §4).
"""

from __future__ import annotations

from enum import StrEnum

__all__ = [
    "AgentError",
    "ConfigError",
    "ExitReason",
    "FailureKind",
    "GitError",
    "Interrupted",
    "KillReason",
    "RalphError",
    "StoreError",
    "UsageError",
]


class RalphError(Exception):
    """Base of every error Ralph raises on purpose; the CLI prints ``str(err)`` as one line."""

    exit_code: int = 1


class UsageError(RalphError):
    """Bad command-line input or environment (exit 2)."""

    exit_code = 2


class ConfigError(UsageError):
    """A configuration file, key or value is invalid (exit 2)."""


class StoreError(RalphError):
    """The ticket store refused an operation (exit 1)."""


class GitError(RalphError):
    """A git operation failed (exit 1)."""


class AgentError(RalphError):
    """An agent backend could not be started or spoke an unusable protocol (exit 1)."""


class Interrupted(RalphError):
    """The run was interrupted by a signal (exit 130)."""

    exit_code = 130


class ExitReason(StrEnum):
    """Why a construct run ended; values are the ledger strings."""

    COMPLETE = "complete"
    NO_WORK = "no_work"
    MAX_ITERATIONS = "max_iterations"
    WALL_TIME = "wall_time"
    COST_LIMIT = "cost_limit"
    TOKEN_LIMIT = "token_limit"
    API_CALL_LIMIT = "api_call_limit"
    CIRCUIT_BREAKER = "circuit_breaker"
    PROGRESS_STALL = "progress_stall"
    LOOP_DETECTED = "loop_detected"
    INTERRUPTED = "interrupted"
    ERROR = "error"

    @property
    def exit_code(self) -> int:
        return _EXIT_CODES[self]


_EXIT_CODES: dict[ExitReason, int] = {
    ExitReason.COMPLETE: 0,
    ExitReason.NO_WORK: 0,
    ExitReason.MAX_ITERATIONS: 3,
    ExitReason.WALL_TIME: 3,
    ExitReason.COST_LIMIT: 3,
    ExitReason.TOKEN_LIMIT: 3,
    ExitReason.API_CALL_LIMIT: 3,
    ExitReason.CIRCUIT_BREAKER: 4,
    ExitReason.PROGRESS_STALL: 4,
    ExitReason.LOOP_DETECTED: 4,
    ExitReason.INTERRUPTED: 130,
    ExitReason.ERROR: 1,
}


class KillReason(StrEnum):
    """Why a stage was stopped or failed without a usable answer; values are the ledger strings."""

    TIMEOUT = "timeout"
    CONTEXT = "context"
    LOOP = "loop"
    EMPTY_STEPS = "empty_steps"
    AGENT_ERROR = "agent_error"
    INFRA = "infra"


FailureKind = KillReason
"""A backend reports its failure with the same vocabulary the ledger records as a kill reason."""
