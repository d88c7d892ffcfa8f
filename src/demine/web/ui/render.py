"""Rendering a page: one Jinja2 environment, the base layout's context (who is signed in,
the top bar, the language), and the response with its cookies."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, select_autoescape
from markupsafe import Markup
from starlette.requests import Request
from starlette.responses import HTMLResponse

from demine import __version__
from demine.services.access.require import allowed
from demine.services.loading.reference_data import list_organisations
from demine.services.records.review_queue import waiting
from demine.web.deps import CSRF_COOKIE, SESSION_COOKIE
from demine.web.ui import i18n
from demine.web.ui.i18n import N_
from demine.web.ui.session import Visitor, session_csrf

TEMPLATES = Path(__file__).parent / "templates"

ROLES = {"admin": N_("Administrator"), "authority": N_("Authority IM officer"),
         "operator": N_("Operator IM officer"), "reporter": N_("Field reporter"),
         "inspector": N_("QA/QC inspector"), "viewer": N_("Viewer")}


@dataclass(frozen=True)
class NavItem:
    """One entry of the top bar; ``href`` None: not built yet (shown, not a link)."""

    key: str
    label: str
    href: str | None
    signed_in_only: bool = True
    admin_only: bool = False


# The top bar of UI.md. Pages still to come are listed without a link until they exist.
NAV = (NavItem("map", N_("Map"), "/map", signed_in_only=False),
       NavItem("dashboard", N_("Dashboard"), "/dashboard", signed_in_only=False),
       NavItem("records", N_("Records"), "/records", signed_in_only=False),
       NavItem("review", N_("Review"), "/review"),
       NavItem("reports", N_("Reports"), None),
       NavItem("admin", N_("Admin"), None, admin_only=True))


def isolated(value: object) -> Markup:
    """``value`` in a ``<bdi>``: a number, date or code keeps its own direction in RTL text."""
    return Markup("<bdi>{}</bdi>").format(value)


def _environment() -> Environment:
    env = Environment(loader=FileSystemLoader(TEMPLATES), autoescape=select_autoescape(
        default=True), extensions=["jinja2.ext.i18n"], trim_blocks=True, lstrip_blocks=True)
    env.install_gettext_callables(i18n.gettext, i18n.ngettext, newstyle=True)
    env.filters.update(number=i18n.number, day=i18n.day, moment=i18n.moment, bdi=isolated,
                       cell=i18n.cell)
    env.globals.update(version=__version__)
    return env


ENV = _environment()


def _organisation_name(request: Request, organisation_id: int | None) -> str | None:
    if organisation_id is None:
        return None
    with request.app.state.database.read() as uow:
        for organisation in list_organisations(uow):
            if organisation["id"] == organisation_id:
                return organisation["name"]
    return None


def _waiting(request: Request, actor) -> int | None:
    """How many items wait for ``actor``'s decision (the top bar's "Review (n)")."""
    if actor.is_anonymous:
        return None
    with request.app.state.database.read() as uow:
        return waiting(uow, actor=actor, limit=0)["total"]


def page(request: Request, visitor: Visitor, template: str, *, current: str | None = None,
         status_code: int = 200, headers: dict[str, str] | None = None,
         **context: Any) -> HTMLResponse:
    """``template`` rendered in the request's language inside the base layout."""
    lang, asked = i18n.negotiate(request)
    actor = visitor.actor
    nav = [item for item in NAV if (not item.signed_in_only or not actor.is_anonymous)
           and (not item.admin_only or allowed(actor, "account.manage"))]
    switch_fields = [(k, v) for k, v in request.query_params.multi_items() if k != "lang"]
    base = {
        "request": request, "lang": lang, "dir": i18n.direction(lang),
        "languages": i18n.LANGUAGES, "actor": actor, "signed_in": not actor.is_anonymous,
        "organisation": _organisation_name(request, actor.organisation_id),
        "role": ROLES.get(actor.role or "", actor.role or ""), "nav": nav, "current": current,
        "csrf": session_csrf(request), "switch_fields": switch_fields,
        "path": request.url.path, "review_count": _waiting(request, actor),
    }
    token = i18n.use(lang)
    try:
        html = ENV.get_template(template).render(**base, **context)
    finally:
        i18n.reset(token)
    response = HTMLResponse(html, status_code=status_code, headers=headers)
    response.headers.setdefault("Cache-Control", "no-store")
    if asked:
        response.set_cookie(i18n.LANG_COOKIE, lang, max_age=i18n.LANG_COOKIE_AGE,
                            samesite="lax", secure=request.url.scheme == "https", path="/")
    if visitor.stale_session:
        forget_session(response)
    return response


def forget_session(response) -> None:
    """Remove the session cookies from the browser."""
    response.delete_cookie(SESSION_COOKIE, path="/")
    response.delete_cookie(CSRF_COOKIE, path="/")
