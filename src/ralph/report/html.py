"""Write one self-contained HTML report: every analysis table, every figure, links to each cell's files."""

from __future__ import annotations

import base64
import os
import re
from datetime import datetime
from pathlib import Path

import jinja2

from ralph.bench.analysis import Analysis
from ralph.bench.tables import Table, analysis_tables
from ralph.report.page import PAGE
from ralph.report.plots import Plot, draw_plots

__all__ = ["MAX_CAPTION_LINKS", "render_html", "write_report"]

MAX_CAPTION_LINKS = 40


def _href(files: str, out_dir: Path) -> str:
    """A link to a cell's results folder, relative to the report when possible."""
    if not files:
        return ""
    target = Path(files)
    try:
        rel = os.path.relpath(target, out_dir)
    except ValueError:
        return target.as_uri()
    return rel.replace(os.sep, "/") + "/"


_NUMERIC = re.compile(r"^[-+$]?[0-9.,]+")


def _table_view(table: Table, out_dir: Path) -> dict[str, object]:
    """The table with relative links and the columns to left-align (any cell not starting with a number)."""
    text_columns = {
        i
        for row in table.rows
        for i, value in enumerate(row)
        if value not in ("", "-") and not _NUMERIC.match(value)
    }
    return {
        "key": table.key,
        "title": table.title,
        "note": table.note,
        "headers": table.headers,
        "rows": table.rows,
        "links": tuple(_href(link, out_dir) for link in table.links),
        "text_columns": text_columns,
    }


def _plot_view(plot: Plot, hrefs: dict[str, str]) -> dict[str, object]:
    shown = [(cell, hrefs[cell]) for cell in plot.cells[:MAX_CAPTION_LINKS] if hrefs.get(cell)]
    return {
        "key": plot.key,
        "title": plot.title,
        "caption": plot.caption,
        "data": base64.b64encode(plot.png).decode("ascii"),
        "links": shown,
        "more": max(0, len(plot.cells) - MAX_CAPTION_LINKS),
    }


def render_html(analysis: Analysis, out_dir: Path, plots: tuple[Plot, ...] | None = None) -> str:
    """The report page as a string; links are relative to ``out_dir``."""
    hrefs = {r.cell: _href(r.files, out_dir) for r in analysis.runs}
    env = jinja2.Environment(autoescape=True, undefined=jinja2.StrictUndefined, trim_blocks=True)
    return env.from_string(PAGE).render(
        experiment=analysis.experiment,
        generated=datetime.now().astimezone().isoformat(timespec="seconds"),
        cells=len(analysis.runs),
        arms=len(analysis.arms),
        seed=analysis.seed,
        simulated=any(r.simulated for r in analysis.runs),
        warnings=analysis.warnings,
        tables=[_table_view(t, out_dir) for t in analysis_tables(analysis)],
        plots=[_plot_view(p, hrefs) for p in (plots if plots is not None else draw_plots(analysis))],
        index=[(r.cell, r.arm, hrefs[r.cell]) for r in analysis.runs],
    )


def write_report(analysis: Analysis, out: Path) -> Path:
    """Write the report to ``out`` (parents created, atomically replaced) and return its path."""
    out = out.resolve()
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(out.name + ".tmp")
    tmp.write_text(render_html(analysis, out.parent), encoding="utf-8")
    tmp.replace(out)
    return out
