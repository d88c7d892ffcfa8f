"""`demine import` and `demine export`."""

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
    progress,
    reported,
    show_progress,
)
from demine.domain.actors import Actor


def import_(
    file: Annotated[Path, typer.Argument(help="GeoPackage, GeoJSON, Shapefile, KML, CSV, XLSX")],
    db: DbOption = None,
    database_url: UrlOption = None,
    layer: Annotated[str | None, typer.Option(help="target layer, e.g. hazards")] = None,
    org: Annotated[str | None, typer.Option(help="organisation code for records without")] = None,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="check only; store nothing")] = False,
    mapping: Annotated[Path | None, typer.Option(
        help="YAML field mapping: another system's field names and codes")] = None,
    as_json: JsonOption = False,
):
    """Import a file atomically: any invalid record → nothing stored, one line per problem."""
    from demine import formats
    from demine.formats.mapping import load_mapping
    from demine.services.loading.imports import import_features

    with reported():
        field_mapping = load_mapping(mapping) if mapping is not None else None
        database = open_database(db, database_url)
        limits = formats.ReadLimits(max_bytes=database.settings.max_import_bytes,
                                    max_vertices=database.settings.max_vertices)
        layers = formats.read(file, limits=limits)
        with database.transaction() as uow, progress(show_progress(as_json), "importing") as tick:
            report = import_features(uow, actor=Actor.system(), layers=layers, source=file.name,
                                     target=layer, organisation=org, dry_run=dry_run,
                                     progress=tick, mapping=field_mapping)
    if as_json:
        print_json({"dry_run": report.dry_run, "layers": report.layers})
        return
    verb = "would import" if dry_run else "imported"
    for name, counts in report.layers.items():
        err.print(f"{verb} {name}: {counts['created']} new, {counts['updated']} updated, "
                  f"{counts['unchanged']} unchanged", markup=False)


def export(
    out: Annotated[Path, typer.Option("--out", help="file (or folder for one file per layer)")],
    fmt: Annotated[str, typer.Option("--format",
                                     help="gpkg, geojson, shp, kml, csv, xlsx")] = "gpkg",
    db: DbOption = None,
    database_url: UrlOption = None,
    layer: Annotated[list[str] | None, typer.Option(help="layer(s) to export; default all")] = None,
    as_json: JsonOption = False,
):
    """Export layers (what you may see) to a file that GIS tools open."""
    from demine import formats
    from demine.services.reads.exports import export_layers

    with reported():
        writer = formats.by_name(fmt)
        database = open_database(db, database_url)
        with database.read() as uow:
            layers = export_layers(uow, actor=Actor.system(), layers=layer or None)
        written = formats.write_layers(out, layers, writer)
    if as_json:
        print_json({"format": fmt, "files": [str(p) for p in written],
                    "layers": {data.name: len(data.rows) for data in layers}})
    else:
        for path in written:
            err.print(f"wrote {path}", markup=False)


def register(app: typer.Typer) -> None:
    """Add these commands to the app."""
    app.command("import")(import_)
    app.command()(export)
