"""The dashboard page: headline land-release figures and charts with their tables, for a
period and an organisation given in the URL. The figures come from
``services.reads.dashboard``; this module parses the filters and labels what is shown."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from fastapi import APIRouter, Request
from starlette.datastructures import QueryParams
from starlette.responses import Response

from demine.formats.styles import STYLES
from demine.services.loading.reference_data import list_organisations
from demine.services.reads.dashboard import MONTH, RELEASED, Period, dashboard
from demine.web.ui.i18n import N_, gettext, period_label
from demine.web.ui.render import page
from demine.web.ui.session import visitor

router = APIRouter(include_in_schema=False)

LEDGER_LABELS = {"baseline_m2": N_("Baseline"), "cancelled_m2": N_("Cancelled (NTS)"),
                 "reduced_m2": N_("Reduced (TS)"), "cleared_m2": N_("Cleared"),
                 "remaining_m2": N_("Remaining")}
ROLE_LABELS = {"civilian": N_("Civilian"), "deminer": N_("Deminer"),
               "military": N_("Military")}
SEX_LABELS = {"female": N_("Female"), "male": N_("Male"), "unknown": N_("Sex not recorded")}
AGE_LABELS = {"0-17": N_("0–17 years"), "18-59": N_("18–59 years"),
              "60+": N_("60 years and over"), "unknown": N_("Age not recorded")}
EO_LABELS = {c.value: c.label for c in STYLES["eo_finds"].categories}
EO_COLOURS = {c.value: c.colour for c in STYLES["eo_finds"].categories}
RELEASE_COLOURS = {f"{c.value}_m2": c.colour for c in STYLES["land_releases"].categories}
ROLE_COLOURS = {"civilian": "#0b5cad", "deminer": "#b35c00", "military": "#4f5b66"}
SEX_COLOURS = {"female": "#6b3fa0", "male": "#0a6b5e", "unknown": "#808080"}
DISABILITY = {False: N_("%(group)s, without disability"),
              True: N_("%(group)s, with disability")}
YEAR = re.compile(r"^\d{4}$")


@dataclass
class Filters:
    """The period and organisation asked for in the URL, and what could not be read."""

    year: str = ""
    start: str = ""
    end: str = ""
    org: str = ""
    organisation_id: int | None = None
    problems: list[str] = field(default_factory=list)

    @property
    def period(self) -> Period:
        """The months asked for."""
        if self.year:
            return Period.year(int(self.year))
        return Period(self.start or None, self.end or None)


def read_filters(params: QueryParams, organisations: list[dict[str, Any]]) -> Filters:
    """``year`` or ``from``/``to`` (YYYY-MM) and ``org`` (a code); what is not understood is
    left out and named."""
    found = Filters()
    year, start, end = (params.get(k, "").strip() for k in ("year", "from", "to"))
    if year and YEAR.match(year) and "1900" <= year <= "9998":
        found.year = year
    elif year:
        found.problems.append(N_("Year"))
    for name, value, label in (("start", start, N_("From")), ("end", end, N_("To"))):
        if value and MONTH.match(value):
            setattr(found, name, value)
        elif value:
            found.problems.append(label)
    if found.start and found.end and found.start > found.end:
        found.start, found.end = found.end, found.start
    if found.year:
        found.start = found.end = ""
    code = params.get("org", "").strip()
    ids = {o["code"]: o["id"] for o in organisations}
    if code in ids:
        found.org, found.organisation_id = code, ids[code]
    elif code:
        found.problems.append(N_("Organisation"))
    return found


@router.get("/dashboard")
def dashboard_page(request: Request) -> Response:
    """Headline figures and charts of what the visitor may see (anonymous: public data)."""
    seen = visitor(request)
    with request.app.state.database.read() as uow:
        organisations = list_organisations(uow)
        filters = read_filters(request.query_params, organisations)
        figures = dashboard(uow, actor=seen.actor, organisation_id=filters.organisation_id,
                            period=filters.period)
    return page(request, seen, "dashboard.html", current="dashboard", figures=figures,
                filters=filters, organisations=organisations, chart_data=chart_data,
                ledger_labels=LEDGER_LABELS, role_labels=ROLE_LABELS, sex_labels=SEX_LABELS,
                age_labels=AGE_LABELS, eo_labels=EO_LABELS, period_label=period_label,
                as_of=datetime.now(UTC))


def chart_data(figures: dict[str, Any]) -> dict[str, Any]:
    """What the page's script draws, in the page's language: the tables' figures."""
    released, regions = figures["released"], figures["remaining_by_region"]["groups"]
    casualties = figures["casualties_over_time"]
    eo = figures["headline"]["eo_destroyed"]
    return {
        "released": _chart([period_label(g["group"]) for g in released], [
            _series(LEDGER_LABELS[k], RELEASE_COLOURS[k], [g[k] for g in released])
            for k in RELEASED], stacked=True, unit="m²"),
        "remaining": _chart([g["group"] for g in regions], [_series(
            LEDGER_LABELS["remaining_m2"], "#c0392b", [g["remaining_m2"] for g in regions])],
            horizontal=True, unit="m²"),
        "eo": _chart([gettext(EO_LABELS[c]) for c in eo], [_series(
            N_("EO destroyed"), [EO_COLOURS[c] for c in eo], list(eo.values()))]),
        "casualties": _chart([period_label(k) for k in casualties], [
            _series(label, ROLE_COLOURS[role], [g[role] for g in casualties.values()])
            for role, label in ROLE_LABELS.items()], stacked=True),
        "eore": _eore_chart(figures["eore"]),
    }


def _eore_chart(rows: list[dict[str, Any]]) -> dict[str, Any]:
    """Age bands along the axis; a stack per sex, split by disability."""
    bands = [b for b in AGE_LABELS if any(r["count"] for r in rows if r["age_band"] == b)]
    datasets = []
    for sex, label in SEX_LABELS.items():
        for disabled in (False, True):
            counts = {r["age_band"]: r["count"] for r in rows
                      if r["sex"] == sex and r["disability"] is disabled}
            name = gettext(DISABILITY[disabled]) % {"group": gettext(label)}
            if any(counts.values()):
                datasets.append({**_series(name, SEX_COLOURS[sex], [counts[b] for b in bands]),
                                 "stack": sex, "hatched": disabled})
    return _chart([gettext(AGE_LABELS[b]) for b in bands], datasets, stacked=True)


def _series(label: str, colour: str | list[str], data: list) -> dict[str, Any]:
    return {"label": gettext(label), "colour": colour, "data": data}


def _chart(labels: list[str], datasets: list[dict], *, stacked: bool = False,
           horizontal: bool = False, unit: str = "") -> dict[str, Any]:
    return {"labels": labels, "datasets": datasets, "stacked": stacked,
            "horizontal": horizontal, "unit": unit}

