"""The review pages: the queue of what waits for the signed-in reviewer, and one item with the
version that counts now beside the one proposed, to approve or reject with a reason.

The queue and the comparison come from ``services.records.review_queue`` (through the one
permission predicate), the decision from ``services.records.review`` (the API's path): no SQL
and no permission logic here.
"""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, Request
from shapely.geometry import mapping
from shapely.geometry.base import BaseGeometry
from starlette.concurrency import run_in_threadpool
from starlette.responses import RedirectResponse, Response

from demine.domain.entities import ENTITIES
from demine.domain.errors import (
    Conflict,
    Invalid,
    NotFound,
    PermissionDenied,
    PreconditionFailed,
)
from demine.services.loading.reference_data import organisation_codes
from demine.services.records import review_queue
from demine.services.records.review import review_record
from demine.web.ui import map_style
from demine.web.ui.errors import error_page
from demine.web.ui.i18n import N_
from demine.web.ui.render import page
from demine.web.ui.session import Visitor, form, form_visitor, session_form_valid, visitor

router = APIRouter(include_in_schema=False)
PAGE = 50
KIND_LABELS = {"submitted": N_("New record submitted"), "proposed change": N_("Change proposed"),
               "proposed deletion": N_("Deletion proposed")}
STALE = N_("The form had expired. Open the item again and decide once more.")
MOVED = N_("This record changed while you were looking at it. Here is its new version: "
           "check it before you decide.")
# The service's problems, by field, as the reviewer reads them (in the page's language).
PROBLEMS = {"reason": N_("Say why you reject it: the reason goes back to whoever recorded it."),
            "decision": N_("Choose Approve or Reject.")}
CODE = re.compile(r"[\w.-]{1,64}")  # what "done" may name (it comes back in the URL)
DONE = {"approve": N_("%(record)s approved."), "reject": N_("%(record)s rejected.")}


def _to_login(request: Request) -> RedirectResponse:
    target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    return RedirectResponse("/login?" + urlencode({"next": target}), status_code=303)


def _page_number(value: str | None) -> int:
    return int(value) if value and value.isdigit() and 0 < int(value) < 100_000 else 1


@router.get("/review")
def queue_page(request: Request, layer: str | None = None, done: str | None = None,
               decision: str | None = None) -> Response:
    """What waits for the signed-in user's decision, oldest first."""
    seen = visitor(request)
    if seen.actor.is_anonymous:
        return _to_login(request)
    number = _page_number(request.query_params.get("page"))
    layer = layer if layer in review_queue.reviewed_layers() else None
    with request.app.state.database.read() as uow:
        found = review_queue.waiting(uow, actor=seen.actor, layer=layer,
                                     offset=(number - 1) * PAGE, limit=PAGE)
    pages = max(1, -(-found["total"] // PAGE))
    layers = [(name, _layer_title(name)) for name in review_queue.reviewed_layers()]
    return page(request, seen, "review_queue.html", current="review", items=found["items"],
                total=found["total"], page_number=number, pages=pages, layer=layer,
                layers=layers, kinds=KIND_LABELS, titles=dict(layers),
                done=done if decision in DONE and CODE.fullmatch(done or "") else None,
                done_text=DONE.get(decision or ""),
                link=lambda **page: "?" + urlencode({**({"layer": layer} if layer else {}),
                                                      **page}))


# Reviewed layers that are not on the map, by their title (those on it: map_style's).
TITLES = {"accidents": N_("Accidents"), "casualties": N_("Casualties"),
          "eore_sessions": N_("Risk education sessions"),
          "qa_inspections": N_("QA/QC inspections")}


def _layer_title(layer: str) -> str:
    entry = map_style.BY_NAME.get(layer)
    return entry.title if entry else TITLES.get(layer, ENTITIES[layer].label)


@router.get("/review/{layer}/{record_id}")
def item_page(request: Request, layer: str, record_id: str) -> Response:
    """One item: the version that counts beside the proposed one, and the decision form."""
    return _item(request, visitor(request), layer, record_id)


def _item(request: Request, seen: Visitor, layer: str, record_id: str, *,
          error: str | None = None, field: str | None = None, reason: str = "",
          status_code: int = 200) -> Response:
    if seen.actor.is_anonymous:
        return _to_login(request)
    if layer not in review_queue.reviewed_layers() or not record_id.isdigit():
        return error_page(request, 404)
    try:
        with request.app.state.database.read() as uow:
            asked = review_queue.decision(uow, actor=seen.actor, layer=layer,
                                          record_id=int(record_id))
            codes = organisation_codes(uow)
            queue = review_queue.waiting(uow, actor=seen.actor, limit=review_queue.MAX_LIMIT)
    except NotFound:
        return error_page(request, 404)
    except (PermissionDenied, Conflict):  # seen, but not for this user to decide (or decided)
        return RedirectResponse(f"/records/{layer}/{record_id}", status_code=303)
    return page(request, seen, "review_item.html", current="review", item=asked,
                rows=_rows(asked, codes), shapes=_shapes(asked), kinds=KIND_LABELS,
                layer_title=_layer_title(layer), neighbours=_neighbours(queue, layer,
                                                                        int(record_id)),
                error=error, error_field=field, reason=reason, status_code=status_code)


def _shown(value: Any, codes: dict[int, str], name: str) -> Any:
    if name == "organisation_id":
        return codes.get(value, value)
    if isinstance(value, BaseGeometry):
        return value.geom_type
    return value


def _rows(asked: dict[str, Any], codes: dict[int, str]) -> list[dict[str, Any]]:
    """One row per field: its value now and proposed, and whether it changes."""
    current, proposed = asked["current"] or {}, asked["proposed"] or {}
    return [{"name": name, "changed": name in asked["changed"],
             "current": _shown(current.get(name), codes, name) if asked["current"] else None,
             "proposed": _shown(proposed.get(name), codes, name) if asked["proposed"] else None}
            for name in asked["fields"]]


def _shapes(asked: dict[str, Any]) -> dict[str, Any]:
    """Both geometries as GeoJSON features for the comparison map."""
    features = []
    for role in ("current", "proposed"):
        shape = (asked[role] or {}).get("geom")
        if isinstance(shape, BaseGeometry) and not shape.is_empty:
            features.append({"type": "Feature", "geometry": mapping(shape),
                             "properties": {"role": role}})
    return {"type": "FeatureCollection", "features": features}


def _neighbours(queue: dict[str, Any], layer: str, record_id: int) -> dict[str, str | None]:
    """The previous and next items of the queue (keyboard: k and j)."""
    keys = [f"/review/{i['layer']}/{i['id']}" for i in queue["items"]]
    here = f"/review/{layer}/{record_id}"
    if here not in keys:
        return {"previous": None, "next": keys[0] if keys else None}
    at = keys.index(here)
    return {"previous": keys[at - 1] if at > 0 else None,
            "next": keys[at + 1] if at + 1 < len(keys) else None}


@router.post("/review/{layer}/{record_id}")
async def decide(request: Request, layer: str, record_id: str) -> Response:
    """Approve or reject (with a reason) through the review service; back to the queue."""
    fields = await form(request)
    seen = await run_in_threadpool(form_visitor, request)
    if not await run_in_threadpool(session_form_valid, request, fields.get("csrf_token", "")):
        return await run_in_threadpool(_item, request, seen, layer, record_id, error=STALE,
                                       status_code=403)
    if layer not in review_queue.reviewed_layers() or not record_id.isdigit():
        return error_page(request, 404)
    decision, reason = fields.get("decision", ""), fields.get("reason", "").strip()
    version = fields.get("version", "")
    try:
        code = await run_in_threadpool(_decide, request, seen, layer, int(record_id), decision,
                                       reason, int(version) if version.isdigit() else None)
    except NotFound:
        return error_page(request, 404)
    except PreconditionFailed:
        return await run_in_threadpool(_item, request, seen, layer, record_id, error=MOVED,
                                       reason=reason, status_code=409)
    except Invalid as exc:
        problem = exc.problems[0]
        return await run_in_threadpool(_item, request, seen, layer, record_id,
                                       error=PROBLEMS.get(problem.field, problem.reason),
                                       field=problem.field,
                                       reason=reason, status_code=422)
    except (PermissionDenied, Conflict):
        return RedirectResponse(f"/records/{layer}/{record_id}", status_code=303)
    return RedirectResponse("/review?" + urlencode({"done": code, "decision": decision}),
                            status_code=303)


def _decide(request: Request, seen: Visitor, layer: str, record_id: int, decision: str,
            reason: str, version: int | None) -> str:
    actor = seen.actor
    with request.app.state.database.transaction() as uow:
        row = review_record(uow, actor=actor, layer=layer, record_id=record_id,
                            decision=decision, reason=reason or None,
                            expected_version=version)
    return row["code"]
