"""Error pages: a browser asking for a page gets HTML in its language; the API, OGC API and
tiles keep their JSON errors (the handlers installed before these are called for them)."""

from __future__ import annotations

import logging

from fastapi import FastAPI, Request
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import Response

from demine.domain.actors import Actor
from demine.web.ui.i18n import N_
from demine.web.ui.render import page
from demine.web.ui.session import Visitor, visitor

MACHINE_PATHS = ("/api/", "/ogc", "/tiles/", "/static/", "/healthz", "/map/style.json")
log = logging.getLogger("demine.web.ui")

TEXT = {
    403: (N_("Not allowed"),
          N_("Your account may not do this. If your work needs it, ask your organisation's "
             "administrator.")),
    404: (N_("Page not found"),
          N_("There is no such page, or it is not one you may see. Check the address, or go "
             "back to the map.")),
    405: (N_("Not allowed here"), N_("This address does not take that kind of request.")),
    500: (N_("Something went wrong"),
          N_("The error has been logged. Try again in a moment, or go back to the map.")),
}


def wants_html(request: Request) -> bool:
    """Whether the request is a browser asking for a page (not the API, OGC API or tiles)."""
    path = request.url.path
    if path == "/api/v1/docs":
        return True
    if any(path == p.rstrip("/") or path.startswith(p) for p in MACHINE_PATHS):
        return False
    return "text/html" in request.headers.get("accept", "")


def error_page(request: Request, status: int) -> Response:
    """The error page of ``status`` (the 404 page for a record one may not see, too)."""
    title, message = TEXT.get(status, TEXT[500] if status >= 500 else TEXT[405])
    try:
        seen = visitor(request)
    except Exception:  # noqa: BLE001 - the store may be what failed; show the page anyway
        seen = Visitor(Actor.anonymous())
    return page(request, seen, "error.html", status_code=status, title=title, message=message,
                status=status)


def install(app: FastAPI) -> None:
    """HTML error pages for browsers, in front of the JSON handlers."""
    json_http = app.exception_handlers[StarletteHTTPException]
    json_unexpected = app.exception_handlers[Exception]

    async def http_error(request: Request, exc: StarletteHTTPException) -> Response:
        if wants_html(request) and exc.status_code in (404, 405):
            return error_page(request, exc.status_code)
        return await json_http(request, exc)

    async def unexpected(request: Request, exc: Exception) -> Response:
        if not wants_html(request):
            return await json_unexpected(request, exc)
        log.exception("unexpected error on %s %s", request.method, request.url.path)
        return error_page(request, 500)

    app.add_exception_handler(StarletteHTTPException, http_error)
    app.add_exception_handler(Exception, unexpected)
