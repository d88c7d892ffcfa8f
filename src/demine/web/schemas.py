"""API schemas named by role (HazardCreate, HazardUpdate, HazardPublic), made from the entity
descriptions of the domain so that a field is declared once."""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, create_model

from demine.domain.entities import ENTITIES, Entity
from demine.domain.entities import Field as EntityField


class Geometry(BaseModel):
    """A GeoJSON geometry in longitude/latitude (EPSG:4326)."""

    model_config = ConfigDict(extra="forbid")
    type: str
    coordinates: Any


class Page(BaseModel):
    """Paging of a list."""

    total: int
    limit: int
    offset: int
    next: str | None = None


class ReviewDecision(BaseModel):
    """An authority's decision on submitted data."""

    model_config = ConfigDict(extra="forbid")
    decision: Literal["approve", "reject"]
    reason: str | None = Field(default=None, max_length=2000)


class Credentials(BaseModel):
    """E-mail and password."""

    model_config = ConfigDict(extra="forbid")
    email: str = Field(max_length=254)
    password: str = Field(max_length=1000)


class AccessToken(BaseModel):
    """A bearer token for scripts."""

    access_token: str
    token_type: str = "bearer"
    expires_in: int | None = None


def _annotation(f: EntityField) -> Any:
    kinds = {"text": str, "int": int, "float": float, "date": dt.date, "bool": bool,
             "codes": str}
    if f.kind == "code" and f.vocabulary is not None:
        return Literal[tuple(m.value for m in f.vocabulary)]
    if f.kind == "ref":
        return int | str
    return kinds[f.kind]


def _camel(name: str) -> str:
    return "".join(part.title() for part in name.split("_"))


def _write_fields(ent: Entity) -> dict[str, Any]:
    fields: dict[str, Any] = {"code": (str | None, Field(default=None, max_length=48))}
    for f in ent.fields:
        fields[f.name] = (_annotation(f) | None, None)
    if ent.geometry:
        fields["geometry"] = (Geometry | None, None)
    if ent.name == "activities":
        fields["released_geometry"] = (Geometry | None, None)
    return fields


def _public_fields(ent: Entity) -> dict[str, Any]:
    fields: dict[str, Any] = {"id": (int, ...), "code": (str, ...)}
    for f in ent.fields:
        annotation = str if f.kind == "code" else _annotation(f)
        fields[f.name] = (annotation | None, None)
    if "organisation_id" in fields:
        fields["organisation"] = (str | None, None)
    if ent.geometry:
        fields["geometry"] = (dict[str, Any] | None, None)
    if ent.versioned:
        for name, annotation in (("sensitivity", str), ("review_status", str),
                                 ("review_note", str), ("version", int),
                                 ("recorded_at", dt.datetime), ("recorded_by", str)):
            fields[name] = (annotation | None, None)
    return fields


def models_for(ent: Entity) -> tuple[type[BaseModel], type[BaseModel], type[BaseModel]]:
    """(Create, Update, Public) models of an entity."""
    base = _camel(ent.name.removesuffix("s") if not ent.name.endswith("ies")
                  else ent.name[:-3] + "y")
    strict = ConfigDict(extra="forbid")
    create = create_model(f"{base}Create", __config__=strict, **_write_fields(ent))
    updates = create_model(f"{base}Update", __config__=strict, **_write_fields(ent))
    public = create_model(f"{base}Public", __config__=ConfigDict(extra="allow"),
                          **_public_fields(ent))
    return create, updates, public


MODELS = {name: models_for(ent) for name, ent in ENTITIES.items()}
