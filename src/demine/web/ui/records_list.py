"""The record lists: ``/records`` (every layer the user may read, with how many records it
sees) and ``/records/{layer}`` (a table of one layer, filtered, searched and paged from the
URL, with a CSV download of what the filters select).

Rows come from ``services.reads.queries.list_records`` (the API's list, through the one
permission predicate): no SQL and no permission logic here.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from datetime import date
from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, Request
from starlette.responses import Response

from demine.domain.entities import ENTITIES, RECORD
from demine.domain.errors import Invalid
from demine.services.access.require import allowed
from demine.services.loading.reference_data import list_organisations, organisation_codes
from demine.services.reads.queries import DATE_FIELD, MAX_LIMIT, TYPE_FIELD, ListQuery, list_records
from demine.storage.tables import table
from demine.web.ui import map_style
from demine.web.ui.errors import error_page
from demine.web.ui.i18n import N_
from demine.web.ui.render import page
from demine.web.ui.session import visitor
from demine.web.ui.vocabulary import coded_label, options

router = APIRouter(include_in_schema=False)
PAGE = 50
# Beside the code, type, status, date and organisation: the figures a list is read for.
FIGURES = {"hazards": ("baseline_m2", "remaining_m2"), "land_releases": ("area_m2",),
           "eo_finds": ("quantity",), "eore_sessions": ("beneficiaries",),
           "qa_inspections": ("area_sampled_m2",), "places": ("population",),
           "teams": ("size",), "eore_beneficiaries": ("count",)}
HEADINGS = {"code": N_("Code"), "name": N_("Name"), "status": N_("Status"),
            "organisation": N_("Organisation"), "review_status": N_("Review"),
            "baseline_m2": N_("Baseline (m²)"), "remaining_m2": N_("Remaining (m²)"),
            "area_m2": N_("Area (m²)"), "quantity": N_("Quantity"),
            "beneficiaries": N_("Beneficiaries"), "area_sampled_m2": N_("Area sampled (m²)"),
            "population": N_("Population"), "size": N_("Size"), "count": N_("Count"),
            "type": N_("Type"), "date": N_("Date")}
TITLES = {"accidents": N_("Accidents"), "casualties": N_("Casualties"),
          "eore_sessions": N_("Risk education sessions"),
          "eore_beneficiaries": N_("Risk education beneficiaries"),
          "qa_inspections": N_("QA/QC inspections"), "non_conformities": N_("Non-conformities"),
          "organisations": N_("Organisations"), "teams": N_("Teams"),
          "eo_models": N_("EO models")}


def title(layer: str) -> str:
    """The layer's name as the pages show it (to translate). The lists are those of the
    API: every writable layer (land releases are listed on their hazard's page)."""
    entry = map_style.BY_NAME.get(layer)
    return entry.title if entry else TITLES.get(layer, ENTITIES[layer].label)


@dataclass(frozen=True)
class Column:
    """One column of a list: the row's key, its heading, and how its cells are shown."""

    key: str
    heading: str
    number: bool = False
    field: str | None = None  # the record's field when the column is a filterable one


def columns(layer: str) -> list[Column]:
    """What the list of ``layer`` shows, from the registry and the layer's table."""
    t = table(layer)
    found = [Column("code", HEADINGS["code"])] if "code" in t.c else []
    if "name" in t.c:
        found.append(Column("name", HEADINGS["name"]))
    if layer in TYPE_FIELD:
        found.append(Column(TYPE_FIELD[layer], HEADINGS["type"], field=TYPE_FIELD[layer]))
    if "status" in t.c:
        found.append(Column("status", HEADINGS["status"], field="status"))
    if layer in DATE_FIELD:
        found.append(Column(DATE_FIELD[layer], HEADINGS["date"]))
    if "organisation_id" in t.c:
        found.append(Column("organisation", HEADINGS["organisation"]))
    found += [Column(k, HEADINGS[k], number=True) for k in FIGURES.get(layer, ()) if k in t.c]
    if "review_status" in t.c:
        found.append(Column("review_status", HEADINGS["review_status"], field="review_status"))
    return found


@router.get("/records")
def index(request: Request) -> Response:
    """Every layer the user may read, with how many of its records the user sees."""
    seen = visitor(request)
    groups: dict[str, list[dict[str, Any]]] = {"record": [], "reference": []}
    with request.app.state.database.read() as uow:
        for name, entry in ENTITIES.items():
            _, total = list_records(uow, actor=seen.actor, layer=name, query=ListQuery(limit=1))
            groups["record" if entry.group == RECORD else "reference"].append(
                {"layer": name, "title": title(name), "total": total})
    return page(request, seen, "records_index.html", current="records", groups=groups)


def _day(params, name: str, problems: list[str]) -> date | None:
    text = params.get(name, "").strip()
    if not text:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        problems.append(name)
        return None


def _query(request: Request, layer: str, problems: list[str]) -> tuple[ListQuery, int]:
    params = request.query_params
    number = params.get("page", "1")
    number = int(number) if number.isdigit() and 0 < int(number) < 1_000_000 else 1
    text = {k: (params.get(k) or "").strip()[:200] or None
            for k in ("q", "status", "type", "organisation")}
    for key, field in (("status", "status"), ("type", TYPE_FIELD.get(layer))):
        known = {value for value, _ in options(layer, field)} if field else set()
        if text[key] and known and text[key] not in known:
            problems.append(key)  # named on the page, and left out
            text[key] = None
    query = ListQuery(q=text["q"], status=text["status"], type=text["type"],
                      organisation=text["organisation"], date_from=_day(params, "from", problems),
                      date_to=_day(params, "to", problems), limit=PAGE,
                      offset=(number - 1) * PAGE)
    return query, number


@router.get("/records/{layer}")
def layer_list(request: Request, layer: str) -> Response:
    """One layer's records the user may see: filters in the URL, paged, or as CSV."""
    seen = visitor(request)
    if layer not in ENTITIES:
        return error_page(request, 404)
    problems: list[str] = []
    query, number = _query(request, layer, problems)
    as_csv = request.query_params.get("format") == "csv"
    if as_csv:
        query = ListQuery(**{**query.__dict__, "limit": MAX_LIMIT, "offset": 0})
    try:
        with request.app.state.database.read() as uow:
            rows, total = list_records(uow, actor=seen.actor, layer=layer, query=query)
            codes = organisation_codes(uow)
            organisations = [(o["code"], o["name"]) for o in list_organisations(uow)]
    except Invalid as exc:  # a filter the layer cannot take: named, nothing listed
        problems.append(exc.problems[0].field)
        rows, total, codes, organisations = [], 0, {}, []
    shown = columns(layer)
    for row in rows:
        row["organisation"] = codes.get(row.get("organisation_id"))
    if as_csv:
        return _csv(layer, shown, rows)
    filters = {k: v for k, v in request.query_params.items()
               if k in ("q", "status", "type", "organisation", "from", "to") and v}
    pages = max(1, -(-total // PAGE))
    type_field = TYPE_FIELD.get(layer)
    return page(request, seen, "records_list.html", current="records", layer=layer,
                layer_title=title(layer), columns=shown, rows=rows, total=total,
                page_number=number, pages=pages, filters=filters,
                link=lambda **changes: "?" + urlencode({**filters, **changes}),
                statuses=options(layer, "status"),
                types=options(layer, type_field) if type_field else [],
                has_date=layer in DATE_FIELD, organisations=organisations,
                has_organisation="organisation_id" in table(layer).c,
                label=lambda name, value: coded_label(layer, name, value),
                problems=problems, csv_limit=MAX_LIMIT,
                can_create=allowed(seen.actor, "record.create", None, layer=layer))


def _csv(layer: str, shown: list[Column], rows: list[dict[str, Any]]) -> Response:
    """What the filters select (the first MAX_LIMIT rows), as stored: codes, not labels."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["id", *[c.key for c in shown]])
    for row in rows:
        writer.writerow([row["id"], *[_plain(row.get(c.key)) for c in shown]])
    return Response(out.getvalue(), media_type="text/csv; charset=utf-8", headers={
        "Content-Disposition": f'attachment; filename="{layer}.csv"',
        "Cache-Control": "no-store"})


def _plain(value: object) -> object:
    return value.isoformat() if isinstance(value, date) else ("" if value is None else value)
