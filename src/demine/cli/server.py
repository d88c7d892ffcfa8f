"""`demine init`, `demine demo`, `demine serve`."""

from __future__ import annotations

from typing import Annotated

import typer

from demine.cli.common import (
    DbOption,
    JsonOption,
    UrlOption,
    err,
    open_database,
    print_json,
    reported,
)
from demine.domain.actors import Actor


def init(db: DbOption = None, database_url: UrlOption = None, as_json: JsonOption = False):
    """Create (or upgrade) a demine store: a GeoPackage file or a PostGIS database."""
    from demine.services.loading.setup import initialise

    with reported():
        database = open_database(db, database_url, existing=False)
        added = initialise(database, actor=Actor.system())
    if as_json:
        print_json({"database": database.location, "eo_models_added": added})
    else:
        err.print(f"initialised {database.location}", markup=False)


def serve(
    db: DbOption = None,
    database_url: UrlOption = None,
    host: Annotated[str | None, typer.Option(help="address to listen on")] = None,
    port: Annotated[int | None, typer.Option(help="port to listen on")] = None,
    workers: Annotated[int | None, typer.Option(help="worker processes")] = None,
):
    """Serve the web app and API on the store."""
    from demine.web.run import run  # the web stack loads only when serving

    with reported():
        database = open_database(db, database_url)
    run(database.settings, host=host, port=port, workers=workers)


def register(app: typer.Typer) -> None:
    """Add these commands to the app."""
    app.command()(init)
    app.command()(serve)
