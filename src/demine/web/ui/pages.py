"""The web pages: home, sign-in, sign-out, the map and a record's attributes. Each route parses
the request, calls the services, renders a template (no SQL and no permission logic here)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from fastapi import APIRouter, Request
from starlette.concurrency import run_in_threadpool
from starlette.responses import JSONResponse, RedirectResponse, Response

from demine.domain.entities import ENTITIES, REGISTRY
from demine.domain.errors import NotFound, Throttled, Unauthenticated
from demine.services.access import accounts, signin
from demine.services.access.require import allowed
from demine.services.audit import record_entries
from demine.services.loading.reference_data import list_organisations, organisation_codes
from demine.services.reads.queries import ListQuery, list_records, related_records
from demine.services.records import crud as record_service
from demine.services.records.history import record_history
from demine.services.tiles import service as tile_service
from demine.web.api.serialise import item
from demine.web.deps import CSRF_COOKIE, SESSION_COOKIE, client_address
from demine.web.ui import map_style, records_list
from demine.web.ui.errors import error_page
from demine.web.ui.i18n import N_
from demine.web.ui.render import forget_session, page
from demine.web.ui.session import (
    LOGIN_CSRF_COOKIE,
    form,
    local_path,
    login_form_valid,
    login_token,
    session_form_valid,
    visitor,
)
from demine.web.ui.vocabulary import coded_label, options

router = APIRouter(include_in_schema=False)
WRONG = N_("Wrong e-mail or password.")
TOO_MANY = N_("Too many failed sign-ins. Wait %(minutes)s min and try again.")
EXPIRED = N_("The form had expired. Please sign in again.")
COUNTED = ("hazards", "activities")  # cheap enough to count on every map view


def _redirect(target: str, request: Request) -> RedirectResponse:
    lang = request.query_params.get("lang")
    return RedirectResponse(target + (f"?lang={lang}" if lang and "?" not in target else ""),
                            status_code=303)


@router.get("/")
def home(request: Request) -> Response:
    """The map: signed-in users see what they may, anonymous visitors the public map."""
    return _redirect("/map", request)


def _login_page(request: Request, *, error: str | None = None, minutes: int = 0,
                status_code: int = 200,
                email: str = "", target: str = "/map",
                headers: dict[str, str] | None = None) -> Response:
    token = login_token(request)
    response = page(request, visitor(request), "login.html", current="login", error=error,
                    minutes=minutes,
                    email=email, token=token, target=target, status_code=status_code,
                    headers=headers)
    response.set_cookie(LOGIN_CSRF_COOKIE, token, httponly=True, samesite="strict",
                        secure=request.url.scheme == "https", path="/login")
    return response


@router.get("/login")
def login_form(request: Request, next: str | None = None) -> Response:
    """The sign-in form (a signed-in user goes on to ``next``)."""
    if not visitor(request).actor.is_anonymous:
        return _redirect(local_path(next), request)
    return _login_page(request, target=local_path(next))


@router.post("/login")
async def login(request: Request) -> Response:
    """Sign in with e-mail and password: a session cookie and its CSRF token, throttled like
    the API's sign-in (services.access.signin)."""
    fields = await form(request)
    email, target = fields.get("email", "")[:320], local_path(fields.get("next"))
    if not login_form_valid(request, fields.get("csrf_token", "")):
        return await run_in_threadpool(_login_page, request, error=EXPIRED, status_code=403,
                                       email=email, target=target)
    try:
        session = await run_in_threadpool(_sign_in, request, email, fields.get("password", ""))
    except Unauthenticated:
        return await run_in_threadpool(_login_page, request, error=WRONG, status_code=401,
                                       email=email, target=target)
    except Throttled as exc:
        wait = exc.retry_after or 60
        return await run_in_threadpool(
            _login_page, request, error=TOO_MANY, minutes=max(1, -(-wait // 60)),
            status_code=429, email=email, target=target, headers={"Retry-After": str(wait)})
    response = RedirectResponse(target, status_code=303)
    secure, max_age = request.url.scheme == "https", session["max_age"]
    response.set_cookie(SESSION_COOKIE, session["token"], max_age=max_age, httponly=True,
                        samesite="strict", secure=secure, path="/")
    response.set_cookie(CSRF_COOKIE, session["csrf"], max_age=max_age, httponly=False,
                        samesite="strict", secure=secure, path="/")
    response.delete_cookie(LOGIN_CSRF_COOKIE, path="/login")
    return response


def _sign_in(request: Request, email: str, password: str) -> dict[str, Any]:
    database = request.app.state.database
    actor = signin.sign_in(database, email=email, password=password,
                           address=client_address(request))
    with database.transaction() as uow:
        issued = accounts.issue_token(uow, actor=actor, user_id=actor.user_id, kind="session",
                                      name="session", scopes=tuple(sorted(actor.scopes)))
    return {**issued, "max_age": int(accounts.TOKEN_KINDS["session"].total_seconds())}


@router.post("/logout")
async def logout(request: Request) -> Response:
    """End the session (the form carries the session's CSRF token)."""
    fields = await form(request)
    if not await run_in_threadpool(session_form_valid, request, fields.get("csrf_token", "")):
        return _redirect("/map", request)  # a stale form: nothing ends, nothing breaks
    await run_in_threadpool(_revoke, request)
    response = RedirectResponse("/login", status_code=303)
    forget_session(response)
    return response


def _revoke(request: Request) -> None:
    # The form's CSRF token was checked; the session's actor is read without the API's
    # X-CSRF-Token header rule (a form cannot send headers).
    session = request.cookies.get(SESSION_COOKIE, "")
    with request.app.state.database.transaction() as uow:
        actor = accounts.actor_for_token(uow, session, kind="session")
        if actor is not None:
            accounts.revoke_token(uow, actor=actor, token=session)


@router.get("/map")
def map_page(request: Request) -> Response:
    """The map: demine's vector tiles in the layer_styles colours, a legend and switches."""
    seen = visitor(request)
    database = request.app.state.database
    with database.read() as uow:
        counts = {layer: list_records(uow, actor=seen.actor, layer=layer,
                                      query=ListQuery(limit=1))[1] for layer in COUNTED}
        extent = tile_service.tilejson(uow, actor=seen.actor, layer="admin_areas",
                                       tiles_url="")["bounds"]
        organisations = [(o["id"], o["code"], o["name"]) for o in list_organisations(uow)]
    settings = request.app.state.ui_settings
    return page(request, seen, "map.html", current="map", layers=map_style.PANEL,
                legend=map_style.legend, popup_labels=map_style.popup_labels,
                counts=counts, extent=extent, organisations=organisations,
                statuses=options("hazards", "status"),
                types=options("hazards", "hazard_type"),
                as_of=datetime.now(UTC), basemap=bool(settings.basemap_url))


@router.get("/map/style.json")
def map_style_document(request: Request) -> JSONResponse:
    """The MapLibre style of the map page."""
    settings = request.app.state.ui_settings
    url = str(request.url_for("tilejson", layer="{layer}")).replace("%7B", "{").replace(
        "%7D", "}")
    return JSONResponse(map_style.style(url, settings.basemap_url, settings.basemap_attribution),
                        headers={"Cache-Control": "no-cache"})


@router.get("/records/{layer}/{record_id}")
def record_page(request: Request, layer: str, record_id: str) -> Response:
    """A record as the actor may see it: attributes, a small map, the ledger of a hazard,
    related records, its history and (for readers of the audit log) its audit entries. One
    the actor may not see is the same 404 page as one that does not exist (the permission
    predicate decides, in SQL)."""
    seen = visitor(request)
    if layer not in REGISTRY or not record_id.isdigit():
        return error_page(request, 404)
    actor = seen.actor
    try:
        with request.app.state.database.read() as uow:
            row = record_service.get_record(uow, actor=actor, layer=layer,
                                            record_id=int(record_id))
            codes = organisation_codes(uow)
            versions = record_history(uow, actor=actor, layer=layer,
                                      record_id=int(record_id)) \
                if REGISTRY[layer].versioned else []
            related = related_records(uow, actor=actor, layer=layer, record_id=int(record_id))
            entries = record_entries(uow, actor=actor, table_name=layer,
                                     record_id=int(record_id)) \
                if allowed(actor, "audit.read") else None
    except NotFound:
        return error_page(request, 404)
    shown = item(row, codes)
    geometry = shown.pop("geometry", None)
    pending = shown.pop("pending_change", None)
    flags = {k for k in ("saved", "unchanged", "created") if request.query_params.get(k)}
    return page(request, seen, "record.html", current="records", layer=layer,
                layer_title=records_list.title(layer) if layer in ENTITIES else layer,
                record=row, attributes=sorted(shown.items()), geometry=geometry,
                pending=pending, versions=versions, related=related, entries=entries,
                ledger=_ledger(row) if layer == "hazards" else None, flags=flags,
                label=lambda name, value: coded_label(layer, name, value),
                titles={name: records_list.title(name) for name in ENTITIES},
                can_edit=layer in ENTITIES and allowed(actor, "record.update", row,
                                                       layer=layer),
                can_review=pending is not None and allowed(actor, "record.review", row,
                                                           layer=layer))


LEDGER = (("cancelled_m2", N_("Cancelled (NTS)")), ("reduced_m2", N_("Reduced (TS)")),
          ("cleared_m2", N_("Cleared")), ("remaining_m2", N_("Remaining")))


def _ledger(row: dict[str, Any]) -> dict[str, Any]:
    """A hazard's ledger: baseline = cancelled + reduced + cleared + remaining, with each
    part's share of the baseline (for the bar)."""
    baseline = row.get("baseline_m2") or 0.0
    parts, offset = [], 0.0
    for key, text in LEDGER:
        value = row.get(key) or 0.0
        share = round(100 * value / baseline, 2) if baseline else 0.0
        parts.append({"key": key.removesuffix("_m2"), "label": text, "value": value,
                      "share": share, "offset": offset})
        offset += share
    return {"baseline": baseline, "parts": parts}
