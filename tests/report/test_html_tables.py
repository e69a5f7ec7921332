"""Table bodies and the cell index are written in Python now, exactly as the Jinja loops wrote them."""

from __future__ import annotations

import jinja2

from ralph.bench.tables import Table
from ralph.report.html import _body, _index, _text_columns

TABLE_LOOP = """<tbody>{% for row in table.rows %}{% set link = table.links[loop.index0]
  if table.links else "" %}
<tr>{% for value in row %}{% set cls = 'text' if loop.index0 in table.text_columns else '' %}
{%- if loop.first and link %}<td class="{{ cls }}"><a href="{{ link }}">{{ value }}</a></td>
{%- else %}<td class="{{ cls }}">{{ value }}</td>{% endif %}{% endfor %}</tr>{% endfor %}
</tbody>"""
INDEX_LOOP = """<tbody>
{% for cell, arm, href in index %}<tr><td class="text">{{ cell }}</td><td class="text">{{ arm }}</td>
<td class="text"><a href="{{ href }}">{{ href }}</a></td></tr>{% endfor %}
</tbody>"""
ODD = ("", "-", "12", "$4.50", "-3.5", "<b>&'\"</b>", "caf\u00e9 \u2603", "a/b c", "100.0%", "x y")


def _render(template: str, **values: object) -> str:
    env = jinja2.Environment(autoescape=True, undefined=jinja2.StrictUndefined, trim_blocks=True)
    return env.from_string(template).render(**values)


def test_table_body_as_the_template_wrote_it() -> None:
    rows = tuple(tuple(ODD[(i * 3 + j) % len(ODD)] for j in range(6)) for i in range(25))
    for links in ((), tuple(ODD[i % len(ODD)] + "/" if i % 4 else "" for i in range(25))):
        table = Table("k", "t", ("A", "B", "C", "D", "E", "F"), rows, links=links)
        text_columns = _text_columns(table.rows)
        view = {"rows": table.rows, "links": table.links, "text_columns": text_columns}
        expected = _render(TABLE_LOOP, table=view)
        assert f"<tbody>{_body(rows, links, text_columns)}</tbody>" == expected
    numeric = (("1", "-", ""), ("$2", "3.5%", "-"))
    assert _text_columns(numeric) == set() and _text_columns(((*numeric[0], "x"), numeric[1])) == {3}
    assert _body((), (), set()) == ""


def test_cell_index_as_the_template_wrote_it() -> None:
    index = [(ODD[i % len(ODD)], ODD[(i + 5) % len(ODD)], ODD[(i + 2) % len(ODD)] + "/") for i in range(12)]
    assert f"<tbody>\n{_index(index)}</tbody>" == _render(INDEX_LOOP, index=index)
