"""Rows → API items: GeoJSON geometry, organisation codes, ETags."""

from __future__ import annotations

from typing import Any

import shapely
from shapely.geometry import mapping, shape

from demine.domain.errors import Invalid, Problem
from demine.domain.geometry_rules import raw_nonfinite_reason
from demine.services.audit import content_hash

INTERNAL = ("geom",)


def item(row: dict[str, Any], org_codes: dict[int, str]) -> dict[str, Any]:
    """One record as the API shows it."""
    out = {k: v for k, v in row.items() if k not in INTERNAL}
    if "geom" in row:
        out["geometry"] = mapping(row["geom"]) if row["geom"] is not None else None
    if "organisation_id" in row:
        out["organisation"] = org_codes.get(row["organisation_id"])
    return out


def etag(row: dict[str, Any]) -> str:
    """A strong validator of the record's current content."""
    return f'"{content_hash(row)[:24]}"'


def geometry_in(value: Any, field: str, record: str):
    """A shapely geometry from a GeoJSON object (None stays None)."""
    if value is None:
        return None
    if isinstance(value, dict):  # NaN would make GEOS speak of unclosed rings, and warn
        reason = raw_nonfinite_reason([value.get("coordinates"), _parts(value)])
        if reason:
            raise Invalid(Problem(record, field, reason))
    try:  # an altitude (GPS receivers give one) is dropped: records are 2D
        return shapely.force_2d(shape(value))
    except Exception as exc:  # noqa: BLE001 - any parse failure is the client's input
        raise Invalid(Problem(record, field, f"not a GeoJSON geometry: {exc}")) from None


def _parts(value: dict[str, Any]) -> list[Any]:
    parts = value.get("geometries")
    if not isinstance(parts, list):
        return []
    return [[p.get("coordinates"), _parts(p)] for p in parts if isinstance(p, dict)]


def payload(body: dict[str, Any], record: str) -> dict[str, Any]:
    """A request body as the services take it: geometries parsed, names mapped."""
    data = dict(body)
    if "geometry" in data:
        data["geometry"] = geometry_in(data["geometry"], "geometry", record)
    if "released_geometry" in data:
        data["released_geom"] = geometry_in(data.pop("released_geometry"),
                                            "released_geometry", record)
    return data
