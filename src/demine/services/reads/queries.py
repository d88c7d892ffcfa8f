"""Reading lists of records: filters, paging and counts, all through the permission predicate."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import func, or_, select

from demine.domain.actors import Actor
from demine.domain.entities import REGISTRY, entity
from demine.services.access.permissions import redact, visible
from demine.storage import dialect
from demine.storage.database import UnitOfWork
from demine.storage.tables import admin_areas, organisations, table

DATE_FIELD = {name: e.date_field for name, e in REGISTRY.items() if e.date_field}
TYPE_FIELD = {name: e.type_field for name, e in REGISTRY.items() if e.type_field}
MAX_LIMIT = 1000


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


def _where(uow: UnitOfWork, actor: Actor, layer: str, query: ListQuery) -> list:
    t = table(layer)
    clauses = [visible(actor, t)]
    if query.bbox and "geom" in t.c:
        clauses = [dialect.not_for_indexing(uow.conn, clauses[0]),
                   dialect.spatial_clause(uow.conn, t, query.bbox)]
    if query.status and "status" in t.c:
        clauses.append(t.c.status == query.status)
    if query.type and layer in TYPE_FIELD:
        clauses.append(t.c[TYPE_FIELD[layer]] == query.type)
    if query.organisation and "organisation_id" in t.c:
        clauses.append(t.c.organisation_id.in_(
            select(organisations.c.id).where(organisations.c.code == query.organisation)))
    if query.admin_area and "admin_area_id" in t.c:
        clauses.append(t.c.admin_area_id.in_(_area_and_below(uow, query.admin_area)))
    column = t.c[DATE_FIELD[layer]] if layer in DATE_FIELD else None
    if column is not None and query.date_from:
        clauses.append(column >= query.date_from)
    if column is not None and query.date_to:
        clauses.append(column <= query.date_to)
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
    t = table(layer)
    where = _where(uow, actor, layer, query)
    limit = max(1, min(query.limit, MAX_LIMIT))
    rows = uow.conn.execute(
        select(t).where(*where).order_by(t.c.id).limit(limit).offset(max(query.offset, 0))
    ).mappings()
    total = uow.conn.execute(select(func.count()).select_from(t).where(*where)).scalar_one()
    return [redact(actor, layer, dict(r)) for r in rows], total


def count_records(uow: UnitOfWork, *, actor: Actor, layer: str, query: ListQuery) -> int:
    """How many records match (what ``actor`` may see)."""
    t = table(layer)
    return uow.conn.execute(
        select(func.count()).select_from(t).where(*_where(uow, actor, layer, query))
    ).scalar_one()
