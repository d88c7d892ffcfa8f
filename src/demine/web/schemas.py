"""API schemas named by role (HazardCreate, HazardUpdate, HazardPublic), made from the entity
descriptions of the domain so that a field is declared once."""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, create_model

from demine.domain.entities import ENTITIES, Entity
from demine.web.openapi_schemas import CODE_MAX, NOT_BLANK, geometry_type, value_type

ORGANISATION_NOTE = ("The owning organisation (id or code). Left out, the signed-in user's own "
                     "organisation; administrators, who have none, must give it (422).")
# How records come back: codes lists as stored (comma-separated), references as ids.
_PUBLIC_KINDS: dict[str, Any] = {"text": str, "int": int, "float": float, "date": dt.date,
                                 "bool": bool, "code": str, "codes": str, "ref": int | str}


class Page(BaseModel):
    """Paging of a list."""

    total: int
    limit: int
    offset: int
    next: str | None = None


class ReviewDecision(BaseModel):
    """An authority's decision on submitted data; a rejection needs a reason
    (services/records/review refuses one without, naming ``reason``)."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={
        "if": {"properties": {"decision": {"const": "reject"}}},
        "then": {"required": ["reason"],
                 "properties": {"reason": {"type": "string", "pattern": NOT_BLANK}}}})
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


def _camel(name: str) -> str:
    return "".join(part.title() for part in name.split("_"))


def _write_fields(ent: Entity, *, create: bool) -> dict[str, Any]:
    """Body fields: on create, the entity's required fields (and its geometry, where required)
    must be there; on update (a JSON merge patch) any may be left out, but ``null`` clears
    only what may be empty."""
    fields: dict[str, Any] = {
        "code": (str | None, Field(default=None, max_length=CODE_MAX))}
    for f in ent.fields:
        if f.name == "organisation_id":  # the caller's own organisation when left out
            fields[f.name] = _slot(value_type(f), required=False, create=create,
                                   description=ORGANISATION_NOTE)
        else:
            fields[f.name] = _slot(value_type(f), required=f.required, create=create)
    if ent.geometry:
        fields["geometry"] = _slot(geometry_type(ent.geometry), required=ent.geometry_required,
                                   create=create)
    if ent.name == "activities":
        fields["released_geometry"] = _slot(
            geometry_type(ent.geometry), required=False, create=create,
            description="The ground this activity releases (cancelled, reduced or cleared): "
                        "inside its hazard.")
    return fields


def _slot(annotation: Any, *, required: bool, create: bool, description: str | None = None):
    if required and create:
        return (annotation, Field(..., description=description))
    if required:
        return (annotation, Field(default=None, description=description))
    return (annotation | None, Field(default=None, description=description))


def _public_fields(ent: Entity) -> dict[str, Any]:
    fields: dict[str, Any] = {"id": (int, ...), "code": (str, ...)}
    for f in ent.fields:
        fields[f.name] = (_PUBLIC_KINDS[f.kind] | None, None)
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
    create = create_model(f"{base}Create", __config__=strict,
                          **_write_fields(ent, create=True))
    updates = create_model(f"{base}Update", __config__=strict,
                           **_write_fields(ent, create=False))
    public = create_model(f"{base}Public", __config__=ConfigDict(extra="allow"),
                          **_public_fields(ent))
    return create, updates, public


MODELS = {name: models_for(ent) for name, ent in ENTITIES.items()}
