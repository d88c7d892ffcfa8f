"""Request dependencies: the store, the acting user (bearer token or session + CSRF)."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from demine.domain.actors import Actor
from demine.domain.errors import PermissionDenied, Unauthenticated
from demine.services import accounts
from demine.storage.database import Database

SESSION_COOKIE = "demine_session"
CSRF_COOKIE = "demine_csrf"
CSRF_HEADER = "x-csrf-token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def get_database(request: Request) -> Database:
    """The store the app serves."""
    return request.app.state.database


DatabaseDep = Annotated[Database, Depends(get_database)]


def get_actor(request: Request, database: DatabaseDep) -> Actor:
    """Who is asking: a bearer token, a session cookie (with CSRF on writes), or anonymous."""
    header = request.headers.get("authorization", "")
    if header:
        scheme, _, token = header.partition(" ")
        if scheme.lower() != "bearer" or not token:
            raise Unauthenticated("use Authorization: Bearer <token>")
        with database.read() as uow:
            actor = accounts.actor_for_token(uow, token.strip())
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
