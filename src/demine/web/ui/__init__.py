"""The web UI: server-rendered pages (Jinja2, gettext in seven languages) with small scripts of
our own, and the libraries built into ``web/static/vendor`` by ``make assets``."""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles

from demine.web.ui import dashboard, docs, errors, forms, pages, records_list, review
from demine.web.ui.basemap import BasemapPolicy
from demine.web.ui.settings import UiSettings

OWN_STATIC = Path(__file__).parent / "static"
VENDOR_STATIC = Path(__file__).parent.parent / "static" / "vendor"


def install(app: FastAPI, settings: UiSettings | None = None) -> None:
    """Mount the pages, the static files and the HTML error pages on ``app``."""
    app.state.ui_settings = settings or UiSettings()
    app.include_router(forms.router)
    app.include_router(pages.router)
    app.include_router(dashboard.router)
    app.include_router(review.router)
    app.include_router(records_list.router)
    app.include_router(docs.router)
    app.mount("/static/ui", StaticFiles(directory=OWN_STATIC), name="ui-static")
    # check_dir=False: the app starts before `make assets` ran; the pages then lack their map
    app.mount("/static/vendor", StaticFiles(directory=VENDOR_STATIC, check_dir=False),
              name="vendor-static")
    errors.install(app)
    if app.state.ui_settings.basemap_origin:
        # added after Hardening, so it runs outside it and sees the header Hardening set
        app.add_middleware(BasemapPolicy, origin=app.state.ui_settings.basemap_origin)
