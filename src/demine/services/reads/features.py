"""Feature layers for OGC API - Features: filtered pages, extents, replacement, allowed verbs.

Pages run on the one list engine (``lists``), through the one permission predicate
(``visible``); writes go through services.records.crud, so the ledger, review, history
and audit rules apply to every feature written over OGC API.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import Boolean, Date, Float, Integer, String, Text, func, select

from demine.domain.actors import Actor
from demine.domain.dates import day_problem
from demine.domain.entities import ENTITIES, REGISTRY, entity
from demine.domain.errors import Invalid, NotFound, Problem
from demine.domain.validation import field_aliases
from demine.services.access.permissions import visible
from demine.services.access.require import allowed
from demine.services.audit_cache import AuditHeadCache
from demine.services.loading.reference_data import organisation_codes  # noqa: F401  (used by /ogc)
from demine.services.reads import lists
from demine.services.reads.queries import DATE_FIELD
from demine.services.records import crud
from demine.storage import dialect
from demine.storage.database import UnitOfWork
from demine.storage.tables import LAYERS, table

MAX_LIMIT = 10_000  # documented: the limit parameter of /ogc/collections/{id}/items
MAX_INT = 2**31 - 1
# Derived layers (land releases: booked by activities through the ledger) are read-only.
READ_ONLY_LAYERS = frozenset(n for n, e in REGISTRY.items() if e.written_through)
_SIMPLE = (Integer, Float, String, Text, Date, Boolean)


@dataclass(frozen=True)
class FeatureQuery:
    """What a page of features asks for; bbox in lon/lat (CRS84)."""

    bbox: tuple[float, float, float, float] | None = None
    datetime: tuple[date | None, date | None] | None = None  # (from, to), open ends None
    properties: tuple[tuple[str, str], ...] = ()
    limit: int = 10
    offset: int = 0


def date_field(layer: str) -> str | None:
    """The column that dates a feature of ``layer`` (None for gazetteer layers)."""
    return DATE_FIELD.get(layer) if layer in LAYERS else None


def filterable(layer: str) -> dict[str, str]:
    """Properties a page may be filtered on by equality, with their kind (integer, number,
    boolean, date or string): the simple columns, and organisation by its code."""
    t = _layer_table(layer)
    kinds = {c.name: _kind(c.type) for c in t.c
             if c.name != "geom" and isinstance(c.type, _SIMPLE)}
    if "organisation_id" in t.c:
        kinds["organisation"] = "string"
    return kinds


def _kind(kind) -> str:
    for sql_type, name in ((Boolean, "boolean"), (Integer, "integer"), (Float, "number"),
                           (Date, "date")):
        if isinstance(kind, sql_type):
            return name
    return "string"


def list_features(
    uow: UnitOfWork, *, actor: Actor, layer: str, query: FeatureQuery,
    geometry_text: bool = False, counts: AuditHeadCache[int] | None = None,
) -> tuple[list[dict[str, Any]], int]:
    """One page of the features ``actor`` may see, and how many match in all.

    With ``geometry_text``, a store that writes GeoJSON itself (PostGIS) gives each row's
    geometry as its GeoJSON text in lon/lat under ``geom_geojson`` instead of ``geom``.
    ``counts`` keeps how many match until anything changes (see ``lists.page``)."""
    _layer_table(layer)
    clauses = [] if query.datetime is None else lists.dated(
        layer, date_field(layer), *query.datetime, keep_undated=False)  # undated: never met
    clauses += [_equals(layer, name, value) for name, value in query.properties]
    where = lists.where(uow, actor, layer, bbox=query.bbox, clauses=clauses)
    return lists.page(uow, actor=actor, layer=layer, where=where, limit=query.limit,
                      offset=query.offset, max_limit=MAX_LIMIT, geometry_text=geometry_text,
                      counts=counts, count_key=(query.bbox, query.datetime, query.properties))


def _equals(layer: str, name: str, value: str):
    t = table(layer)
    if name == "organisation" and "organisation_id" in t.c:
        return lists.property_is(layer, name, value)
    if name not in filterable(layer):
        raise Invalid(Problem("request", name, f"{layer} has no property {name!r} to filter on"))
    try:
        return lists.property_is(layer, name, _typed(t.c[name].type, value))
    except ValueError as exc:
        raise Invalid(Problem("request", name, str(exc))) from None


def _typed(kind, value: str):
    if isinstance(kind, Boolean):
        if value.lower() not in ("true", "false", "1", "0"):
            raise ValueError(f"expected true or false, got {value!r}")
        return value.lower() in ("true", "1")
    if isinstance(kind, Integer):
        number = int(value)
        if abs(number) > MAX_INT:
            raise ValueError(f"{value} is out of range")
        return number
    if isinstance(kind, Float):
        number = float(value)
        if not math.isfinite(number):
            raise ValueError(f"expected a finite number, got {value!r}")
        return number
    if isinstance(kind, Date):
        try:
            day = date.fromisoformat(value)
        except ValueError:
            raise ValueError(f"bad date {value!r}: expected YYYY-MM-DD") from None
        reason = day_problem(day)
        if reason:
            raise ValueError(reason)
        return day
    return value


def layer_extent(
    uow: UnitOfWork, *, actor: Actor, layer: str
) -> tuple[tuple[float, float, float, float] | None, tuple[date, date] | None]:
    """The lon/lat bounding box and the date range of the features ``actor`` may see."""
    t = _layer_table(layer)
    bbox = dialect.indexed_envelope(uow.conn, t, visible(actor, t))
    name = date_field(layer)
    period = None
    if name is not None:
        period = tuple(uow.conn.execute(
            select(func.min(t.c[name]), func.max(t.c[name])).where(visible(actor, t))).one())
    return (bbox,
            None if period is None or period[0] is None else tuple(_as_date(v) for v in period))


def _as_date(value) -> date:
    return value if isinstance(value, date) else date.fromisoformat(str(value)[:10])


def region_bounds(
    uow: UnitOfWork, *, actor: Actor
) -> tuple[float, float, float, float] | None:
    """The gazetteer's lon/lat bounds plus the configured margin: the region the store covers."""
    bbox, _ = layer_extent(uow, actor=actor, layer="admin_areas")
    if bbox is None:
        return None
    margin = uow.settings.extent_margin_deg
    return bbox[0] - margin, bbox[1] - margin, bbox[2] + margin, bbox[3] + margin


def writable_properties(layer: str) -> frozenset[str]:
    """Property names a feature of ``layer`` may be written with."""
    if layer in READ_ONLY_LAYERS or layer not in ENTITIES:
        return frozenset()
    names = set(field_aliases(entity(layer))) | {"code"}
    if layer == "activities":
        names.add("released_geometry")
    return frozenset(names)


def readable_properties(layer: str) -> frozenset[str]:
    """Property names a feature of ``layer`` is served with (server-managed ones included)."""
    t = _layer_table(layer)
    names = {c.name for c in t.c if c.name != "geom"} | {"id"}
    if "organisation_id" in t.c:
        names.add("organisation")
    return frozenset(names)


def allowed_methods(
    uow: UnitOfWork, *, actor: Actor, layer: str, record_id: int | None = None
) -> list[str]:
    """HTTP verbs ``actor`` may use on a layer's items (no id) or on one visible feature."""
    _layer_table(layer)
    verbs = ["GET", "HEAD", "OPTIONS"]
    writable = bool(writable_properties(layer))
    if record_id is None:
        if writable and allowed(actor, "record.create", layer=layer):
            verbs.append("POST")
        return verbs
    row = crud.get_record(uow, actor=actor, layer=layer, record_id=record_id)
    if writable and allowed(actor, "record.update", row, layer=layer):
        verbs += ["PUT", "PATCH"]
    if writable and allowed(actor, "record.delete", row, layer=layer):
        verbs.append("DELETE")
    return verbs


def replace_feature(
    uow: UnitOfWork, *, actor: Actor, layer: str, record_id: int, data: dict[str, Any],
    expected_version: int | None = None,
) -> dict[str, Any]:
    """Replace a feature: properties left out are cleared, except those that cannot be empty."""
    ent = entity(layer)
    t = table(layer)
    changes: dict[str, Any] = {}
    for f in ent.fields:
        alias = f.name.removesuffix("_id")
        if f.name not in data and alias not in data and t.c[f.name].nullable:
            changes[f.name] = None
    changes.update(data)
    return update_feature(uow, actor=actor, layer=layer, record_id=record_id, changes=changes,
                          expected_version=expected_version)


def update_feature(
    uow: UnitOfWork, *, actor: Actor, layer: str, record_id: int, changes: dict[str, Any],
    expected_version: int | None = None,
) -> dict[str, Any]:
    """Apply a merge patch to a feature; null on a field that cannot be empty is refused."""
    ent = entity(layer)
    t = table(layer)
    aliases = field_aliases(ent)
    changes = dict(changes)
    if changes.get("review_status", "") is None:
        del changes["review_status"]  # the review workflow decides it
    problems = [
        Problem(f"{ent.label} {record_id}", key, "may not be empty")
        for key, value in changes.items()
        if value is None and key in aliases and not t.c[aliases[key]].nullable
        and not ent.field(aliases[key]).required  # required fields report themselves
    ]
    if problems:
        raise Invalid(problems)
    return crud.update_record(uow, actor=actor, layer=layer, record_id=record_id,
                                 changes=changes, expected_version=expected_version)


def _layer_table(layer: str):
    if layer not in LAYERS:
        raise NotFound(f"no feature layer {layer!r}")
    return table(layer)
