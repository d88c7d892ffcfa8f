"""Request value types made from the entity fields, GeoJSON geometry types, and the error
responses of the OpenAPI document: what the API enforces, said in its schema."""

from __future__ import annotations

import datetime as dt
import math
import re
from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, create_model

from demine.domain.entities import ENTITIES
from demine.domain.entities import Field as EntityField
from demine.services.reads.queries import TYPE_FIELD

INT_BOUNDS = (-(2**31), 2**31 - 1)  # a stored INTEGER column on PostGIS
ID_MAX = 2**31 - 1
TEXT_MAX = 10_000  # domain/validation: longer text is refused
NOT_BLANK = r"\S"  # blank text is "missing" to the services
CODE_MAX = 48

def _finite(value: Any) -> Any:
    """A coordinate that is NaN or infinite is named as such, not as out of range."""
    if isinstance(value, float) and math.isnan(value):
        raise ValueError("coordinate is not a number")
    if isinstance(value, float) and math.isinf(value):
        raise ValueError("coordinate is not finite")
    return value


Longitude = Annotated[float, BeforeValidator(_finite), Field(ge=-180, le=180)]
Latitude = Annotated[float, BeforeValidator(_finite), Field(ge=-90, le=90)]
Altitude = Annotated[float, BeforeValidator(_finite)]
Position = Annotated[tuple[Longitude, Latitude] | tuple[Longitude, Latitude, Altitude],
                     Field(description="[longitude, latitude(, altitude)] (EPSG:4326)")]
# A linear ring: four positions or more, the last one equal to the first (closure, like
# self-intersection, is not expressible in JSON Schema; the API refuses it with 422). How
# many vertices a geometry may have is a setting (DEMINE_MAX_VERTICES), checked by the API.
Ring = Annotated[list[Position], Field(min_length=4)]
COORDINATES: dict[str, Any] = {
    "Point": Position,
    "LineString": Annotated[list[Position], Field(min_length=2)],
    "Polygon": Annotated[list[Ring], Field(min_length=1)],
    "MultiPolygon": Annotated[list[Annotated[list[Ring], Field(min_length=1)]],
                              Field(min_length=1)],
}


def _geometry_model(kind: str) -> type[BaseModel]:
    return create_model(f"{kind}Geometry", __config__=ConfigDict(extra="forbid"),
                        __doc__=f"A GeoJSON {kind} in longitude/latitude (EPSG:4326).",
                        type=(Literal[kind], ...), coordinates=(COORDINATES[kind], ...))


GEOMETRY_MODELS = {kind: _geometry_model(kind) for kind in COORDINATES}


def geometry_type(kinds: tuple[str, ...]) -> Any:
    """The GeoJSON geometry of one of ``kinds``, told apart by ``type``."""
    models = tuple(GEOMETRY_MODELS[k] for k in kinds)
    if len(models) == 1:
        return models[0]
    union = models[0]
    for model in models[1:]:
        union = union | model
    return Annotated[union, Field(discriminator="type")]


def _codes_pattern(values: list[str]) -> str:
    one = "|".join(re.escape(v) for v in values)
    return rf"^\s*({one})(\s*[,;]\s*({one}))*\s*$"


def value_type(f: EntityField) -> Any:
    """The JSON type of one entity field in a request body (what domain/validation takes)."""
    if f.kind == "text":
        return Annotated[str, Field(max_length=TEXT_MAX, pattern=NOT_BLANK if f.required else None)]
    if f.kind in ("int", "float"):
        low, high = (f.minimum, f.maximum) if f.kind == "float" else (
            INT_BOUNDS[0] if f.minimum is None else int(f.minimum),
            INT_BOUNDS[1] if f.maximum is None else int(f.maximum))
        return Annotated[int if f.kind == "int" else float, Field(ge=low, le=high)]
    if f.kind == "date":
        return dt.date
    if f.kind == "bool":
        return bool
    values = [m.value for m in f.vocabulary] if f.vocabulary else []
    if f.kind == "code":
        return Literal[tuple(values)]
    if f.kind == "codes":  # a list, or the comma-separated text that imports use
        return list[Literal[tuple(values)]] | Annotated[str, Field(pattern=_codes_pattern(values))]
    # ref: the referenced record's id, or its code
    return Annotated[int, Field(ge=1, le=ID_MAX)] | Annotated[
        str, Field(min_length=1, max_length=CODE_MAX, pattern=NOT_BLANK)]


class ErrorDetail(BaseModel):
    """What went wrong: a code, a message, the field at fault and, for invalid data, every
    problem found."""

    code: str
    message: str
    field: str | None = None
    problems: list[dict[str, Any]] | None = None


class Error(BaseModel):
    """The one error shape of the API: ``{"error": {"code", "message", "field"?}}``."""

    error: ErrorDetail


ERROR_REASONS = {
    400: "The body is not JSON.",
    401: "Not signed in, or the token is invalid, expired or revoked.",
    403: "Signed in, but not allowed to do this.",
    404: "No such record, or not one the caller may see.",
    409: "Collides with stored data (a code already used, a record still referenced).",
    412: "If-Match does not match the record's current ETag.",
    413: "The body is larger than the server accepts.",
    422: "Invalid data; ``problems`` names each record, field and reason. Some rules are "
         "not expressible in JSON Schema: references to records that must exist, rings that "
         "must close and not self-intersect, places inside the gazetteer's extent, dates not "
         "in the future, released polygons inside their hazard.",
    428: "If-Match is missing: send the record's ETag.",
    429: "Too many attempts; wait and retry.",
}


def _statuses(method: str, path: str, operation: dict) -> set[int]:
    """The 4xx answers an operation of /api/v1 really gives."""
    statuses = {401, 422}
    item = "{record_id}" in path
    write = method in ("post", "patch", "delete")
    if "requestBody" in operation:
        statuses |= {400, 413}
    if path.startswith("/api/v1/auth/"):
        return statuses | ({429} if path.endswith(("/token", "/login")) else set()) | (
            {403} if path.endswith("/logout") else set())
    if item:
        statuses.add(404)
    if write or path in ("/api/v1/audit", "/api/v1/checks"):
        statuses.add(403)
    if write:
        statuses.add(409)
    if write and item:
        statuses |= {412, 428}
    return statuses


def document_errors(openapi: dict[str, Any]) -> dict[str, Any]:
    """The OpenAPI document with the error responses of every /api/v1 operation, the error
    schema, and If-Match marked required where writes require it."""
    schemas = openapi.setdefault("components", {}).setdefault("schemas", {})
    schemas["ErrorDetail"] = ErrorDetail.model_json_schema()
    schemas["Error"] = Error.model_json_schema(
        ref_template="#/components/schemas/{model}")
    schemas["Error"].pop("$defs", None)
    for name in ("HTTPValidationError", "ValidationError"):
        schemas.pop(name, None)
    content = {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}
    for path, operations in openapi.get("paths", {}).items():
        for method, operation in operations.items():
            responses = operation.setdefault("responses", {})
            if path.startswith("/tiles/"):
                statuses = {401, 404, 422}  # 404: an unknown layer
            elif path.startswith("/api/v1/"):
                statuses = _statuses(method, path, operation)
            else:
                continue
            for status in sorted(statuses):
                responses[str(status)] = {"description": ERROR_REASONS[status],
                                          "content": content}
            for parameter in operation.get("parameters", []):
                if parameter["in"] == "header" and parameter["name"].lower() == "if-match":
                    parameter["required"] = True
                    parameter["schema"] = {"type": "string", "minLength": 1}
                    parameter["description"] = "The ETag of the record as last read, or *."
    return openapi


def install(app) -> None:
    """Serve the app's OpenAPI document with the error responses documented."""
    made = app.openapi

    def openapi() -> dict[str, Any]:
        if not getattr(app.state, "openapi_documented", False):
            document_list_filters(document_errors(made()))
            app.state.openapi_documented = True
        return made()

    app.openapi = openapi


NUMBER = r"-?[0-9]+(\.[0-9]+)?"
BBOX_PATTERN = rf"^{NUMBER},{NUMBER},{NUMBER},{NUMBER}$"


def document_list_filters(openapi: dict[str, Any]) -> dict[str, Any]:
    """The list filters of each layer as the layer's vocabularies (``status``, ``type``) and
    ``bbox`` as four numbers (minx <= maxx and miny <= maxy are checked by the API: 422)."""
    for layer, ent in ENTITIES.items():
        operation = openapi["paths"].get(f"/api/v1/{layer}", {}).get("get")
        if operation is None:
            continue
        fields = {"status": ent.field("status"), "type": ent.field(TYPE_FIELD.get(layer, ""))}
        for parameter in operation.get("parameters", []):
            f = fields.get(parameter["name"])
            if f is not None and f.vocabulary is not None:
                parameter["schema"] = {"type": "string",
                                       "enum": [m.value for m in f.vocabulary]}
            if parameter["name"] == "bbox":
                parameter["schema"] = {"type": "string", "pattern": BBOX_PATTERN}
    return openapi
