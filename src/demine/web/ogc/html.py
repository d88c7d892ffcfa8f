"""HTML pages of the OGC API (conformance class html): one small template, no scripts, no
inline styles (the app's Content-Security-Policy allows neither)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from jinja2 import DictLoader, Environment, select_autoescape
from starlette.responses import HTMLResponse

from demine.web.ogc.spec import HTML

PAGE = """<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{ title }} · demine OGC API - Features</title>
</head>
<body>
<nav><a href="{{ root }}?f=html">OGC API - Features</a>
{%- for crumb in crumbs %} › <a href="{{ crumb.href }}">{{ crumb.title }}</a>{% endfor %}</nav>
<h1>{{ title }}</h1>
{% if description %}<p>{{ description }}</p>{% endif %}
{% for line in facts %}<p>{{ line }}</p>{% endfor %}
{% if table %}
<table>
<thead><tr>{% for name in table.headers %}<th>{{ name }}</th>{% endfor %}</tr></thead>
<tbody>
{% for row in table.rows %}<tr>{% for cell in row %}<td>
{%- if cell.href %}<a href="{{ cell.href }}">{{ cell.text }}</a>
{%- else %}{{ cell.text }}{% endif -%}
</td>{% endfor %}</tr>
{% endfor %}</tbody>
</table>
{% endif %}
{% if links %}
<h2>Links</h2>
<ul>
{% for link in links %}<li><a href="{{ link.href }}">{{ link.title or link.rel }}</a>
({{ link.rel }}{% if link.type %}, {{ link.type }}{% endif %})</li>
{% endfor %}</ul>
{% endif %}
</body>
</html>
"""

_env = Environment(loader=DictLoader({"page.html": PAGE}), autoescape=select_autoescape(
    default=True, default_for_string=True))


@dataclass
class Cell:
    """One table cell, a link when ``href`` is set."""

    text: str
    href: str | None = None


@dataclass
class Table:
    """A table of cells under headers."""

    headers: list[str]
    rows: list[list[Cell]] = field(default_factory=list)


def text(value: Any) -> str:
    """A property value as table text."""
    if value is None:
        return ""
    return value.isoformat() if hasattr(value, "isoformat") else str(value)


def page(root: str, title: str, *, links: list[dict] | None = None, description: str = "",
         facts: list[str] | None = None, table: Table | None = None,
         crumbs: list[dict] | None = None, headers: dict | None = None) -> HTMLResponse:
    """An HTML page of a resource: its description, facts, a table and its links."""
    body = _env.get_template("page.html").render(
        root=root, title=title, description=description, facts=facts or [], table=table,
        links=[link for link in links or [] if link.get("rel") != "self"],
        crumbs=crumbs or [])
    return HTMLResponse(body, media_type=HTML, headers=headers)
