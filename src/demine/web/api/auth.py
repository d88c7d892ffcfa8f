"""Sign-in: bearer tokens for scripts, a session cookie (HttpOnly, SameSite) plus CSRF token
for browsers; throttled per account and address (services.access.signin)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request, Response

from demine.services.access import accounts, signin
from demine.web.deps import (
    CSRF_COOKIE,
    SESSION_COOKIE,
    ActorDep,
    DatabaseDep,
    client_address,
)
from demine.web.schemas import AccessToken, Credentials

router = APIRouter(prefix="/api/v1/auth", tags=["auth"])


def _sign_in(database, credentials: Credentials, request: Request, kind: str) -> dict:
    actor = signin.sign_in(database, email=credentials.email, password=credentials.password,
                           address=client_address(request))
    with database.transaction() as uow:
        return accounts.issue_token(uow, actor=actor, user_id=actor.user_id, kind=kind,
                                    name=kind, scopes=tuple(sorted(actor.scopes)))


@router.post("/token", response_model=AccessToken)
def token(credentials: Credentials, request: Request, database: DatabaseDep) -> dict[str, Any]:
    """Exchange e-mail and password for a bearer token (one hour)."""
    issued = _sign_in(database, credentials, request, "access")
    return {"access_token": issued["token"], "token_type": "bearer",
            "expires_in": int(accounts.TOKEN_KINDS["access"].total_seconds())}


@router.post("/login")
def login(credentials: Credentials, request: Request, response: Response,
          database: DatabaseDep) -> dict[str, Any]:
    """Browser sign-in: an HttpOnly session cookie and a CSRF token for writes."""
    issued = _sign_in(database, credentials, request, "session")
    secure = request.url.scheme == "https"
    max_age = int(accounts.TOKEN_KINDS["session"].total_seconds())
    response.set_cookie(SESSION_COOKIE, issued["token"], max_age=max_age, httponly=True,
                        samesite="strict", secure=secure, path="/")
    response.set_cookie(CSRF_COOKIE, issued["csrf"], max_age=max_age, httponly=False,
                        samesite="strict", secure=secure, path="/")
    return {"csrf_token": issued["csrf"], "expires_in": max_age}


@router.post("/logout", status_code=204)
def logout(request: Request, response: Response, database: DatabaseDep,
           actor: ActorDep) -> Response:
    """End the browser session."""
    session = request.cookies.get(SESSION_COOKIE)
    if session and not actor.is_anonymous:
        with database.transaction() as uow:
            accounts.revoke_token(uow, actor=actor, token=session)
    response = Response(status_code=204)
    response.delete_cookie(SESSION_COOKIE, path="/")
    response.delete_cookie(CSRF_COOKIE, path="/")
    return response


@router.get("/me")
def me(actor: ActorDep) -> dict[str, Any]:
    """Who the request acts as."""
    return {"name": actor.name, "role": actor.role, "organisation_id": actor.organisation_id,
            "anonymous": actor.is_anonymous, "scopes": sorted(actor.scopes)}
