"""``.tix/ralph-state.json``: where the loop stands (for resume) and what it is doing (for ``ralph watch``).

Saved by atomic replace at every stage start and end, and committed with each iteration. A missing or
corrupt file is a fresh state.
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field, fields, replace
from pathlib import Path
from typing import Any

from ralph.stage import Stage

__all__ = ["STATE_FILE", "Attempt", "LoopState", "load_state", "save_state", "state_path"]

STATE_FILE = "ralph-state.json"


@dataclass(frozen=True)
class Attempt:
    """A BUILD attempt in flight: the task and the snapshot its changes are reverted to."""

    task_id: str
    snapshot: Mapping[str, Any]
    started_at: float = 0.0


@dataclass(frozen=True)
class LoopState:
    """Resume state plus the live fields ``ralph watch`` reads."""

    spec: str | None = None
    stage: Stage | None = None
    """The stage to run next, or the one running when ``running`` is true."""
    running: bool = False
    task_id: str | None = None
    iteration: int = 0
    """Iterations completed over all runs on this spec."""
    attempt: Attempt | None = None
    pending_commit: str | None = None
    """Message of an iteration whose work was kept but whose commit may not have been made (crash window)."""
    commit_base: str | None = None
    """HEAD before that commit: if HEAD is still there on resume, the commit was not made."""
    failing: Mapping[str, Any] | None = None
    """A failed BUILD being recorded (task_id, reason, kill, kill_count, park); completed on resume."""
    decompose_target: str | None = None
    decompose_reason: str = ""
    batch: tuple[str, ...] = ()
    """Ids of the VERIFY/INVESTIGATE batch in progress (a failed batch is retried halved)."""
    batch_size: Mapping[str, int] = field(default_factory=dict)
    """Effective batch size per stage after halving."""
    run_id: str | None = None
    pid: int | None = None
    started_at: float | None = None
    updated_at: float | None = None
    limits: Mapping[str, Any] = field(default_factory=dict)
    totals: Mapping[str, Any] = field(default_factory=dict)
    context_pct: float = 0.0
    recent_kills: tuple[Mapping[str, Any], ...] = ()
    activity_log: str | None = None
    simulated: bool = False
    host: str = ""
    """The machine the run's process (``pid``) is on."""
    stage_started_at: float | None = None
    """When the running stage started (run clock): the stage-timeout gauge of ``ralph watch``."""
    last_progress_at: float | None = None
    """Last acceptance or commit (run clock): the progress-stall guard."""
    loop_repeats: int = 0
    """How many stages in a row saw the same fingerprint: the loop guard."""
    exit_reason: str | None = None
    """Set when the run ends (with ``ended_at``); None while it runs."""
    ended_at: float | None = None

    def with_(self, **changes: Any) -> LoopState:
        return replace(self, **changes)


def state_path(repo: Path) -> Path:
    return repo / ".tix" / STATE_FILE


def load_state(repo: Path) -> LoopState:
    """The saved state; fresh when the file is missing, corrupt or of an unknown shape."""
    try:
        raw = json.loads(state_path(repo).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return LoopState()
    if not isinstance(raw, dict):
        return LoopState()
    try:
        return _from_json(raw)
    except (TypeError, ValueError, KeyError):
        return LoopState()


def _from_json(raw: Mapping[str, Any]) -> LoopState:
    known = {f.name for f in fields(LoopState)}
    values = {k: v for k, v in raw.items() if k in known}
    if values.get("stage") is not None:
        values["stage"] = Stage(values["stage"])
    if values.get("attempt") is not None:
        values["attempt"] = Attempt(**values["attempt"])
    values["batch"] = tuple(values.get("batch") or ())
    values["recent_kills"] = tuple(values.get("recent_kills") or ())
    return LoopState(**values)


def save_state(repo: Path, state: LoopState) -> None:
    """Write atomically (temp file in the same directory, then rename): a killed process leaves the old
    file or the new one, never half of one."""
    path = state_path(repo)
    path.parent.mkdir(parents=True, exist_ok=True)
    text = json.dumps(asdict(state), indent=1, sort_keys=True, default=str) + "\n"
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".ralph-state.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
