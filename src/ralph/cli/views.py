"""Rich rendering of the watch view models (``ralph.watch``); nothing here decides what to show."""

from __future__ import annotations

from collections.abc import Sequence

from rich.console import Group, RenderableType
from rich.panel import Panel
from rich.table import Table
from rich.text import Text

from ralph.watch.cells import CellRow
from ralph.watch.model import Gauge, RunFrame, RunStatus

__all__ = ["bench_view", "duration_text", "run_view", "tokens_text"]

_STATUS_STYLES = {
    RunStatus.RUNNING: "bold green",
    RunStatus.FINISHED: "bold cyan",
    RunStatus.STOPPED: "bold yellow",
    RunStatus.NO_RUN: "dim",
}
_GOOD_EXITS = frozenset({"complete", "no_work"})


def duration_text(seconds: float) -> str:
    """``42s``, ``5m02s``, ``2h00m``."""
    if seconds < 60:
        return f"{seconds:.0f}s"
    minutes, secs = divmod(int(seconds), 60)
    if minutes < 60:
        return f"{minutes}m{secs:02d}s"
    return f"{minutes // 60}h{minutes % 60:02d}m"


def tokens_text(count: float) -> str:
    if count >= 1_000_000:
        return f"{count / 1_000_000:.1f}M"
    return f"{count / 1_000:.0f}K" if count >= 1_000 else f"{count:.0f}"


def _exit_style(reason: str | None) -> str:
    if reason is None:
        return "yellow"
    return "green" if reason in _GOOD_EXITS else "red" if reason == "error" else "yellow"


def _limit_text(gauge: Gauge) -> str:
    if gauge.guard == "wall_time":
        return duration_text(gauge.limit)
    if gauge.guard == "cost_limit":
        return f"${gauge.limit:.2f}"
    if gauge.guard == "token_limit":
        return tokens_text(gauge.limit)
    return f"{gauge.limit:.0f}"


def _with_limit(text: str, frame: RunFrame, guard: str) -> str:
    gauge = next((g for g in frame.gauges if g.guard == guard), None)
    return f"{text} / {_limit_text(gauge)}" if gauge is not None else text


def _status_line(frame: RunFrame) -> Text:
    if frame.status is RunStatus.RUNNING:
        line = Text("running", style=_STATUS_STYLES[frame.status])
        line.append(f"  pid {frame.pid}  updated {duration_text(frame.updated_ago_s)} ago")
        return line
    line = Text("not running", style=_STATUS_STYLES[frame.status])
    if frame.status is RunStatus.FINISHED:
        line.append("  last exit ")
        line.append(frame.exit_reason or "?", style=_exit_style(frame.exit_reason))
    else:
        line.append(f"  pid {frame.pid} is gone; last exit unknown (no end record)", style="yellow")
    return line


def _task_line(frame: RunFrame) -> str:
    pos = frame.position
    if pos.task_id:
        return f"{pos.task_id}  {pos.task_name}".rstrip()
    return f"batch {', '.join(pos.batch)}" if pos.batch else "-"


def _guard_line(frame: RunFrame) -> Text:
    if frame.tripped:
        return Text(f"limit reached: {frame.tripped}", style="bold red")
    nearest = frame.nearest
    if nearest is None:
        return Text("no limits set", style="dim")
    style = "red" if nearest.pct >= 90 else "yellow" if nearest.pct >= 70 else "green"
    return Text(f"{nearest.guard} {nearest.pct:.0f}%", style=style)


def _context_line(frame: RunFrame) -> str:
    usage = frame.usage
    marks = [
        f"{name} {pct:.0f}%"
        for name, pct in (("compact", usage.context_compact_pct), ("kill", usage.context_kill_pct))
        if pct > 0
    ]
    return f"{usage.context_pct:.1f}%" + (f" ({', '.join(marks)})" if marks else "")


def _fields(frame: RunFrame) -> list[tuple[str, str | Text]]:
    pos, usage = frame.position, frame.usage
    clock = "  (simulated clock)" if frame.simulated else ""
    if pos.stage:
        stage = f"{pos.stage} ({'running' if pos.stage_running else 'next'})"
    else:
        stage = "starting" if frame.status is RunStatus.RUNNING else "-"
    timer = frame.stage_gauge
    if timer is not None:
        stage += f"  {duration_text(timer.used)} of {duration_text(timer.limit)}"
    return [
        ("status", _status_line(frame)),
        ("run", f"{frame.run_id}  spec {frame.spec or '-'}  profile {frame.profile or '-'}"),
        ("stage", stage + (f"  model {pos.model}" if pos.model else "")),
        ("task", _task_line(frame)),
        (
            "iteration",
            _with_limit(f"{pos.iteration} ({pos.run_iterations}", frame, "max_iterations")
            + " done this run)",
        ),
        ("tasks", f"{pos.tasks_accepted}/{pos.tasks_total} accepted"),
        ("elapsed", _with_limit(duration_text(usage.elapsed_s), frame, "wall_time") + clock),
        ("cost", _with_limit(f"${usage.cost:.4f}", frame, "cost_limit")),
        ("tokens", _with_limit(tokens_text(usage.tokens), frame, "token_limit")),
        (
            "calls",
            _with_limit(f"remote {usage.calls_remote}", frame, "api_call_limit")
            + f"  local {usage.calls_local}",
        ),
        ("context", _context_line(frame)),
        ("next guard", _guard_line(frame)),
    ]


def _header(frame: RunFrame) -> Panel:
    grid = Table.grid(padding=(0, 2))
    grid.add_column(style="bold", no_wrap=True)
    grid.add_column()
    if frame.status is RunStatus.NO_RUN:
        grid.add_row("status", Text("no run yet: waiting for .tix/ralph-state.json", style="dim"))
    else:
        for name, value in _fields(frame):
            grid.add_row(name, value if isinstance(value, Text) else Text(value))
    title = Text(f"ralph watch  {frame.repo}")
    if frame.simulated:
        title.append("  [simulated]", style="magenta")
    return Panel(grid, title=title, title_align="left", subtitle="q to quit", subtitle_align="right")


def _kills(frame: RunFrame) -> Table:
    table = Table(title="recent kills", title_justify="left", expand=True, show_edge=False)
    for column in ("iteration", "stage", "task", "reason"):
        table.add_column(column)
    for kill in frame.kills:
        table.add_row(
            str(kill.iteration), Text(kill.stage), Text(kill.task_id), Text(kill.reason, style="red")
        )
    return table


def run_view(frame: RunFrame, activity_lines: int = 12) -> RenderableType:
    """The whole screen for one run: header fields, recent kills, last lines of agent activity."""
    parts: list[RenderableType] = [_header(frame)]
    if frame.kills:
        parts.append(_kills(frame))
    lines = frame.activity[-activity_lines:] if activity_lines > 0 else ()
    body = Text("\n".join(lines) if lines else "(no activity yet)", no_wrap=True, overflow="ellipsis")
    parts.append(Panel(body, title="activity", title_align="left"))
    return Group(*parts)


def bench_view(title: str, rows: Sequence[CellRow]) -> RenderableType:
    """One row per cell of an experiment."""
    table = Table(title=Text(title), title_justify="left", expand=True)
    for column in ("cell", "status", "stage", "iteration", "tasks", "cost", "elapsed", "exit"):
        table.add_column(column, justify="right" if column in ("iteration", "cost", "elapsed") else "left")
    for row in rows:
        label = "not started" if row.status is RunStatus.NO_RUN else row.status.value
        status = Text(label, style=_STATUS_STYLES[row.status])
        code = f" ({row.exit_code})" if row.exit_code is not None else ""
        exit_text = Text(
            f"{row.exit_reason}{code}" if row.exit_reason else "-", style=_exit_style(row.exit_reason)
        )
        table.add_row(
            Text(row.name + (" [simulated]" if row.simulated else "")),
            status,
            Text(row.stage or "-"),
            str(row.iteration),
            f"{row.tasks_accepted}/{row.tasks_total}",
            f"${row.cost:.4f}",
            duration_text(row.elapsed_s),
            exit_text,
        )
    return table
