"""`demine demo`: build the demo region in a fresh store and serve it."""

from __future__ import annotations

import time
from typing import Annotated

import typer

from demine.cli.common import (
    DbOption,
    JsonOption,
    UrlOption,
    err,
    open_database,
    print_json,
    progress,
    reported,
    show_progress,
)
from demine.domain.actors import Actor


def demo(
    db: DbOption = None,
    database_url: UrlOption = None,
    scale: Annotated[str, typer.Option(help="small (~200 hazards), region, national")] = "region",
    seed: Annotated[int, typer.Option(help="same seed, same region")] = 1,
    no_serve: Annotated[bool, typer.Option("--no-serve", help="build only")] = False,
    port: Annotated[int | None, typer.Option(help="port to serve on")] = None,
    replace: Annotated[
        bool, typer.Option("--replace", help="replace an existing GeoPackage file")
    ] = False,
    as_json: JsonOption = False,
):
    """Create a fictional demo region with two years of mine action history."""
    from demine.services.loading.demo import build_demo

    if scale not in ("small", "region", "national"):
        raise typer.BadParameter("--scale must be small, region or national")
    started = time.perf_counter()
    with reported():
        database = open_database(db, database_url, existing=False)
        with progress(show_progress(as_json), f"building the {scale} demo") as tick:
            counts = build_demo(database, actor=Actor.system("demo"), scale=scale, seed=seed,
                                replace=replace, progress=tick)
    seconds = round(time.perf_counter() - started, 1)
    logins = counts.pop("logins")
    if as_json:
        print_json({"scale": scale, "seed": seed, "seconds": seconds, "rows": counts,
                    "logins": logins})
    else:
        err.print(f"demo region ({scale}, seed {seed}) built in {seconds} s: "
                  f"{counts.get('hazards', 0):,} hazards, {counts.get('eo_finds', 0):,} EO finds",
                  markup=False)
        err.print("demo sign-ins (demo data only):", markup=False)
        for login in logins:
            err.print(f"  {login['role']:<10} {login['email']:<32} {login['password']}"
                      f"  ({login['organisation']})", markup=False)
    if not no_serve:
        from demine.web.run import run

        run(database.settings, host=None, port=port, workers=None)


def register(app: typer.Typer) -> None:
    """Add this command to the app."""
    app.command()(demo)
