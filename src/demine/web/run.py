"""Starting uvicorn with the app factory (workers re-create the app from settings)."""

from __future__ import annotations

import os
import shutil
import tempfile

import uvicorn

from demine.settings import Settings


def app_factory():
    """Used by uvicorn workers: settings come from the environment the parent set."""
    from demine.web.app import create_app

    return create_app(Settings())


def run(settings: Settings, *, host: str | None, port: int | None, workers: int | None) -> None:
    """Serve until interrupted. Several workers share one tile cache file, in a folder made
    for this server and removed when it stops (unless DEMINE_TILE_CACHE_DIR names one)."""
    os.environ["DEMINE_DATABASE_URL"] = settings.database_url
    workers = workers or settings.workers
    made = None
    if workers > 1 and settings.tile_cache_dir is None and settings.tile_cache_mb > 0:
        made = tempfile.mkdtemp(prefix="demine-tiles-")
        os.environ["DEMINE_TILE_CACHE_DIR"] = made
    try:
        _serve(settings, host=host, port=port, workers=workers)
    finally:
        if made:
            shutil.rmtree(made, ignore_errors=True)


def _serve(settings: Settings, *, host: str | None, port: int | None, workers: int) -> None:
    uvicorn.run(
        "demine.web.run:app_factory",
        factory=True,
        host=host or settings.host,
        port=port or settings.port,
        workers=workers,
        log_level="info",
        timeout_keep_alive=5,
        timeout_graceful_shutdown=10,
        server_header=False,
    )
