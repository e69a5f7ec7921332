"""The report's Jinja template: one page, inline CSS, figures as PNG data URIs, no script, no network.

Table bodies and the cell index come in as escaped HTML (``html.py`` writes them; with ten thousand cells a
Jinja loop per table cell took seconds)."""

from __future__ import annotations

__all__ = ["PAGE"]

PAGE = """<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>ralph bench: {{ experiment }}</title>
<style>
body { font: 14px/1.45 system-ui, -apple-system, "Segoe UI", sans-serif; margin: 2rem auto; max-width: 1200px;
       padding: 0 1rem; color: #1b1b1b; }
h1 { font-size: 1.6rem; margin-bottom: .2rem; } h2 { font-size: 1.15rem; margin-top: 2.2rem; }
.meta { color: #555; } .sim { background: #fff4d6; border: 1px solid #e0b74a; padding: .5rem .8rem; }
table { border-collapse: collapse; margin: .6rem 0; font-variant-numeric: tabular-nums; }
th, td { border-bottom: 1px solid #ddd; padding: .25rem .6rem; text-align: right; white-space: nowrap; }
th { background: #f3f3f3; } td.text, th.text { text-align: left; }
.note { color: #555; font-size: .9rem; max-width: 70rem; }
figure { margin: 1.2rem 0 2rem; } figure img { max-width: 100%; border: 1px solid #eee; }
figcaption { font-size: .9rem; color: #444; } figcaption a { margin-right: .4rem; }
.scroll { overflow-x: auto; }
</style>
</head>
<body>
<h1>Experiment {{ experiment }}</h1>
<p class="meta">Generated {{ generated }} by ralph bench report &middot; {{ cells }} cells &middot;
{{ arms }} profiles/variants{% if seed is not none %} &middot; bootstrap seed {{ seed }}{% endif %}</p>
{% for warning in warnings %}<p class="sim">Ledger warning: {{ warning }}</p>{% endfor %}
{% if simulated %}<p class="sim">Simulated results: these runs used the <code>sim</code> backend, not real
models.</p>{% endif %}
{% for table in tables %}
<section id="{{ table.key }}">
<h2>{{ table.title }}</h2>
<div class="scroll"><table>
<thead><tr>{% for h in table.headers %}
<th class="{{ 'text' if loop.index0 in table.text_columns }}">{{ h }}</th>{% endfor %}</tr></thead>
<tbody>{{ table.body }}</tbody></table></div>
{% if table.note %}<p class="note">{{ table.note }}</p>{% endif %}
</section>
{% endfor %}
<h2 id="figures">Figures</h2>
{% for plot in plots %}
<figure id="fig-{{ plot.key }}">
<h3>{{ plot.title }}</h3>
<img src="data:image/png;base64,{{ plot.data }}" alt="{{ plot.title }}">
<figcaption>{{ plot.caption }} Cell files:
{% for cell, href in plot.links %}<a href="{{ href }}">{{ cell }}</a>{% endfor %}
{% if plot.more %}&hellip; and {{ plot.more }} more in the <a href="#cells">cell index</a>.{% endif %}
</figcaption>
</figure>
{% endfor %}
<section id="cells">
<h2>Cell index</h2>
<div class="scroll"><table><thead><tr><th class="text">Cell</th><th class="text">Profile</th>
<th class="text">Files</th></tr></thead><tbody>
{{ index }}</tbody></table></div>
</section>
</body>
</html>
"""
