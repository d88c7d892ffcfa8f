"""Request dependencies: the store, the acting user (bearer token, HTTP Basic for GIS
clients, or session + CSRF)."""

from __future__ import annotations

import base64
import binascii
from typing import Annotated

from fastapi import Depends, Request

from demine.domain.actors import Actor
from demine.domain.errors import PermissionDenied, Unauthenticated
from demine.services.access import accounts, signin
from demine.storage.database import Database

SESSION_COOKIE = "demine_session"
CSRF_COOKIE = "demine_csrf"
CSRF_HEADER = "x-csrf-token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
MAX_PASSWORD = 1000  # as web.schemas.Credentials


def get_database(request: Request) -> Database:
    """The store the app serves."""
    return request.app.state.database


DatabaseDep = Annotated[Database, Depends(get_database)]


def get_actor(request: Request, database: DatabaseDep) -> Actor:
    """Who is asking: a bearer token, HTTP Basic, a session cookie (with CSRF on writes), or
    anonymous."""
    header = request.headers.get("authorization", "")
    if header:
        scheme, _, credentials = header.partition(" ")
        if scheme.lower() == "basic":
            return _basic_actor(request, database, credentials.strip())
        if scheme.lower() != "bearer" or not credentials:
            raise Unauthenticated("use Authorization: Bearer <token> or Basic")
        with database.read() as uow:
            actor = accounts.actor_for_token(uow, credentials.strip())
        if actor is None:
            raise Unauthenticated("invalid, expired or revoked token")
        return actor
    session = request.cookies.get(SESSION_COOKIE)
    if not session:
        return Actor.anonymous()
    with database.read() as uow:
        actor = accounts.actor_for_token(uow, session, kind="session")
        if actor is None:
            raise Unauthenticated("session expired; sign in again")
        if request.method not in SAFE_METHODS and not accounts.csrf_matches(
                uow, session, request.headers.get(CSRF_HEADER, "")):
            raise PermissionDenied("missing or wrong CSRF token (X-CSRF-Token header)")
    return actor


def _basic_actor(request: Request, database: Database, credentials: str) -> Actor:
    """HTTP Basic: e-mail and password, or any user name and an API token as the password."""
    try:
        user, colon, password = base64.b64decode(credentials, validate=True).decode(
            "utf-8").partition(":")
    except (binascii.Error, UnicodeDecodeError):
        colon = ""
    if not colon or len(password) > MAX_PASSWORD:
        raise Unauthenticated(signin.WRONG)
    # A browser that was given Basic credentials sends them to any site's forms: no writes
    # from another site (GIS clients send no Sec-Fetch-Site).
    if request.method not in SAFE_METHODS and request.headers.get("sec-fetch-site") in (
            "cross-site", "same-site"):
        raise PermissionDenied("HTTP Basic writes are refused from another site")
    return signin.basic_actor(database, user=user, password=password,
                              address=client_address(request),
                              verified=request.app.state.verified_passwords)


ActorDep = Annotated[Actor, Depends(get_actor)]


def get_writer(actor: ActorDep) -> Actor:
    """An actor who is signed in (writes need one)."""
    if actor.is_anonymous:
        raise Unauthenticated("sign in to change records")
    return actor


WriterDep = Annotated[Actor, Depends(get_writer)]


def client_address(request: Request) -> str:
    """The peer address, for throttling sign-ins."""
    return request.client.host if request.client else "unknown"
