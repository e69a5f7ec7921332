"""`ralph bench init|setup|plan|run|collect|analyze|report`: thin commands over ``ralph.bench``."""

from __future__ import annotations

import sys
from pathlib import Path

import typer
from rich.console import Console
from rich.live import Live
from rich.table import Table as RichTable

from ralph.bench import (
    CellProgress,
    analysis_json,
    analysis_tables,
    analyze_experiment,
    collect_cell,
    init_experiment,
    load_experiment,
    plan_experiment,
    run_cells,
    setup_experiment,
)
from ralph.bench.tables import Table, fmt_cost, fmt_duration, fmt_gate

__all__ = ["bench_app"]

bench_app = typer.Typer(
    name="bench",
    help="Experiments: one spec and the same limits for several profiles, each in its own worktree.",
    no_args_is_help=True,
    add_completion=False,
    rich_markup_mode=None,
)
_EXP = typer.Argument(
    ..., help="Experiment folder (holding experiment.toml or experiment.conf), or the file."
)


def _console() -> Console:
    return Console() if sys.stdout.isatty() else Console(width=200, soft_wrap=True)


@bench_app.command("init")
def init_cmd(name: str = typer.Argument(..., help="Folder name, e.g. 003-stage-timeouts.")) -> None:
    """Write NAME/experiment.toml, commented, to start from."""
    print(init_experiment(name, Path.cwd()))


@bench_app.command("setup")
def setup_cmd(exp: Path = _EXP) -> None:
    """Create one worktree and branch exp/<experiment>/<cell> per profile and replicate (idempotent)."""
    for result in setup_experiment(load_experiment(exp)):
        state = "created" if result.created else "exists "
        print(f"{state} {result.cell:24} {result.branch}  {result.worktree}")


@bench_app.command("plan")
def plan_cmd(
    exp: Path = _EXP,
    profile: str | None = typer.Option(None, "--profile", "-p", help="Profile/variant whose cell plans."),
) -> None:
    """Plan once in the first cell, commit it, and bring that commit into every other cell."""
    for result in plan_experiment(load_experiment(exp), profile, echo=print):
        print(f"plan {result.spec}: commit {result.commit[:12]} (planned in {result.planned_in})")
        for cell, how in result.cells.items():
            print(f"  {cell:24} {how}")


def _progress_table(rows: list[CellProgress]) -> RichTable:
    table = RichTable(title="ralph bench run", title_justify="left")
    for header in ("Cell", "Profile", "Status", "Iter", "Stage", "Tasks", "Cost", "Elapsed", "Note"):
        table.add_column(header)
    for r in rows:
        tasks = f"{r.tasks_done}/{r.tasks_total}" if r.tasks_total is not None else str(r.tasks_done)
        exit_text = f" ({r.exit_code})" if r.exit_code is not None and r.status != "running" else ""
        table.add_row(r.cell, r.arm, r.status.value + exit_text, str(r.iteration), r.stage or "-", tasks,
                      fmt_cost(r.cost), fmt_duration(r.elapsed_s), r.note)  # fmt: skip
    return table


class _PlainProgress:
    """Without a terminal: one line whenever a cell's status changes."""

    def __init__(self) -> None:
        self.seen: dict[str, str] = {}

    def __call__(self, rows: list[CellProgress]) -> None:
        for r in rows:
            if self.seen.get(r.cell) != r.status:
                self.seen[r.cell] = r.status
                code = "" if r.exit_code is None or r.status == "running" else f" exit {r.exit_code}"
                print(f"{r.cell}: {r.status.value}{code} {r.note}".rstrip(), flush=True)


@bench_app.command("run")
def run_cmd(
    exp: Path = _EXP,
    names: list[str] = typer.Argument(None, help="Profiles, variants or cells to run."),
    every: bool = typer.Option(False, "--all", help="Run every cell."),
    replicate: int | None = typer.Option(None, "--replicate", min=1, help="Only this replicate."),
) -> None:
    """Run cells (a `ralph construct` each); finished cells are skipped, interrupted ones resumed."""
    experiment = load_experiment(exp)
    cells = experiment.select(names or [], every, replicate)
    console = _console()
    if console.is_terminal:
        with Live(_progress_table([]), console=console, refresh_per_second=2) as live:
            rows = run_cells(experiment, cells, lambda r: live.update(_progress_table(r)))
    else:
        rows = run_cells(experiment, cells, _PlainProgress())
        console.print(_progress_table(rows))


@bench_app.command("collect")
def collect_cmd(
    exp: Path = _EXP, cell: str | None = typer.Argument(None, help="One cell (default: all).")
) -> None:
    """Store state, git stats, build/test/gate results and the cell's ledger lines into results/<cell>/."""
    experiment = load_experiment(exp)
    cells = [experiment.find_cell(cell)] if cell else list(experiment.cells())
    for one in cells:
        r = collect_cell(experiment, one)
        gates = " ".join(f"{g.label}={fmt_gate(g)}" for g in r.gates)
        print(f"{r.cell:24} build={fmt_gate(r.build)} test={fmt_gate(r.test)} {gates} commits={r.commits} "
              f"+{r.insertions}/-{r.deletions} runs={len(r.run_ids)}")  # fmt: skip


RICH_ROWS = 200
"""Larger tables are printed as plain aligned text (Rich lays out big tables slowly)."""


def _plain(table: Table) -> str:
    columns = list(zip(table.headers, *table.rows, strict=True))
    widths = [max(len(value) for value in column) for column in columns]
    lines = [table.title]
    for row in (table.headers, *table.rows):
        lines.append("  ".join(value.ljust(width) for value, width in zip(row, widths, strict=True)).rstrip())
    return "\n".join([*lines, table.note] if table.note else lines)


def _rich(table: Table) -> RichTable:
    out = RichTable(
        title=table.title, title_justify="left", caption=table.note or None, caption_justify="left"
    )
    for header in table.headers:
        out.add_column(header)
    for row in table.rows:
        out.add_row(*row)
    return out


@bench_app.command("analyze")
def analyze_cmd(
    exp: Path = _EXP,
    as_json: bool = typer.Option(False, "--json", help="Print the analysis as JSON."),
    profile: str | None = typer.Option(None, "--profile", "-p", help="Only this profile/variant."),
) -> None:
    """The six sections (runs, stages, quota, ranking, correctness, recommendations) plus replicate stats."""
    analysis = analyze_experiment(load_experiment(exp), profile)
    if as_json:
        print(analysis_json(analysis))
        return
    console = _console()
    for table in analysis_tables(analysis):
        if len(table.rows) > RICH_ROWS:
            print(_plain(table) + "\n")
        else:
            console.print(_rich(table))
            console.print()
    for warning in analysis.warnings:
        print(f"warning: {warning}", file=sys.stderr)


@bench_app.command("report")
def report_cmd(
    exp: Path = _EXP,
    out: Path | None = typer.Option(None, "--output", "-o", help="HTML file (default: results/report.html)."),
) -> None:
    """Write one self-contained HTML report with tables and figures; print its path."""
    from ralph.report import write_report  # matplotlib loads only for this command, not for every `ralph`

    experiment = load_experiment(exp)
    analysis = analyze_experiment(experiment)
    print(write_report(analysis, out or experiment.results_dir / "report.html"))
