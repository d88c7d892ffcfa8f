"""REST lists of records (/api/v1/{layer}): their filters, run on the one list engine
(``lists``), which pages, counts and applies the permission predicate."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import func, or_, select

from demine.domain.actors import Actor
from demine.domain.entities import REGISTRY, entity
from demine.services.reads import lists
from demine.storage.database import UnitOfWork
from demine.storage.tables import admin_areas, table

DATE_FIELD = {name: e.date_field for name, e in REGISTRY.items() if e.date_field}
TYPE_FIELD = {name: e.type_field for name, e in REGISTRY.items() if e.type_field}
MAX_LIMIT = 1000  # documented: the limit parameter of /api/v1/{layer}


@dataclass(frozen=True)
class ListQuery:
    """What a list asks for."""

    bbox: tuple[float, float, float, float] | None = None
    status: str | None = None
    type: str | None = None
    organisation: str | None = None
    admin_area: str | None = None
    date_from: date | None = None
    date_to: date | None = None
    q: str | None = None
    limit: int = 100
    offset: int = 0


def _clauses(uow: UnitOfWork, layer: str, query: ListQuery) -> list:
    """The REST filters, each ignored by a layer without the field it reads."""
    t = table(layer)
    clauses = []
    if query.status and "status" in t.c:
        clauses.append(lists.property_is(layer, "status", query.status))
    if query.type and layer in TYPE_FIELD:
        clauses.append(lists.property_is(layer, TYPE_FIELD[layer], query.type))
    if query.organisation and "organisation_id" in t.c:
        clauses.append(lists.property_is(layer, "organisation", query.organisation))
    if query.admin_area and "admin_area_id" in t.c:
        clauses.append(t.c.admin_area_id.in_(_area_and_below(uow, query.admin_area)))
    clauses += lists.dated(layer, DATE_FIELD.get(layer), query.date_from, query.date_to,
                           keep_undated=True)
    if query.q:
        texts = [func.lower(t.c[c]).contains(query.q.lower(), autoescape=True)
                 for c in ("code", "name") if c in t.c]
        clauses.append(or_(*texts))
    return clauses


def _area_and_below(uow: UnitOfWork, code: str) -> list[int]:
    """The admin area with this code and every area inside it (its districts, …)."""
    rows = uow.conn.execute(select(admin_areas.c.id, admin_areas.c.parent_id,
                                   admin_areas.c.code)).all()
    found = {r.id for r in rows if r.code == code}
    frontier = set(found)
    while frontier:
        frontier = {r.id for r in rows if r.parent_id in frontier} - found
        found |= frontier
    return sorted(found)


def list_records(
    uow: UnitOfWork, *, actor: Actor, layer: str, query: ListQuery
) -> tuple[list[dict[str, Any]], int]:
    """One page of the records ``actor`` may see, and how many match in all."""
    entity(layer)
    where = lists.where(uow, actor, layer, bbox=query.bbox,
                        clauses=_clauses(uow, layer, query))
    return lists.page(uow, actor=actor, layer=layer, where=where, limit=query.limit,
                      offset=query.offset, max_limit=MAX_LIMIT)


# Records that point at others worth listing on their page (not reference data's).
RELATED_FROM = frozenset({"activities", "land_releases", "eo_finds", "accidents", "casualties",
                          "eore_beneficiaries", "qa_inspections", "non_conformities"})


def related_records(uow: UnitOfWork, *, actor: Actor, layer: str, record_id: int,
                    limit: int = 50) -> list[dict[str, Any]]:
    """The records of other layers that refer to record ``record_id`` of ``layer`` (an
    activity's hazard, a find's activity...), as ``actor`` may see them: per layer and
    field, ``{"layer", "field", "rows", "total"}`` (the first ``limit`` rows, in id order)."""
    found = []
    for name in sorted(RELATED_FROM):
        for field in REGISTRY[name].fields:
            if field.kind != "ref" or field.ref != layer:
                continue
            t = table(name)
            where = lists.where(uow, actor, name, clauses=[t.c[field.name] == record_id])
            rows, total = lists.page(uow, actor=actor, layer=name, where=where, limit=limit,
                                     offset=0, max_limit=limit)
            if total:
                found.append({"layer": name, "field": field.name, "rows": rows,
                              "total": total})
    return found
