"""`ralph init`, `plan SPEC`, `construct` and `status`: flags -> Settings -> one library call."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer

if TYPE_CHECKING:
    from ralph.settings import Settings

__all__ = ["register"]

_PROFILE = typer.Option(None, "--profile", "-p", help="Profile to apply (default: $RALPH_PROFILE).")
_LOG_DIR = typer.Option(None, "--log-dir", help="Ledger directory (runs/iterations/calls.jsonl).")


def _echo(line: str) -> None:
    print(line, flush=True)


def _settings(profile: str | None, flags: dict[str, Any]) -> tuple[Path, Settings]:
    from ralph.loop.session import root_of
    from ralph.settings import flag_overrides, load_settings

    root = root_of(Path.cwd())
    return root, load_settings(root, profile=profile, overrides=flag_overrides(flags))


def init_cmd(
    branch: str = typer.Option(
        "ralph/work", "--branch", help="Working branch to create, mark and switch to."
    ),
) -> None:
    """Create ralph/specs/ with an example spec, the ticket store (.tix) and a working branch."""
    from ralph.loop.setup import init_repo

    summary = init_repo(Path.cwd(), branch=branch)
    for item in summary.created:
        print(f"created {item}")
    state = "created" if summary.branch_created else "using"
    print(f"{state} branch {summary.branch}")
    print("next: write a spec in ralph/specs/, then `ralph plan ralph/specs/<spec>.md` and `ralph construct`")


def plan_cmd(
    spec: str = typer.Argument(..., help="Spec file (path or name under ralph/specs)."),
    profile: str | None = _PROFILE,
    log_dir: Path | None = _LOG_DIR,
) -> None:
    """Turn SPEC into tasks in the ticket store (re-planning updates tasks by name, never duplicates)."""
    from ralph.loop.plan import plan_spec

    root, settings = _settings(profile, {"log_dir": log_dir})
    summary = plan_spec(root, settings, spec)
    label = " [simulated]" if summary.simulated else ""
    print(
        f"plan {summary.spec}{label}: {len(summary.added)} added, {len(summary.updated)} updated, "
        f"{len(summary.dropped)} dropped (run {summary.run_id})"
    )
    for line in (*summary.errors, *summary.remarks)[:20]:
        print(f"  {line}")
    if not summary.ok:
        print(f"error: plan produced no tasks ({summary.exit_reason.value})", file=sys.stderr)
        raise typer.Exit(summary.exit_reason.exit_code or 1)


def construct_cmd(
    spec: str | None = typer.Option(None, "--spec", help="Spec to work (default: the planned one)."),
    profile: str | None = _PROFILE,
    max_iterations: int | None = typer.Option(None, "--max-iterations", min=0),
    max_wall_time: int | None = typer.Option(None, "--max-wall-time", min=0, help="Seconds."),
    max_failures: int | None = typer.Option(None, "--max-failures", min=0),
    max_cost: float | None = typer.Option(None, "--max-cost", min=0.0, help="USD."),
    max_tokens: int | None = typer.Option(None, "--max-tokens", min=0),
    max_api_calls: int | None = typer.Option(None, "--max-api-calls", min=0),
    stage_timeout: float | None = typer.Option(None, "--stage-timeout", min=0.0, help="Seconds."),
    log_dir: Path | None = _LOG_DIR,
    no_commit: bool = typer.Option(False, "--no-commit", help="Do not commit after each iteration."),
    push: bool = typer.Option(False, "--push", help="Push the branch after each commit (never forced)."),
    allow_dirty: bool = typer.Option(
        False, "--allow-dirty", help="Start on a tree with uncommitted changes."
    ),
    allow_branch: bool = typer.Option(False, "--allow-branch", help="Run on a branch Ralph did not create."),
    experiment: str | None = typer.Option(None, "--experiment", help="Experiment name for the run record."),
    replicate: int | None = typer.Option(None, "--replicate", min=0, help="Replicate number (bench)."),
) -> None:
    """Loop unattended: build one task, verify it, decompose failures, commit every iteration."""
    from ralph.loop.construct import ConstructOptions, construct

    flags = {
        "max_iterations": max_iterations,
        "max_wall_time": max_wall_time,
        "max_failures": max_failures,
        "max_cost": max_cost,
        "max_tokens": max_tokens,
        "max_api_calls": max_api_calls,
        "stage_timeout": stage_timeout,
        "log_dir": log_dir,
        "no_commit": no_commit,
        "push": push or None,
        "experiment": experiment,
        "replicate": replicate,
    }
    root, settings = _settings(profile, flags)
    options = ConstructOptions(allow_dirty=allow_dirty, allow_branch=allow_branch, echo=_echo)
    summary = construct(root, settings, spec, options=options)
    tasks = summary.tasks
    done = f"{tasks.completed}/{tasks.total} tasks accepted, ${summary.cost:.4f} (run {summary.run_id})"
    print(f"{summary.exit_reason.value}: {summary.iterations} iterations, {done}")
    raise typer.Exit(summary.exit_reason.exit_code)


def status_cmd(
    profile: str | None = _PROFILE,
    log_dir: Path | None = _LOG_DIR,
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """Ralph's state here: spec, stage, iteration, the last run, ticket counts."""
    from ralph.loop.status import repo_status

    root, settings = _settings(profile, {"log_dir": log_dir})
    view = repo_status(root, settings)
    if as_json:
        print(json.dumps(view, indent=2))
        return
    running = "   (running)" if view["running"] else ""
    print(
        f"spec: {view['spec'] or '(none)'}   stage: {view['stage'] or '-'}   "
        f"iteration: {view['iteration']}{running}"
    )
    counts = ", ".join(f"{k} {v}" for k, v in view["tasks"].items() if v) or "none"
    print(f"tasks: {counts}; open issues {view['issues']}")
    last = view["last_run"]
    if last:
        print(
            f"last run {last['run_id']}: {last['exit_reason'] or 'running/unfinished'}, {last['iterations']} "
            f"iterations, {last['tasks']['completed']}/{last['tasks']['total']} tasks, ${last['cost']:.4f}"
        )


def register(app: typer.Typer) -> None:
    """Add init, plan, construct and status to the ralph app."""
    app.command("init")(init_cmd)
    app.command("plan")(plan_cmd)
    app.command("construct")(construct_cmd)
    app.command("status")(status_cmd)
