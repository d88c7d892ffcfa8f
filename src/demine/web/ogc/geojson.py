"""Records as GeoJSON features and feature bodies as service input, in any supported CRS."""

from __future__ import annotations

import json
from datetime import date, datetime
from typing import Any

import numpy as np
import shapely
from shapely.geometry import mapping
from starlette.responses import JSONResponse

from demine.domain.errors import Invalid, Problem
from demine.services.reads.features import readable_properties, writable_properties
from demine.web.api.serialise import item, payload
from demine.web.ogc import crs as crs_refs
from demine.web.ogc.spec import GEOJSON, JSON


def _plain(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat().replace("+00:00", "Z")
    if isinstance(value, date):
        return value.isoformat()
    raise TypeError(f"cannot encode {type(value).__name__}")


def _named_otherwise(name: str, properties: dict[str, Any]) -> bool:
    """Whether a reference is also given under its other name (organisation / organisation_id)."""
    other = name.removesuffix("_id") if name.endswith("_id") else f"{name}_id"
    return properties.get(other) is not None


def _dumps(content: Any) -> str:
    return json.dumps(content, default=_plain, ensure_ascii=False, separators=(",", ":"))


class FeatureTexts(list):
    """Features already written as GeoJSON text, put into a response as they are."""


class OgcJSONResponse(JSONResponse):
    """JSON with dates as ISO 8601 text."""

    media_type = JSON

    def render(self, content: Any) -> bytes:
        """Compact UTF-8 JSON (a FeatureTexts value written as the JSON array it holds)."""
        texts = content.get("features") if isinstance(content, dict) else None
        if not isinstance(texts, FeatureTexts):
            return _dumps(content).encode("utf-8")
        parts = [f"{_dumps(k)}:[{','.join(texts)}]" if k == "features" else
                 f"{_dumps(k)}:{_dumps(v)}" for k, v in content.items()]
        return f"{{{','.join(parts)}}}".encode()


class GeoJSONResponse(OgcJSONResponse):
    """application/geo+json."""

    media_type = GEOJSON


def _properties(row: dict[str, Any], org_codes: dict[int, str]) -> dict[str, Any]:
    return item({k: v for k, v in row.items() if k not in ("geom", "geom_geojson")}, org_codes)


def feature(row: dict[str, Any], org_codes: dict[int, str], uri: str) -> dict[str, Any]:
    """One record as a GeoJSON feature: id as text, geometry in ``uri``, the API fields."""
    geom = crs_refs.to_crs(row.get("geom"), uri)
    return {"type": "Feature", "id": str(row["id"]),
            "geometry": mapping(geom) if geom is not None else None,
            "properties": _properties(row, org_codes)}


def feature_texts(rows: list[dict[str, Any]], org_codes: dict[int, str],
                  uri: str) -> FeatureTexts:
    """Records as the JSON text of ``feature`` (the same values), a page at a time: GEOS
    writes all the geometries in one call, where mapping() and json would build and walk a
    Python tuple per coordinate (most of a page's time). Rows whose geometry the database
    wrote already (``geom_geojson``, lon/lat: only for CRS84) are put in as they are."""
    if rows and "geom_geojson" in rows[0]:
        return FeatureTexts(
            f'{{"type":"Feature","id":{_dumps(str(row["id"]))},'
            f'"geometry":{row["geom_geojson"] or "null"},'
            f'"properties":{_dumps(_properties(row, org_codes))}}}' for row in rows)
    geoms = np.empty(len(rows), dtype=object)
    geoms[:] = [crs_refs.to_crs(row.get("geom"), uri) for row in rows]
    written = shapely.to_geojson(np.where(shapely.is_empty(geoms), None, geoms))
    texts = FeatureTexts()
    for row, geom, text in zip(rows, geoms, written, strict=True):
        if text is None:  # no geometry (null), or an empty one: as feature() writes it
            text = _dumps(mapping(geom) if geom is not None else None)
        texts.append(f'{{"type":"Feature","id":{_dumps(str(row["id"]))},"geometry":{text},'
                     f'"properties":{_dumps(_properties(row, org_codes))}}}')
    return texts


def feature_in(body: Any, layer: str, content_crs: str, *, record: str,
               mode: str = "create") -> dict[str, Any]:
    """A GeoJSON feature (a merge patch of one in mode "patch") as service input, in lon/lat.

    Server-managed properties (id, version, ledger areas, ...) are ignored, as clients send
    back what they read; names the layer does not have are refused. A null says "not given"
    when creating, and "clear it" when replacing or patching.
    """
    if not isinstance(body, dict) or (mode != "patch" and body.get("type") != "Feature"):
        raise Invalid(Problem(record, "type", "expected a GeoJSON Feature"))
    properties = body.get("properties") or {}
    if not isinstance(properties, dict):
        raise Invalid(Problem(record, "properties", "expected an object"))
    writable, known = writable_properties(layer), readable_properties(layer)
    unknown = [k for k in properties if k not in writable and k not in known]
    if unknown:
        raise Invalid([Problem(record, k, f"{layer} has no such property") for k in unknown])
    data = {k: v for k, v in properties.items() if k in writable
            and not (v is None and (mode == "create" or _named_otherwise(k, properties)))}
    if "geometry" in body:
        data["geometry"] = body["geometry"]
    data = payload(data, record)
    for name in ("geometry", "released_geom"):
        if data.get(name) is not None:
            data[name] = crs_refs.from_crs(data[name], content_crs)
    return data
