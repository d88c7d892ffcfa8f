"""Who a page is for (the session cookie), and the CSRF tokens of the page forms.

The sign-in form has no session yet: its token is a random value in a SameSite=Strict cookie
that the form repeats (double submit). Forms of a signed-in user repeat the CSRF token issued
with the session, checked by ``accounts.csrf_matches`` like the API's ``X-CSRF-Token``.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from urllib.parse import parse_qs

from starlette.requests import Request

from demine.domain.actors import Actor
from demine.domain.errors import Unauthenticated
from demine.services.access import accounts
from demine.storage.database import Database
from demine.web.deps import CSRF_COOKIE, SESSION_COOKIE, get_actor

LOGIN_CSRF_COOKIE = "demine_login_csrf"
MAX_FORM = 10_000  # bytes: the page forms are small


@dataclass(frozen=True)
class Visitor:
    """The actor of a page request, and whether it brought a session that has ended."""

    actor: Actor
    stale_session: bool = False


def visitor(request: Request) -> Visitor:
    """The page's actor: the session's user, or anonymous (an ended session too)."""
    database: Database = request.app.state.database
    try:
        return Visitor(get_actor(request, database))
    except Unauthenticated:
        return Visitor(Actor.anonymous(), stale_session=True)


def form_visitor(request: Request) -> Visitor:
    """The actor of a page form's POST, read from the session as for a GET (a form cannot
    send the API's X-CSRF-Token header): check the form's token with ``session_form_valid``
    before acting as it."""
    session = request.cookies.get(SESSION_COOKIE, "")
    if not session:
        return Visitor(Actor.anonymous())
    with request.app.state.database.read() as uow:
        actor = accounts.actor_for_token(uow, session, kind="session")
    return Visitor(actor) if actor is not None else Visitor(Actor.anonymous(), True)


def session_csrf(request: Request) -> str:
    """The CSRF token of the browser's session (its cookie), for the page's forms."""
    return request.cookies.get(CSRF_COOKIE, "")


def session_form_valid(request: Request, token: str) -> bool:
    """Whether a form's CSRF token is the one issued with the request's session."""
    session = request.cookies.get(SESSION_COOKIE, "")
    if not session or not token:
        return False
    with request.app.state.database.read() as uow:
        return accounts.csrf_matches(uow, session, token)


def login_token(request: Request) -> str:
    """The sign-in form's token: the cookie's, or a new one (set it with ``remember_login``)."""
    return request.cookies.get(LOGIN_CSRF_COOKIE) or secrets.token_urlsafe(24)


def login_form_valid(request: Request, token: str) -> bool:
    """Whether the sign-in form repeats its cookie's token."""
    cookie = request.cookies.get(LOGIN_CSRF_COOKIE, "")
    return bool(cookie and token) and secrets.compare_digest(cookie, token)


async def form(request: Request) -> dict[str, str]:
    """An application/x-www-form-urlencoded body (first value of each field)."""
    body = await request.body()
    if len(body) > MAX_FORM:
        return {}
    fields = parse_qs(body.decode("utf-8", errors="replace"), keep_blank_values=True)
    return {name: values[0] for name, values in fields.items()}


def local_path(target: str | None, default: str = "/map") -> str:
    """``target`` when it is a path of this site (no open redirect), else ``default``."""
    if target and target.startswith("/") and not target.startswith("//") and "\\" not in target:
        return target
    return default
