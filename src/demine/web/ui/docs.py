"""``/api/v1/docs``: Swagger UI served from the package's static files (built from the npm
registry by ``make assets``) with our own init script, so the documentation works offline
and under the strict Content-Security-Policy (FastAPI's default page loads it from a CDN)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from starlette.responses import Response

from demine.web.ui.render import page
from demine.web.ui.session import visitor

router = APIRouter(include_in_schema=False)


@router.get("/api/v1/docs")
def api_docs(request: Request) -> Response:
    """The JSON API's operations, from /api/v1/openapi.json, and a link to the OGC API."""
    return page(request, visitor(request), "docs.html", current="docs",
                openapi_url=request.app.openapi_url)
