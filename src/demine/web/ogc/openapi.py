"""The OpenAPI 3.0 description of /ogc (conformance class oas30), one path per collection.

GDAL and QGIS read it: the ``limit`` parameter's default and maximum set their page size, and
the items parameters declared with style form / explode false become server-side filters.
"""

from __future__ import annotations

from demine import __version__
from demine.services.reads.features import MAX_LIMIT, filterable, writable_properties
from demine.web.ogc.params import DEFAULT_LIMIT
from demine.web.ogc.spec import COLLECTIONS, GEOJSON, JSON, MERGE_PATCH, OPENAPI

_SCHEMA = {"integer": {"type": "integer"}, "number": {"type": "number"},
           "boolean": {"type": "boolean"}, "date": {"type": "string", "format": "date"},
           "string": {"type": "string"}}
_OBJECT = {"type": "object"}


def _query(name: str, schema: dict, description: str, *, form: bool = True) -> dict:
    out = {"name": name, "in": "query", "required": False, "description": description,
           "schema": schema}
    if form:  # explode false: a comma-separated value (QGIS reads these as filters)
        out.update(style="form", explode=False)
    return out


PARAMETERS = {
    "limit": _query("limit", {"type": "integer", "minimum": 1, "maximum": MAX_LIMIT,
                              "default": DEFAULT_LIMIT},
                    "Features per page (larger values are served as the maximum)."),
    "offset": _query("offset", {"type": "integer", "minimum": 0, "default": 0},
                     "Features to skip (the next link carries it).", form=False),
    "bbox": _query("bbox", {"type": "array", "minItems": 4, "maxItems": 6,
                            "items": {"type": "number"}},
                   "Lower and upper corner, in the axis order of bbox-crs (CRS84: lon,lat)."),
    "bbox-crs": _query("bbox-crs", {"type": "string", "format": "uri"}, "CRS of bbox."),
    "crs": _query("crs", {"type": "string", "format": "uri"}, "CRS of the response."),
    "datetime": _query("datetime", {"type": "string"},
                       "Instant or interval (../2025-01-01) on the collection's date field."),
    "f": _query("f", {"type": "string", "enum": ["json", "html"]}, "Response format.",
                form=False),
    "featureId": {"name": "featureId", "in": "path", "required": True,
                  "schema": {"type": "string"}, "description": "The feature's id."},
    "If-Match": {"name": "If-Match", "in": "header", "required": True,
                 "schema": {"type": "string"}, "description": "The feature's current ETag."},
    "Content-Crs": {"name": "Content-Crs", "in": "header", "required": False,
                    "schema": {"type": "string"},
                    "description": "CRS of the body's geometry, as <uri> (default CRS84)."},
}


def _ok(media: str, description: str = "OK") -> dict:
    return {"description": description, "content": {media: {"schema": _OBJECT}}}


def _ref(name: str) -> dict:
    return {"$ref": f"#/components/parameters/{name}"}


def _get(summary: str, media: str, params: list | None = None) -> dict:
    return {"get": {"summary": summary, "parameters": [*(params or []), _ref("f")],
                    "responses": {"200": _ok(media),
                                  "default": {"description": "An error"}}}}


def _items(collection: str) -> dict:
    names = ("limit", "offset", "bbox", "bbox-crs", "crs", "datetime")
    properties = [_query(name, _SCHEMA[kind], f"Features whose {name} equals the value.")
                  for name, kind in filterable(collection).items()]
    path = _get(f"Features of {collection}", GEOJSON, [*(_ref(n) for n in names), *properties])
    path["options"] = {"summary": "Methods the caller may use", "responses": {"200": {
        "description": "The Allow header lists them"}}}
    if writable_properties(collection):
        path["post"] = {"summary": f"Create a feature in {collection}",
                        "parameters": [_ref("Content-Crs")],
                        "requestBody": {"required": True,
                                        "content": {GEOJSON: {"schema": _OBJECT}}},
                        "responses": {"201": _ok(GEOJSON, "Created; Location and ETag set")}}
    return path


def _item(collection: str) -> dict:
    path = _get(f"One feature of {collection}", GEOJSON, [_ref("featureId"), _ref("crs")])
    path["options"] = {"summary": "Methods the caller may use on this feature",
                       "parameters": [_ref("featureId")],
                       "responses": {"200": {"description": "The Allow header lists them"}}}
    if not writable_properties(collection):
        return path
    write = [_ref("featureId"), _ref("If-Match")]
    path["put"] = {"summary": "Replace the feature", "parameters": [*write, _ref("Content-Crs")],
                   "requestBody": {"required": True, "content": {GEOJSON: {"schema": _OBJECT}}},
                   "responses": {"200": _ok(GEOJSON)}}
    path["patch"] = {"summary": "Update the feature (JSON merge patch)",
                     "parameters": [*write, _ref("Content-Crs")],
                     "requestBody": {"required": True,
                                     "content": {MERGE_PATCH: {"schema": _OBJECT}}},
                     "responses": {"200": _ok(GEOJSON)}}
    path["delete"] = {"summary": "Delete the feature", "parameters": write,
                      "responses": {"204": {"description": "Deleted"}}}
    return path


def document(root: str) -> dict:
    """The OpenAPI 3.0 document of the OGC API served at ``root``."""
    paths = {"/": _get("Landing page", JSON), "/conformance": _get("Conformance", JSON),
             "/api": _get("This API description", OPENAPI),
             "/collections": _get("Feature collections", JSON)}
    for collection in COLLECTIONS:
        paths[f"/collections/{collection}"] = _get(f"The {collection} collection", JSON)
        paths[f"/collections/{collection}/items"] = _items(collection)
        paths[f"/collections/{collection}/items/{{featureId}}"] = _item(collection)
    return {
        "openapi": "3.0.3",
        "info": {"title": "demine OGC API - Features", "version": __version__,
                 "description": "Mine action data: hazards, land release, EO finds. Sign in "
                                "with Authorization: Bearer <token> (POST /api/v1/auth/token)."},
        "servers": [{"url": root}],
        "paths": paths,
        "components": {
            "parameters": PARAMETERS,
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
        },
        "security": [{}, {"bearer": []}],
        "externalDocs": {"description": "This description as HTML",
                         "url": f"{root}/api?f=html"},
    }
