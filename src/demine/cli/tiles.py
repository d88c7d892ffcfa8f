"""`demine tiles seed`: make the tiles of an area ahead of the maps that will ask for them."""

from __future__ import annotations

from pathlib import Path
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

tiles_app = typer.Typer(help="Vector tiles kept in DEMINE_TILE_CACHE_DIR.")


@tiles_app.command("seed")
def seed(
    cache_dir: Annotated[Path | None, typer.Option(
        help="the folder `demine serve` keeps tiles in (or DEMINE_TILE_CACHE_DIR)")] = None,
    zooms: Annotated[str, typer.Option(help="zoom range, e.g. 8-12")] = "8-12",
    layer: Annotated[list[str] | None, typer.Option(
        help="a tile layer (repeatable; default hazards and eo_finds)")] = None,
    email: Annotated[list[str] | None, typer.Option(
        help="seed what this user sees (repeatable; users of one organisation whom no "
             "record names share tiles); none: what anyone sees, signed out")] = None,
    db: DbOption = None,
    database_url: UrlOption = None,
    as_json: JsonOption = False,
):
    """Make every tile of the layers at the zooms over the records each user sees, into the
    tile cache folder: after a bulk load or an import, the first maps then find low zooms
    (seconds each on a national store) made. Changes later drop only the tiles they touch."""
    from demine.domain.actors import Actor
    from demine.domain.errors import Invalid, NotFound, Problem
    from demine.services.access.accounts import actor_of, user_id_of
    from demine.services.tiles.cache import TileCache
    from demine.services.tiles.seeding import seed as seed_tiles

    with reported():
        database = open_database(db, database_url)
        settings = database.settings
        folder = cache_dir or settings.tile_cache_dir
        if folder is None:
            raise Invalid(Problem("tiles seed", "cache_dir", "name the folder `demine serve` "
                                  "keeps tiles in (--cache-dir or DEMINE_TILE_CACHE_DIR)"))
        low, _, high = zooms.partition("-")
        if not (low.isdigit() and (high or low).isdigit() and int(low) <= int(high or low)):
            raise Invalid(Problem("tiles seed", "zooms", f"{zooms!r} is not a range like 8-12"))
        Path(folder).mkdir(parents=True, exist_ok=True)
        cache = TileCache.from_settings(settings, Path(folder))
        actors = []
        with database.read() as uow:
            for address in email or []:
                try:
                    user_id = user_id_of(uow, address)
                except NotFound:
                    raise Invalid(Problem(f"user {address}", "email", "no such user")) from None
                actors.append(actor_of(uow, user_id, frozenset({"read"})))
        actors = actors or [Actor.anonymous()]
        report = []
        for actor in actors:
            made = seed_tiles(database, cache, actor, layers=layer or ["hazards", "eo_finds"],
                              zooms=list(range(int(low), int(high or low) + 1)))
            report.append({"as": actor.name, **made})
    if as_json:
        print_json(report)
    else:
        for row in report:
            err.print(f"{row['as']}: {row['tiles']} tiles made, {row['with_data']} with data "
                      f"({row['bytes'] / 2**20:.1f} MB)", markup=False)


def register(app: typer.Typer) -> None:
    """Add these commands to the app."""
    app.add_typer(tiles_app, name="tiles")
