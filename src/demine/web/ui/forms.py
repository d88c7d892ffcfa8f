"""The create and edit forms of a record: ``/records/{layer}/new`` (the fields, and the
geometry drawn on a map or pasted as GeoJSON) and ``/records/{layer}/{id}/edit``. Each field
of the layer (from the registry) is an input of its kind, filled with the stored value; what
the user wrote goes to the one write path (``services.records.crud``, as the API's POST and
PATCH, an edit naming the version the form was made from), and the server's finding about
each field is shown next to it. An edit of an approved record by an operator waits for the
authority (the record page says so). No SQL and no permission logic here.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date
from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, Request
from shapely.geometry import mapping
from starlette.concurrency import run_in_threadpool
from starlette.responses import RedirectResponse, Response

from demine.domain.entities import ENTITIES, Field
from demine.domain.errors import (
    Conflict,
    Invalid,
    NotFound,
    PermissionDenied,
    PreconditionFailed,
    Problem,
)
from demine.domain.permissions import sees_personal_data
from demine.services.access.require import allowed
from demine.services.records.crud import create_record, get_record, update_record
from demine.web.api.serialise import geometry_in
from demine.web.ui.errors import error_page
from demine.web.ui.i18n import N_
from demine.web.ui.records_list import title
from demine.web.ui.render import page
from demine.web.ui.session import Visitor, form, form_visitor, session_form_valid, visitor
from demine.web.ui.vocabulary import options

router = APIRouter(include_in_schema=False)
# Fields a form does not offer: who owns the record and where it stands in review are
# decided elsewhere (the owner at creation, the review by the authority).
NOT_EDITED = {"organisation_id", "review_status"}
LONG = {"description", "notes", "evidence_direct", "evidence_indirect", "corrective_action",
        "closure_reason"}
STALE = N_("The form had expired. Here is the record as it is now: make your change again.")
MOVED = N_("Someone changed this record while you were editing it. Here it is as it is now: "
           "check it and make your change again.")
REFUSED = N_("The record was not saved: %(reason)s")


@dataclass(frozen=True)
class Input:
    """One field of the form: its name, kind of input, value shown, choices, finding."""

    name: str
    kind: str  # text, textarea, number, date, select, codes
    value: str
    required: bool
    choices: tuple[tuple[str, str], ...] = ()
    error: str | None = None


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _kind(layer: str, field: Field) -> tuple[str, tuple[tuple[str, str], ...]]:
    if field.kind == "code" and field.vocabulary is not None:
        return "select", tuple(options(layer, field.name))
    if field.kind == "bool":
        return "select", (("true", "✓"), ("false", "✗"))
    if field.kind in ("int", "float", "ref"):
        return "number", ()
    if field.kind == "date":
        return "date", ()
    if field.kind == "codes" and field.vocabulary is not None:  # comma-separated codes
        return "text", tuple((v.value, v.value) for v in field.vocabulary)
    return ("textarea" if field.name in LONG else "text"), ()


def editable(actor, layer: str, row: dict[str, Any]) -> list[Field]:
    """The fields the form offers: the layer's own, less ownership, review and the personal
    fields the user may not read (it sees them blank, and must not blank them)."""
    personal = sees_personal_data(actor)
    return [f for f in ENTITIES[layer].fields if f.name not in NOT_EDITED and f.name in row
            and (personal or not f.sensitive)]


def _inputs(actor, layer: str, row: dict[str, Any], sent: dict[str, str] | None,
            errors: dict[str, str]) -> list[Input]:
    found = []
    for field in editable(actor, layer, row):
        kind, choices = _kind(layer, field)
        value = sent.get(field.name, "") if sent is not None else _text(row.get(field.name))
        found.append(Input(field.name, kind, value, field.required, choices,
                           errors.get(field.name)))
    return found


def _to_login(request: Request) -> RedirectResponse:
    return RedirectResponse("/login?" + urlencode({"next": request.url.path}), status_code=303)


GEOMETRY_HINT = {"Polygon": N_("Draw the area on the map: click each corner, then the first "
                               "corner again to close it."),
                 "Point": N_("Click on the map where it is."),
                 "LineString": N_("Draw the line on the map: click each point, then the last "
                                  "point again to end it.")}


EDIT_HINT = {"Polygon": N_("Click the area to select it, then drag its corners; drag a "
                            "midpoint to add a corner."),
             "Point": N_("Click the point to select it, then drag it."),
             "LineString": N_("Click the line to select it, then drag its points.")}


@router.get("/records/{layer}/new")
def new_form(request: Request, layer: str) -> Response:
    """An empty form for a new record of ``layer`` (with a map to draw its geometry)."""
    return _new(request, visitor(request), layer)


def _new(request: Request, seen: Visitor, layer: str, *, sent: dict[str, str] | None = None,
         errors: dict[str, str] | None = None, message: str | None = None, reason: str = "",
         status_code: int = 200) -> Response:
    if seen.actor.is_anonymous:
        return _to_login(request)
    if layer not in ENTITIES:
        return error_page(request, 404)
    if not allowed(seen.actor, "record.create", None, layer=layer):
        return error_page(request, 403)
    entry = ENTITIES[layer]
    blank = {f.name: None for f in entry.fields}
    errors = errors or {}
    inputs = _inputs(seen.actor, layer, blank, sent or {}, errors)
    shown = {i.name for i in inputs} | {"geometry"}
    kind = entry.geometry[0] if entry.geometry else None
    return page(request, seen, "record_new.html", current="records", layer=layer,
                layer_title=title(layer), inputs=inputs, geometry_kind=kind,
                geometry=(sent or {}).get("geometry", ""), geometry_error=errors.get("geometry"),
                geometry_hint=GEOMETRY_HINT.get(kind or ""),
                others={k: v for k, v in errors.items() if k not in shown},
                message=message, reason=reason, status_code=status_code)


@router.post("/records/{layer}/new")
async def create(request: Request, layer: str) -> Response:
    """Store the new record; to its page, or back to the form with the server's findings."""
    fields = await form(request)
    seen = await run_in_threadpool(form_visitor, request)
    if not await run_in_threadpool(session_form_valid, request, fields.get("csrf_token", "")):
        return await run_in_threadpool(_new, request, seen, layer, sent=fields, message=STALE,
                                       status_code=403)
    if layer not in ENTITIES:
        return error_page(request, 404)
    try:
        row = await run_in_threadpool(_create, request, seen, layer, fields)
    except Invalid as exc:
        errors: dict[str, str] = {}
        for problem in exc.problems:
            errors.setdefault(problem.field, problem.reason)
        return await run_in_threadpool(_new, request, seen, layer, sent=fields, errors=errors,
                                       status_code=422)
    except PermissionDenied:
        return error_page(request, 403)
    except Conflict as exc:
        return await run_in_threadpool(_new, request, seen, layer, sent=fields,
                                       message=REFUSED, reason=str(exc), status_code=409)
    return RedirectResponse(f"/records/{layer}/{row['id']}?created=1", status_code=303)


def _create(request: Request, seen: Visitor, layer: str, fields: dict[str, str]) -> dict:
    data: dict[str, Any] = {f.name: fields[f.name].strip() for f in
                            editable(seen.actor, layer, {f.name: None for f in
                                                          ENTITIES[layer].fields})
                            if fields.get(f.name, "").strip() != ""}
    if ENTITIES[layer].geometry:
        data["geometry"] = _geometry(fields.get("geometry", ""), layer)
    with request.app.state.database.transaction() as uow:
        return create_record(uow, actor=seen.actor, layer=layer, data=data)


def _geometry(text: str, layer: str):
    """The drawn (or pasted) GeoJSON as the API reads it; refused by name when unreadable."""
    record = f"{ENTITIES[layer].label} (new)"
    if not text.strip():
        raise Invalid(Problem(record, "geometry", "required field is missing"))
    try:
        value = json.loads(text)
    except ValueError:
        raise Invalid(Problem(record, "geometry", "not GeoJSON")) from None
    if isinstance(value, dict) and value.get("type") == "Feature":
        value = value.get("geometry")
    return geometry_in(value, "geometry", record)


@router.get("/records/{layer}/{record_id}/edit")
def edit_form(request: Request, layer: str, record_id: str) -> Response:
    """The form, filled with the record as the user sees it."""
    return _form(request, visitor(request), layer, record_id)


def _form(request: Request, seen: Visitor, layer: str, record_id: str, *,
          sent: dict[str, str] | None = None, errors: dict[str, str] | None = None,
          message: str | None = None, reason: str = "", status_code: int = 200) -> Response:
    if seen.actor.is_anonymous:
        return _to_login(request)
    if layer not in ENTITIES or not record_id.isdigit():
        return error_page(request, 404)
    try:
        with request.app.state.database.read() as uow:
            row = get_record(uow, actor=seen.actor, layer=layer, record_id=int(record_id))
    except NotFound:
        return error_page(request, 404)
    if not allowed(seen.actor, "record.update", row, layer=layer):
        return RedirectResponse(f"/records/{layer}/{record_id}", status_code=303)
    errors = errors or {}
    inputs = _inputs(seen.actor, layer, row, sent, errors)
    located = bool(ENTITIES[layer].geometry)
    others = {k: v for k, v in errors.items()
              if k not in {i.name for i in inputs} and not (located and k == "geometry")}
    kind = ENTITIES[layer].geometry[0] if located else None
    stored = stored_geometry(row)
    return page(request, seen, "record_edit.html", current="records", layer=layer,
                layer_title=title(layer), record=row, inputs=inputs, others=others,
                message=message, reason=reason, status_code=status_code,
                geometry_kind=kind, geometry_error=errors.get("geometry"),
                geometry=(sent or {}).get("geometry", stored) if located else "",
                geometry_hint=EDIT_HINT.get(kind or ""))


def stored_geometry(row: dict[str, Any]) -> str:
    """The record's geometry as the form shows it (GeoJSON; one polygon of a multipolygon of
    one part as a polygon, which the map can edit and the server takes back)."""
    geom = row.get("geom")
    if geom is None:
        return ""
    if geom.geom_type == "MultiPolygon" and len(geom.geoms) == 1:
        geom = geom.geoms[0]
    return json.dumps(mapping(geom))


@router.post("/records/{layer}/{record_id}/edit")
async def save(request: Request, layer: str, record_id: str) -> Response:
    """Store what the form changed; back to the record, or the form with the findings."""
    fields = await form(request)
    seen = await run_in_threadpool(form_visitor, request)
    if not await run_in_threadpool(session_form_valid, request, fields.get("csrf_token", "")):
        return await run_in_threadpool(_form, request, seen, layer, record_id, message=STALE,
                                       status_code=403)
    if layer not in ENTITIES or not record_id.isdigit():
        return error_page(request, 404)
    version = fields.get("version", "")
    try:
        changed = await run_in_threadpool(_save, request, seen, layer, int(record_id), fields,
                                          int(version) if version.isdigit() else None)
    except NotFound:
        return error_page(request, 404)
    except Invalid as exc:
        errors: dict[str, str] = {}
        for problem in exc.problems:
            errors.setdefault(problem.field, problem.reason)
        return await run_in_threadpool(_form, request, seen, layer, record_id, sent=fields,
                                       errors=errors, status_code=422)
    except PreconditionFailed:
        return await run_in_threadpool(_form, request, seen, layer, record_id, message=MOVED,
                                       status_code=409)
    except PermissionDenied:
        return error_page(request, 403)
    except Conflict as exc:
        return await run_in_threadpool(_form, request, seen, layer, record_id, sent=fields,
                                       message=REFUSED, reason=str(exc), status_code=409)
    outcome = "saved" if changed else "unchanged"
    return RedirectResponse(f"/records/{layer}/{record_id}?{outcome}=1", status_code=303)


def _save(request: Request, seen: Visitor, layer: str, record_id: int, fields: dict[str, str],
          version: int | None) -> bool:
    """Send what differs from the stored record; False when nothing did."""
    with request.app.state.database.transaction() as uow:
        row = get_record(uow, actor=seen.actor, layer=layer, record_id=record_id)
        changes: dict[str, Any] = {}
        for field in editable(seen.actor, layer, row):
            if field.name not in fields:
                continue
            sent = fields.get(field.name, "").strip()
            if sent != _text(row.get(field.name)):
                changes[field.name] = sent if sent != "" else None
        sent_geometry = fields.get("geometry")
        if ENTITIES[layer].geometry and sent_geometry is not None and \
                sent_geometry.strip() != stored_geometry(row):
            changes["geometry"] = _geometry(sent_geometry, layer)
        if not changes:
            return False
        update_record(uow, actor=seen.actor, layer=layer, record_id=record_id,
                      changes=changes, expected_version=version)
    return True
