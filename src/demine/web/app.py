"""The FastAPI application, made from settings (no import-time database)."""

from __future__ import annotations

from contextlib import asynccontextmanager

from fastapi import FastAPI
from fastapi.responses import JSONResponse

from demine import __version__
from demine.services.access.password_cache import VerifiedPasswords
from demine.services.audit_cache import AuditHeadCache
from demine.services.health import health
from demine.services.tiles.cache import TileCache
from demine.services.tiles.seeding import Reseeder
from demine.settings import Settings
from demine.storage.database import Database
from demine.web import errors, openapi_schemas, tiles
from demine.web.api import auth, meta, records, taskings
from demine.web.ogc import router as ogc_router
from demine.web.security import Hardening
from demine.web.ui import install as install_ui


def create_app(settings: Settings) -> FastAPI:
    """The application serving one store."""
    database = Database(settings)
    @asynccontextmanager
    async def lifespan(app: FastAPI):
        yield
        app.state.tile_cache.reseed.stop()

    app = FastAPI(
        lifespan=lifespan,
        title="demine",
        version=__version__,
        openapi_url="/api/v1/openapi.json",
        docs_url=None,  # web.ui serves it from the package (no CDN)
        redoc_url=None,
    )
    app.state.database = database
    app.state.tile_cache = TileCache.from_settings(settings)
    app.state.tile_cache.reseed = Reseeder(database, app.state.tile_cache,
                                           settings.tile_reseed_max)
    app.state.count_cache = AuditHeadCache(settings.count_cache_entries)  # numberMatched
    app.state.verified_passwords = VerifiedPasswords(settings.basic_auth_cache_s)  # HTTP Basic
    errors.install(app)
    openapi_schemas.install(app)
    app.add_middleware(Hardening, max_body=settings.max_request_bytes)
    app.include_router(auth.router)
    app.include_router(meta.router)
    app.include_router(records.router)
    app.include_router(taskings.router)
    app.include_router(ogc_router)
    app.include_router(tiles.router)
    install_ui(app)

    @app.get("/healthz", tags=["meta"])
    def healthz() -> JSONResponse:
        """Liveness and database reachability."""
        report = health(database)
        return JSONResponse(report, status_code=200 if report["status"] == "ok" else 503)

    return app
