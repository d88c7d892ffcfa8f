"""The one engine for lists of records, under the REST lists (``queries``) and OGC API items
(``features``): the rows an actor may see (``visible``), narrowed by a bounding box, a date
range and properties; one page of them in id order; how many match in all.

Each adapter keeps the shape of its request and of its output, and its documented page-size
maximum (``max_limit``).
"""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import false, func, select

from demine.domain.actors import Actor
from demine.services import audit
from demine.services.access.permissions import named_on_records, redact, scope_key, visible
from demine.services.audit_cache import AuditHeadCache
from demine.storage import dialect
from demine.storage.database import UnitOfWork
from demine.storage.tables import organisations, table


def where(uow: UnitOfWork, actor: Actor, layer: str, *,
          bbox: tuple[float, float, float, float] | None = None, clauses=()) -> list:
    """The WHERE clauses of a list of ``layer``: what ``actor`` may see, the rows whose
    envelope meets ``bbox`` (lon/lat; ignored by a layer without geometry), and ``clauses``."""
    t = table(layer)
    seen = visible(actor, t)
    if bbox is None or "geom" not in t.c:
        return [seen, *clauses]
    # the spatial index drives, not the permission OR
    return [dialect.not_for_indexing(uow.conn, seen), dialect.spatial_clause(uow.conn, t, bbox),
            *clauses]


def dated(layer: str, field: str | None, start: date | None, end: date | None, *,
          keep_undated: bool) -> list:
    """Clauses keeping the rows dated ``start`` to ``end`` (both included; None: open) on
    the column ``field``; on a layer with no date field, every row (``keep_undated``) or none."""
    if field is None:
        return [] if keep_undated else [false()]
    column = table(layer).c[field]
    return ([column >= start] if start is not None else []) + \
        ([column <= end] if end is not None else [])


def property_is(layer: str, name: str, value: Any):
    """A clause keeping the rows whose property ``name`` is ``value``: a column, or
    ``organisation`` by the organisation's code."""
    t = table(layer)
    if name == "organisation" and "organisation_id" in t.c:
        codes = select(organisations.c.id).where(organisations.c.code == value)
        return t.c.organisation_id.in_(codes)
    return t.c[name] == value


def page(
    uow: UnitOfWork, *, actor: Actor, layer: str, where: list, limit: int, offset: int,
    max_limit: int, geometry_text: bool = False, counts: AuditHeadCache[int] | None = None,
    count_key: tuple = (),
) -> tuple[list[dict[str, Any]], int]:
    """One page of the rows ``where`` keeps, in id order, as ``actor`` may see them, and how
    many it keeps in all. ``limit`` is held to 1..``max_limit``, ``offset`` to 0 or more.

    The geometries of a page are decoded at once, not row by row. With ``geometry_text``, a
    store that writes GeoJSON itself (PostGIS) gives each row's geometry as its GeoJSON text
    in lon/lat under ``geom_geojson`` instead of ``geom``. ``counts`` keeps how many match
    until anything changes, under the layer, the actor's scope and ``count_key`` (what the
    list asks for, its paging left out): see ``_count``."""
    t = table(layer)
    dialect.without_jit(uow.conn)
    limit = max(1, min(limit, max_limit))
    offset = max(offset, 0)
    columns = _columns(uow, t, geometry_text) if "geom" in t.c else list(t.c)
    rows = [dict(r) for r in uow.conn.execute(
        select(*columns).where(*where).order_by(t.c.id).limit(limit).offset(offset)).mappings()]
    if rows and "geom" in rows[0]:
        for row, geom in zip(rows, dialect.decode_geometries(
                uow.conn, [r["geom"] for r in rows]), strict=True):
            row["geom"] = geom
    if len(rows) < limit and (rows or offset == 0):  # the last page: no need to count
        total = offset + len(rows)
    else:
        total = _count(uow, actor, layer, where, counts, count_key)
    return [redact(actor, layer, r) for r in rows], total


def _columns(uow: UnitOfWork, t, geometry_text: bool) -> list:
    """The columns of ``t``, its geometry as stored (decoded a page at a time) or, with
    ``geometry_text`` where the store writes it, as GeoJSON text."""
    text = dialect.geojson_text(uow.conn, t.c.geom) if geometry_text else None
    geometry = (dialect.raw_geometry(t.c.geom).label("geom") if text is None
                else text.label("geom_geojson"))
    return [geometry if c.name == "geom" else c for c in t.c]


def _count(uow: UnitOfWork, actor: Actor, layer: str, where: list,
           counts: AuditHeadCache[int] | None, count_key: tuple) -> int:
    """How many rows match. A client paging through a result, or a map asking for the same
    view again, repeats the same count for every page: on a national store counting the
    finds in a box of 0.3° scans some 57,000 rows (70-100 ms on PostGIS) where the page takes
    5 ms. ``counts`` keeps them per layer, visibility scope and query without its paging,
    until anything changes (``audit_cache``)."""
    query = select(func.count()).select_from(table(layer)).where(*where)
    if counts is None:
        return uow.conn.execute(query).scalar_one()
    head = audit.head(uow)
    key = (layer, scope_key(actor, named_on_records(uow, actor)), *count_key)
    total = counts.get(head, key)
    if total is None:
        total = uow.conn.execute(query).scalar_one()
        counts.put(head, key, total)
    return total
