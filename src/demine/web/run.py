"""Starting uvicorn with the app factory (workers re-create the app from settings)."""

from __future__ import annotations

import os

import uvicorn

from demine.settings import Settings


def app_factory():
    """Used by uvicorn workers: settings come from the environment the parent set."""
    from demine.web.app import create_app

    return create_app(Settings())


def run(settings: Settings, *, host: str | None, port: int | None, workers: int | None) -> None:
    """Serve until interrupted."""
    os.environ["DEMINE_DATABASE_URL"] = settings.database_url
    uvicorn.run(
        "demine.web.run:app_factory",
        factory=True,
        host=host or settings.host,
        port=port or settings.port,
        workers=workers or settings.workers,
        log_level="info",
        timeout_keep_alive=5,
        timeout_graceful_shutdown=10,
        server_header=False,
    )
