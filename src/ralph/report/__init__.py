"""The bench's HTML report.

plots.py  matplotlib (Agg) figures as PNG bytes; the Pareto front
page.py   the Jinja page template (inline CSS, data-URI images, no script, no network)
html.py   render_html / write_report: tables from bench.tables, figures, links to every cell's files
"""

from ralph.report.html import render_html, write_report
from ralph.report.plots import Plot, draw_plots, pareto_front

__all__ = ["Plot", "draw_plots", "pareto_front", "render_html", "write_report"]
