"""Domain errors → HTTP: one table, one JSON shape ``{"error": {"code", "message", "field"?}}``."""

from __future__ import annotations

import logging

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from demine.domain.errors import (
    Conflict,
    DemineError,
    Invalid,
    NotFound,
    PermissionDenied,
    PreconditionFailed,
    PreconditionRequired,
    StorageError,
    Throttled,
    Unauthenticated,
)

STATUS: dict[type[DemineError], int] = {
    Invalid: 422,
    NotFound: 404,
    PermissionDenied: 403,
    Conflict: 409,
    PreconditionFailed: 412,
    PreconditionRequired: 428,
    Unauthenticated: 401,
    Throttled: 429,
    StorageError: 503,
}
# The challenge of a 401 by path: GIS clients (QGIS, GDAL) answer Basic, scripts use Bearer.
CHALLENGES = {"/ogc": 'Basic realm="demine"', "/tiles": 'Basic realm="demine"'}
log = logging.getLogger("demine.web")


def status_of(exc: DemineError) -> int:
    """The HTTP status of a domain error."""
    for kind, status in STATUS.items():
        if isinstance(exc, kind):
            return status
    return 400


def error_body(code: str, message: str, field: str | None = None, problems=None) -> dict:
    """The one error shape of the API."""
    error: dict = {"code": code, "message": message}
    if field:
        error["field"] = field
    if problems:
        error["problems"] = problems
    return {"error": error}


async def _domain(request: Request, exc: DemineError) -> JSONResponse:
    if isinstance(exc, Invalid):
        problems = [{"record": p.record, "field": p.field, "reason": p.reason}
                    for p in exc.problems]
        body = error_body(exc.code, str(exc), exc.problems[0].field if exc.problems else None,
                          problems)
    else:
        body = error_body(exc.code, str(exc))
    headers = {}
    if isinstance(exc, Unauthenticated):
        headers["WWW-Authenticate"] = _challenge(request.url.path)
    if isinstance(exc, Throttled) and exc.retry_after:
        headers["Retry-After"] = str(exc.retry_after)
    return JSONResponse(body, status_code=status_of(exc), headers=headers or None)


def _challenge(path: str) -> str:
    """The WWW-Authenticate challenge of a 401 on ``path``."""
    for prefix, challenge in CHALLENGES.items():
        if path == prefix or path.startswith(prefix + "/"):
            return challenge
    return "Bearer"


async def _validation(request: Request, exc: RequestValidationError) -> JSONResponse:
    problems = [{"record": "request", "field": _field(e), "reason": _reason(e)}
                for e in exc.errors()]
    first = problems[0] if problems else {"field": "body", "reason": "invalid"}
    return JSONResponse(error_body("invalid", f"{first['field']}: {first['reason']}",
                                   first["field"], problems), status_code=422)


def _field(error: dict) -> str:
    """The field a validation error is about ("body" for JSON that does not parse)."""
    if error.get("type") == "json_invalid":
        return "body"
    return ".".join(str(p) for p in error["loc"][1:2]) or "body"


def _reason(error: dict) -> str:
    """The message, and where inside the field (a geometry's coordinates) it applies."""
    inside = ".".join(str(p) for p in error["loc"][2:])
    return f"{error['msg']} (at {inside})" if inside else error["msg"]


async def _http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
    code = {404: "not_found", 405: "method_not_allowed", 413: "too_large"}.get(
        exc.status_code, "error")
    return JSONResponse(error_body(code, str(exc.detail)), status_code=exc.status_code,
                        headers=getattr(exc, "headers", None))


async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
    log.exception("unexpected error on %s %s", request.method, request.url.path)
    return JSONResponse(error_body("internal", "internal error; it has been logged"),
                        status_code=500)


def install(app: FastAPI) -> None:
    """Register the handlers: no stack traces or SQL ever reach a client."""
    app.add_exception_handler(DemineError, _domain)
    app.add_exception_handler(RequestValidationError, _validation)
    app.add_exception_handler(StarletteHTTPException, _http)
    app.add_exception_handler(Exception, _unexpected)
