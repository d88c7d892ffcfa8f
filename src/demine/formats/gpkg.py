"""GeoPackage: many layers in one file, attribute tables too; ``id`` columns are the FIDs."""

from __future__ import annotations

import sqlite3
import struct
from contextlib import closing
from pathlib import Path

import pyogrio

from demine.formats.base import (
    Feature,
    LayerData,
    ReadLimits,
    check_file,
    file_problem,
    pick_layers,
    remove_existing,
)
from demine.formats.geometry import MIN_VERTEX_BYTES, count_vertices
from demine.formats.ogr import layer_names, read_table, write_layer
from demine.formats.registry import register
from demine.formats.styles import TABLE as STYLE_TABLE
from demine.formats.styles import add_layer_styles

_WHAT = "GeoPackage"


class GeoPackage:
    """OGC GeoPackage through GDAL: one table per layer, spatial ones with an RTree index."""

    name = "gpkg"
    extensions = (".gpkg",)

    def read(
        self, path: Path, *, layer: str | None, limits: ReadLimits
    ) -> dict[str, list[Feature]]:
        """Every layer (or the one named), with the FID column as a property (usually ``id``)."""
        check_file(path, limits)
        out = {}
        names = [n for n in layer_names(path, _WHAT) if n != STYLE_TABLE]  # QGIS styles
        for name in pick_layers(names, layer):
            # The FID column is the table's primary key; GDAL hides it unless asked for.
            fid = pyogrio.read_info(path, layer=name).get("fid_column") or None
            oversized = _oversized(path, name, limits.max_vertices)
            table = read_table(path, name, limits, what=_WHAT, fid_as=fid, oversized=oversized)
            out[name] = table.features()
        return out

    def write(self, path: Path, layers: list[LayerData]) -> None:
        """A new GeoPackage with one table per layer; an int ``id`` column becomes the FID."""
        if not layers:
            raise file_problem("nothing to write: no layers")
        remove_existing(path)
        for data in layers:
            options = {"SPATIAL_INDEX": "YES"}
            if ("id", "int") in data.columns:
                # FID=id names the primary key "id" and GDAL takes our values as the FIDs.
                options["FID"] = "id"
            write_layer(path, data, "GPKG", layer_options=options)
        add_layer_styles(path)  # a default QGIS style for each demine layer written


def _oversized(path: Path, layer: str, max_vertices: int) -> dict[int, int]:
    """FID → vertex count of each geometry over the limit, sized from the blob's headers."""
    try:
        with closing(sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)) as db:
            row = db.execute(
                "SELECT column_name FROM gpkg_geometry_columns WHERE table_name = ?", (layer,)
            ).fetchone()
            if row is None:
                return {}
            table, column = _quote(layer), _quote(row[0])
            # Each vertex takes 16 bytes or more, so only longer blobs can be over the limit.
            candidates = db.execute(
                f"SELECT rowid FROM {table} WHERE length({column}) > ?",
                (MIN_VERTEX_BYTES * max_vertices,),
            ).fetchall()
            out = {}
            for (rowid,) in candidates:
                with db.blobopen(layer, row[0], rowid, readonly=True) as blob:
                    count = _blob_vertices(blob)
                if count > max_vertices:
                    out[rowid] = count
            return out
    except (sqlite3.Error, struct.error, ValueError, IndexError):
        return {}  # not a GeoPackage we can look into: GDAL will say what is wrong


def _blob_vertices(blob) -> int:
    def read(pos: int, size: int) -> bytes:
        blob.seek(pos)
        return blob.read(size)

    # GeoPackage binary: "GP", version, flags, srs_id, then an envelope of 0-64 bytes.
    envelope = (0, 32, 48, 48, 64)[(read(3, 1)[0] >> 1) & 0x07]
    return count_vertices(read, 8 + envelope)[0]


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


register(GeoPackage())
