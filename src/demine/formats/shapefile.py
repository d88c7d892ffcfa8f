"""ESRI Shapefile (a .shp, or a .zip of them); long column names survive through a sidecar.

dBase limits field names to 10 bytes. On write, ``shorten_names`` gives each column a short
name and ``<stem>.columns.csv`` (name, short_name, kind) records the mapping and each column's
kind; GDAL and QGIS ignore that file. On read, the sidecar restores the long names and the kinds
dBase cannot hold (datetime is stored as ISO 8601 text). Without the sidecar the short names
come back as they are and the caller reports unknown columns.
"""

from __future__ import annotations

import csv
import io
import struct
import zipfile
from collections.abc import Iterable
from contextlib import suppress
from datetime import datetime
from pathlib import Path
from tempfile import TemporaryDirectory
from typing import IO

import numpy as np
import shapely

from demine.formats.base import (
    Feature,
    LayerData,
    ReadLimits,
    check_file,
    check_size,
    file_problem,
    pick_layers,
    remove_existing,
    single_layer,
)
from demine.formats.geometry import MIN_VERTEX_BYTES
from demine.formats.ogr import Table, layer_names, read_table, write_layer
from demine.formats.registry import register

SIDECAR = ".columns.csv"
MAX_NAME_BYTES = 10
_PARTS = (".shp", ".shx", ".dbf", ".prj", ".cpg", SIDECAR)
_WHAT = "Shapefile"


def shorten_names(names: Iterable[str]) -> dict[str, str]:
    """Each name → a dBase field name of at most 10 bytes, unique ignoring case.

    Names that fit keep themselves; longer ones are cut, and a cut that collides gets a
    suffix ``_1``, ``_2``… Long names are handled in sorted order, so the result depends only
    on the set of names, never on column order.
    """
    names = list(dict.fromkeys(names))
    short = {n: n for n in names if len(n.encode()) <= MAX_NAME_BYTES}
    taken = {n.lower() for n in short}
    for name in sorted(n for n in names if n not in short):
        candidate, k = _cut(name, MAX_NAME_BYTES), 0
        while candidate.lower() in taken:
            k += 1
            suffix = f"_{k}"
            candidate = _cut(name, MAX_NAME_BYTES - len(suffix)) + suffix
        taken.add(candidate.lower())
        short[name] = candidate
    return {n: short[n] for n in names}


def _cut(name: str, size: int) -> str:
    # Cutting bytes may split a character; "ignore" drops the partial one.
    return name.encode()[:size].decode("utf-8", "ignore")


class Shapefile:
    """ESRI Shapefile through GDAL, UTF-8 (.cpg); a .zip may hold several layers."""

    name = "shp"
    extensions = (".shp", ".dbf", ".zip")

    def read(
        self, path: Path, *, layer: str | None, limits: ReadLimits
    ) -> dict[str, list[Feature]]:
        """The .shp's layer (keyed by ``layer`` or the stem), or every layer in a .zip."""
        if path.suffix.lower() == ".zip":
            return self._read_zip(path, layer, limits)
        if not path.is_file() and path.with_suffix(".dbf").is_file():
            path = path.with_suffix(".dbf")  # an attribute table is a .dbf with no .shp
        parts = [path.with_suffix(s) for s in (".shp", ".shx", ".dbf")]
        check_file(path, limits, size=sum(p.stat().st_size for p in parts if p.is_file()))
        sidecar = path.with_suffix(SIDECAR)
        columns = _parse_sidecar(sidecar.read_text("utf-8", "replace")) if sidecar.is_file() else {}
        oversized = {}
        # A missing or broken index leaves the check to the WKB; GDAL says what is wrong.
        with (
            suppress(OSError, struct.error),
            path.with_suffix(".shx").open("rb") as shx,
            path.open("rb") as shp,
        ):
            oversized = _oversized(shx, shp, limits.max_vertices)
        table = read_table(path, None, limits, what=_WHAT, oversized=oversized)
        return {layer or path.stem: _restore(table, columns).features()}

    def _read_zip(
        self, path: Path, layer: str | None, limits: ReadLimits
    ) -> dict[str, list[Feature]]:
        check_file(path, limits)
        try:
            with zipfile.ZipFile(path) as archive:
                infos = archive.infolist()
                # A small zip can inflate to far more than it weighs; count what GDAL will read.
                check_size(sum(i.file_size for i in infos), limits)
                sidecars = {
                    Path(i.filename).name.removesuffix(SIDECAR): archive.read(i).decode("utf-8")
                    for i in infos
                    if i.filename.endswith(SIDECAR)
                }
        except zipfile.BadZipFile:
            raise file_problem("not a valid zip file") from None
        except UnicodeDecodeError:
            raise file_problem(f"the {SIDECAR} file in the zip is not UTF-8") from None
        out = {}
        for name in pick_layers(layer_names(path, _WHAT), layer):
            oversized = _oversized_in_zip(path, name, limits.max_vertices)
            table = read_table(path, name, limits, what=_WHAT, oversized=oversized)
            out[name] = _restore(table, _parse_sidecar(sidecars.get(name, ""))).features()
        return out

    def write(self, path: Path, layers: list[LayerData]) -> None:
        """A .shp set for one layer, or a .zip with one .shp set per layer."""
        if path.suffix.lower() != ".zip":
            _write_one(path, single_layer(_WHAT, layers))
            return
        if not layers:
            raise file_problem("nothing to write: no layers")
        remove_existing(path)
        with TemporaryDirectory() as tmp:
            for data in layers:
                _write_one(Path(tmp) / f"{data.name}.shp", data)
            with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
                for file in sorted(Path(tmp).iterdir()):
                    archive.write(file, file.name)


def _write_one(shp: Path, data: LayerData) -> None:
    remove_existing(shp, *_PARTS)
    short = shorten_names(name for name, _ in data.columns)
    write_layer(shp, data, "ESRI Shapefile", names=short, as_text=("datetime",), encoding="UTF-8")
    with shp.with_suffix(SIDECAR).open("w", encoding="utf-8", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(["name", "short_name", "kind"])
        writer.writerows([name, short[name], kind] for name, kind in data.columns)


# Offset of the point count in a record's content, by shape type (ESRI Shapefile whitepaper):
# after type and bounding box, then the part count for (poly)lines, polygons and multipatches.
_POINT_COUNT_AT = {t: 40 for t in (3, 5, 13, 15, 23, 25, 31)} | {t: 36 for t in (8, 18, 28)}


def _oversized(shx: IO[bytes], shp: IO[bytes], max_vertices: int) -> dict[int, int]:
    """FID → point count of each record over the limit, read from the .shx and record headers."""
    index = shx.read()[100:]
    out = {}
    for fid, (offset, words) in enumerate(struct.iter_unpack(">ii", index[: len(index) // 8 * 8])):
        # Each point takes 16 bytes or more, so only longer records can be over the limit.
        if 2 * words <= MIN_VERTEX_BYTES * max_vertices:
            continue
        shp.seek(2 * offset + 8)  # past the record's number and length
        head = shp.read(44)
        at = _POINT_COUNT_AT.get(struct.unpack_from("<i", head)[0])
        if at is not None and (count := struct.unpack_from("<i", head, at)[0]) > max_vertices:
            out[fid] = count
    return out


def _oversized_in_zip(path: Path, layer: str, max_vertices: int) -> dict[int, int]:
    with suppress(OSError, struct.error, zipfile.BadZipFile), zipfile.ZipFile(path) as archive:
        members = {Path(n).name.lower(): n for n in archive.namelist()}
        shx, shp = members.get(f"{layer.lower()}.shx"), members.get(f"{layer.lower()}.shp")
        if shx is None or shp is None:
            return {}
        with archive.open(shx) as shx_file, archive.open(shp) as shp_file:
            return _oversized(shx_file, shp_file, max_vertices)
    return {}


def _parse_sidecar(text: str) -> dict[str, tuple[str, str]]:
    """short name → (name, kind); rows that do not make sense are skipped."""
    rows = csv.DictReader(io.StringIO(text))
    return {
        row["short_name"]: (row["name"], row.get("kind") or "")
        for row in rows
        if row.get("short_name") and row.get("name")
    }


def _restore(table: Table, columns: dict[str, tuple[str, str]]) -> Table:
    for i, short in enumerate(table.names):
        name, kind = columns.get(short, (short, ""))
        table.names[i] = name
        if kind == "datetime":
            table.columns[i] = [_datetime(v) for v in table.columns[i]]
    # Shapefiles store outer rings clockwise; give back the OGC convention (outer ring CCW).
    geoms = np.array(table.geometries, dtype=object)
    present = shapely.is_geometry(geoms)
    geoms[present] = shapely.orient_polygons(geoms[present], exterior_cw=False)
    table.geometries = list(geoms)
    return table


def _datetime(value: object) -> object:
    if not isinstance(value, str):
        return value
    try:
        return datetime.fromisoformat(value)
    except ValueError:
        return value


register(Shapefile())
