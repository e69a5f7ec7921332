"""The report's Jinja template: one page, inline CSS, figures as PNG data URIs, no script, no network."""

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
<tbody>{% for row in table.rows %}{% set link = table.links[loop.index0] if table.links else "" %}
<tr>{% for value in row %}{% set cls = 'text' if loop.index0 in table.text_columns else '' %}
{%- if loop.first and link %}<td class="{{ cls }}"><a href="{{ link }}">{{ value }}</a></td>
{%- else %}<td class="{{ cls }}">{{ value }}</td>{% endif %}{% endfor %}</tr>{% endfor %}
</tbody></table></div>
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
{% for cell, arm, href in index %}<tr><td class="text">{{ cell }}</td><td class="text">{{ arm }}</td>
<td class="text"><a href="{{ href }}">{{ href }}</a></td></tr>{% endfor %}
</tbody></table></div>
</section>
</body>
</html>
"""
