"""What ``ralph construct`` prints: one line per stage, a summary per iteration, and the exit with what it
means. Plain text (pure functions over plain values); the log read in the morning says what happened."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from ralph.errors import ExitReason

__all__ = [
    "StageLine",
    "Verdicts",
    "exit_line",
    "iteration_line",
    "money",
    "outcome_text",
    "seconds_text",
    "stage_line",
    "subject",
]

_NAME_CHARS = 40

EXIT_HINTS: dict[ExitReason, str] = {
    ExitReason.COMPLETE: "every task of the spec is accepted",
    ExitReason.NO_WORK: "nothing is left to build (tasks parked, failed or waiting on deps): see "
    "`tix status` and the open issues, then re-plan or unpark",
    ExitReason.MAX_ITERATIONS: "the iteration limit was reached: raise --max-iterations (or max_iterations) "
    "and run `ralph construct` again to resume",
    ExitReason.WALL_TIME: "the wall-time limit was reached: raise --max-wall-time, or run again to resume",
    ExitReason.COST_LIMIT: "the cost limit was reached: raise --max-cost, or route stages to cheaper models",
    ExitReason.TOKEN_LIMIT: "the token limit was reached: raise --max-tokens, or run again to resume",
    ExitReason.API_CALL_LIMIT: "the remote API call limit was reached: raise --max-api-calls, or route "
    "stages to a local model",
    ExitReason.CIRCUIT_BREAKER: "too many stages failed in a row: check the endpoint and the activity log, "
    "or raise --max-failures",
    ExitReason.PROGRESS_STALL: "nothing was accepted or committed for too long: check the activity log; "
    "smaller tasks or a stronger build model help (progress_stall_abort_s)",
    ExitReason.LOOP_DETECTED: "the same stage kept seeing the same tickets: a task is stuck; inspect it "
    "with `tix`, reprioritize or split it (loop_detection_threshold)",
    ExitReason.INTERRUPTED: "stopped by a signal: run `ralph construct` again to resume where it stopped",
    ExitReason.ERROR: "stopped by the error above: fix it and run `ralph construct` again to resume",
}


@dataclass(frozen=True)
class StageLine:
    """One stage execution as the console reports it."""

    stage: str
    subject: str
    """``t-1234abcd Short name`` or ``batch of 3``."""
    outcome: str
    model: str
    label: str
    """``[local]``, ``[simulated]`` or ""."""
    cost: float
    duration_s: float
    validation_retries: int = 0


@dataclass(frozen=True)
class Verdicts:
    """What a stage did to the tickets, as far as its console line tells."""

    added: int = 0
    accepted: int = 0
    rejected: tuple[tuple[str, str], ...] = ()
    """(task id, reason) of each rejection."""
    issues: int = 0
    parked: bool = False
    precheck: bool = False


def outcome_text(
    stage: str, ok: bool, kill: str | None, answer: Mapping[str, object] | None, verdicts: Verdicts
) -> str:
    """``done``, ``accepted``, ``rejected: <reason>``, ``failed: <kill reason>``, ``decomposed into 3``..."""
    if kill:
        text = "infra failure (endpoint down or rate limited)" if kill == "infra" else f"failed: {kill}"
    elif not ok:
        reason = str((answer or {}).get("reason") or (answer or {}).get("summary") or "")
        blocked = stage == "BUILD" and (answer or {}).get("verdict") == "blocked"
        text = f"failed: blocked ({_clip(reason, 60)})" if blocked else "failed: no valid output"
    else:
        text = _success_text(stage, verdicts)
    extras = [f"{verdicts.issues} issue(s) raised"] if verdicts.issues else []
    extras += ["parked"] if verdicts.parked else []
    return ", ".join([text, *extras])


def _success_text(stage: str, v: Verdicts) -> str:
    if stage == "BUILD":
        return "done, to VERIFY"
    if stage == "DECOMPOSE":
        return f"decomposed into {v.added}"
    if stage == "INVESTIGATE":
        return f"{v.added} new task(s) from the issues"
    if stage != "VERIFY":
        return f"{v.added} task(s) added" if v.added else "ok"
    by_check = " (check passed)" if v.precheck else ""
    if v.accepted and not v.rejected:
        return ("accepted" if v.accepted == 1 else f"accepted {v.accepted}") + by_check
    if len(v.rejected) == 1 and not v.accepted:
        return f"rejected: {_clip(v.rejected[0][1], 80)}"
    if v.rejected:
        first = f"{v.rejected[0][0]}: {_clip(v.rejected[0][1], 60)}"
        return f"accepted {v.accepted}, rejected {len(v.rejected)} ({first})"
    return "no verdict"


def _clip(text: str, chars: int) -> str:
    text = " ".join(text.split())
    return text if len(text) <= chars else text[: chars - 1] + "…"


def money(cost: float) -> str:
    return f"${cost:.4f}"


def seconds_text(seconds: float) -> str:
    """``4.2s``, ``5m02s``, ``2h00m``."""
    if seconds < 60:
        return f"{seconds:.1f}s"
    minutes, secs = divmod(int(seconds), 60)
    return f"{minutes}m{secs:02d}s" if minutes < 60 else f"{minutes // 60}h{minutes % 60:02d}m"


def subject(task_id: str | None, name: str, batch: int = 0) -> str:
    """The task a stage worked on, with a short name; a batch by its size."""
    if task_id:
        return f"{task_id} {_clip(name, _NAME_CHARS)}".rstrip()
    return f"batch of {batch}" if batch else "-"


def stage_line(line: StageLine) -> str:
    """``  BUILD    t-1234abcd Split the heap: done | sim/opus-4.6 [simulated] | $0.0123 | 4.2s``"""
    count = line.validation_retries
    retries = f" ({count} validation {'retry' if count == 1 else 'retries'})" if count else ""
    model = f"{line.model or '-'} {line.label}".rstrip()
    return (
        f"  {line.stage:<11} {line.subject}: {line.outcome}{retries} | {model} | "
        f"{money(line.cost)} | {seconds_text(line.duration_s)}"
    )


def iteration_line(
    number: int, accepted: int, total: int, cost: float, remote: int, local: int, elapsed_s: float
) -> str:
    """The summary after an iteration's commit: tasks, cumulative cost and calls, run time."""
    return (
        f"iteration {number} done: {accepted}/{total} tasks accepted, {money(cost)} so far, "
        f"calls {remote} remote / {local} local, {seconds_text(elapsed_s)} elapsed"
    )


def exit_line(reason: ExitReason, detail: str = "") -> str:
    """``exit: max_iterations (...) - the iteration limit was reached: raise ...``"""
    extra = f" ({detail})" if detail else ""
    return f"exit: {reason.value}{extra} - {EXIT_HINTS.get(reason, '')}".rstrip(" -")
