"""Write one self-contained HTML report: every analysis table, every figure, links to each cell's files."""

from __future__ import annotations

import base64
import os
import re
from collections.abc import Callable
from datetime import datetime
from pathlib import Path

import jinja2
from markupsafe import Markup, escape

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
_SPECIAL = re.compile(r"[&<>\"']")


def _escape(value: str) -> str:
    """``markupsafe.escape`` as text, without its call when there is nothing to escape."""
    return value if _SPECIAL.search(value) is None else str(escape(value))


def _text_columns(rows: tuple[tuple[str, ...], ...]) -> set[int]:
    """Columns to left-align: those with any cell not starting with a number (a column is scanned only until
    its first such cell)."""
    out: set[int] = set()
    for i in range(max((len(row) for row in rows), default=0)):
        for row in rows:
            if i < len(row) and row[i] not in ("", "-") and not _NUMERIC.match(row[i]):
                out.add(i)
                break
    return out


def _body(rows: tuple[tuple[str, ...], ...], links: tuple[str, ...], text_columns: set[int]) -> Markup:
    """The rows as the page template used to write them cell by cell (autoescaped the same way). Plain str
    concatenation only: ``str + Markup`` would escape the str."""
    width = max((len(row) for row in rows), default=0)
    opens = [f'<td class="{"text" if i in text_columns else ""}">' for i in range(width)]
    search = _SPECIAL.search
    parts = []
    for index, row in enumerate(rows):
        link = links[index] if links else ""
        cells = [f"{opens[i]}{v if search(v) is None else escape(v)}</td>" for i, v in enumerate(row)]
        if link and cells:
            cells[0] = f'{opens[0]}<a href="{_escape(link)}">{_escape(row[0])}</a></td>'
        parts.append("<tr>" + "".join(cells) + "</tr>")
    return Markup("".join(parts))


def _index(rows: list[tuple[str, str, str]]) -> Markup:
    """The cell index rows (cell, profile, link to its files)."""
    return Markup(
        "".join(
            f'<tr><td class="text">{_escape(cell)}</td><td class="text">{_escape(arm)}</td>\n'
            f'<td class="text"><a href="{_escape(href)}">{_escape(href)}</a></td></tr>'
            for cell, arm, href in rows
        )
    )


def _table_view(table: Table, href: Callable[[str], str]) -> dict[str, object]:
    """The table with relative links and the columns to left-align (any cell not starting with a number)."""
    text_columns = _text_columns(table.rows)
    links = tuple(href(link) for link in table.links)
    return {
        "key": table.key,
        "title": table.title,
        "note": table.note,
        "headers": table.headers,
        "body": _body(table.rows, links, text_columns),
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
    known: dict[str, str] = {}

    def href(files: str) -> str:
        found = known.get(files)
        if found is None:
            found = known[files] = _href(files, out_dir)
        return found

    hrefs = {r.cell: href(r.files) for r in analysis.runs}
    env = jinja2.Environment(autoescape=True, undefined=jinja2.StrictUndefined, trim_blocks=True)
    return env.from_string(PAGE).render(
        experiment=analysis.experiment,
        generated=datetime.now().astimezone().isoformat(timespec="seconds"),
        cells=len(analysis.runs),
        arms=len(analysis.arms),
        seed=analysis.seed,
        simulated=any(r.simulated for r in analysis.runs),
        warnings=analysis.warnings,
        tables=[_table_view(t, href) for t in analysis_tables(analysis)],
        plots=[_plot_view(p, hrefs) for p in (plots if plots is not None else draw_plots(analysis))],
        index=_index([(r.cell, r.arm, hrefs[r.cell]) for r in analysis.runs]),
    )


def write_report(analysis: Analysis, out: Path) -> Path:
    """Write the report to ``out`` (parents created, atomically replaced) and return its path."""
    out = out.resolve()
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(out.name + ".tmp")
    tmp.write_text(render_html(analysis, out.parent), encoding="utf-8")
    tmp.replace(out)
    return out
