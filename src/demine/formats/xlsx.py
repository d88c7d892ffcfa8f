"""XLSX workbooks (Office Open XML, through openpyxl): one sheet per layer, header on row 1.

Geometry goes where CSV puts it: ``lat`` and ``lon`` columns for a layer of points, a ``wkt``
column otherwise (header names read case-insensitively: lat/latitude, lon/lng/longitude,
wkt/geometry/geom). Cells keep their types: numbers, booleans and dates are spreadsheet values;
date-times with a time zone, which a spreadsheet cannot hold, are ISO-8601 text; floats keep
all 17 significant digits. A sheet is a layer named after the sheet; "row N" in a message is
the spreadsheet row.
"""

from __future__ import annotations

import math
import re
import zipfile
import zlib
from datetime import date, datetime
from pathlib import Path
from typing import Any
from xml.etree.ElementTree import ParseError

import shapely
from openpyxl import Workbook, load_workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.utils.exceptions import InvalidFileException
from shapely.errors import GEOSException

from demine.domain.errors import Invalid, Problem
from demine.formats.base import (
    Feature,
    LayerData,
    ReadLimits,
    check_file,
    file_problem,
    pick_layers,
    record_ref,
    remove_existing,
)
from demine.formats.geometry import SHORT_RING, geos_reason, short_rings, too_many
from demine.formats.registry import register

LAT, LON, WKT = "lat", "lon", "wkt"
_GEO_NAMES = {"lat": LAT, "latitude": LAT, "lon": LON, "lng": LON, "long": LON,
              "longitude": LON, "wkt": WKT, "geometry": WKT, "geom": WKT}
MAX_CELL = 32_767  # characters an XLSX cell holds
_DATE, _DATETIME = "yyyy-mm-dd", "yyyy-mm-dd hh:mm:ss"
_SHEET_NAME = re.compile(r"[\[\]:*?/\\]")
# What a damaged or foreign file makes openpyxl raise: the zip, the inflater or the XML.
_BROKEN = (zipfile.BadZipFile, InvalidFileException, KeyError, OSError, EOFError, ValueError,
           zlib.error, ParseError)


class Xlsx:
    """Excel / LibreOffice workbooks: many layers, one per sheet."""

    name = "xlsx"
    extensions = (".xlsx",)

    def read(
        self, path: Path, *, layer: str | None, limits: ReadLimits
    ) -> dict[str, list[Feature]]:
        """Each sheet (or the one named) as a layer."""
        check_file(path, limits)
        try:
            book = load_workbook(path, read_only=True, data_only=True)
        except _BROKEN as exc:
            raise file_problem("not a readable XLSX workbook (not XLSX, truncated or damaged): "
                               f"{_reason(exc)}") from None
        try:
            return {name: _read_sheet(book[name], limits.max_vertices)
                    for name in pick_layers(book.sheetnames, layer)}
        except _BROKEN as exc:
            raise file_problem("could not read the XLSX workbook (truncated or damaged?): "
                               f"{_reason(exc)}") from None
        finally:
            book.close()

    def write(self, path: Path, layers: list[LayerData]) -> None:
        """A workbook with one sheet per layer: header row, then one row per record."""
        if not layers:
            raise file_problem("nothing to write: no layers")
        book = Workbook(write_only=True)
        for data in layers:
            _write_sheet(book, data)
        remove_existing(path)
        book.save(path)


def _reason(exc: Exception) -> str:
    return str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__


def _write_sheet(book: Workbook, data: LayerData) -> None:
    if _SHEET_NAME.search(data.name) or not 0 < len(data.name) <= 31:
        raise file_problem(f"layer name {data.name!r} cannot name a sheet (31 characters, "
                           "none of []:*?/\\)")
    sheet = book.create_sheet(data.name)
    names = [name for name, _ in data.columns]
    geo = _geometry_columns(data)
    if clash := set(names) & set(geo):
        raise file_problem(f"column {sorted(clash)[0]} would clash with the geometry column")
    sheet.append(names + geo)
    kinds = [kind for _, kind in data.columns]
    for number, (row, geom) in enumerate(zip(data.rows, data.geometries, strict=True), 2):
        cells = [_cell(row.get(n), k) for n, k in zip(names, kinds, strict=True)]
        cells += _geometry_cells(geom, geo, data.name, number)
        sheet.append([_exact(sheet, c) if type(c) is float else c for c in cells])


def _exact(sheet, value: float) -> Any:
    """A number cell holding every digit: openpyxl writes floats with 16 significant digits,
    one short of what a double needs to come back the same."""
    if not math.isfinite(value):
        return None
    cell = WriteOnlyCell(sheet, repr(value))
    cell.data_type = "n"
    return cell


def _cell(value: Any, kind: str) -> Any:
    if value is None:
        return None
    if isinstance(value, datetime):
        return value.isoformat() if value.tzinfo else value  # no time zones in a spreadsheet
    if isinstance(value, date) or kind in ("int", "float", "bool"):
        return value
    text = value if isinstance(value, str) else str(value)
    if len(text) > MAX_CELL:
        raise file_problem(f"a value of {len(text)} characters does not fit an XLSX cell "
                           f"({MAX_CELL} at most)")
    return text


def _geometry_columns(data: LayerData) -> list[str]:
    if not data.has_geometry:
        return []
    kinds = {g.geom_type for g in data.geometries if g is not None}
    return [LAT, LON] if kinds <= {"Point"} and data.geometry_type in (None, "Point") else [WKT]


def _geometry_cells(geom, columns: list[str], layer: str, number: int) -> list[Any]:
    if not columns:
        return []
    if geom is None or geom.is_empty:
        return [None] * len(columns)
    if columns == [LAT, LON]:
        return [geom.y, geom.x]
    wkt = shapely.to_wkt(geom, rounding_precision=-1)
    if len(wkt) > MAX_CELL:
        raise file_problem(f"layer {layer}, row {number}: the geometry's WKT has {len(wkt)} "
                           f"characters, more than an XLSX cell holds ({MAX_CELL}); export "
                           "this layer as GeoPackage instead")
    return [wkt]


def _read_sheet(sheet, max_vertices: int) -> list[Feature]:
    rows = sheet.iter_rows(values_only=True)
    header = next(rows, None)
    if not header or all(_blank(h) for h in header):
        raise Invalid(Problem(f"sheet {sheet.title}", "row 1", "no header row"))
    names = ["" if h is None else str(h).strip() for h in header]
    _check_header(sheet.title, names)
    geo = {}
    for i, name in enumerate(names):
        kind = _GEO_NAMES.get(name.lower())
        if kind and kind not in geo:
            geo[kind] = i
    features = []
    for number, cells in enumerate(rows, 2):
        if all(_blank(c) for c in cells):
            continue
        cells = list(cells) + [None] * (len(names) - len(cells))
        props = {name: _value(cells[i]) for i, name in enumerate(names)
                 if name and i not in geo.values()}
        geom, error = _geometry(cells, geo, max_vertices)
        features.append(Feature(record_ref("row", number, props), props, geom, error))
    _floats_stay_floats(features)
    return features


def _floats_stay_floats(features: list[Feature]) -> None:
    """A spreadsheet stores 0.0 as 0: in a column holding any fraction, whole numbers are
    floats too."""
    columns = {k for f in features for k, v in f.properties.items() if type(v) is float}
    for feature in features:
        for key in columns:
            if type(feature.properties.get(key)) is int:
                feature.properties[key] = float(feature.properties[key])


def _check_header(sheet: str, names: list[str]) -> None:
    problems = []
    for i, name in enumerate(names, 1):
        if not name:
            continue  # an unnamed column (often a stray formatted cell) is skipped
        if name in names[: i - 1]:
            problems.append(Problem(f"sheet {sheet}", name, "duplicate column name"))
    if problems:
        raise Invalid(problems)


def _blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def _value(value: Any) -> Any:
    if isinstance(value, datetime) and value.time() == datetime.min.time():
        return value.date()  # a date cell: openpyxl hands it back as midnight
    if isinstance(value, str):
        return value.strip() or None
    return value


def _geometry(cells: list[Any], columns: dict[str, int], max_vertices: int):
    wkt = cells[columns[WKT]] if WKT in columns else None
    if not _blank(wkt):
        return _from_wkt(str(wkt).strip(), max_vertices)
    if LAT not in columns or LON not in columns:
        return None, None
    lat, lon = cells[columns[LAT]], cells[columns[LON]]
    if _blank(lat) and _blank(lon):
        return None, None
    try:
        return shapely.Point(float(lon), float(lat)), None
    except (TypeError, ValueError):
        return None, f"latitude {lat!r} / longitude {lon!r} is not a pair of numbers"


def _from_wkt(text: str, max_vertices: int):
    # Commas separate vertices (and rings, when followed by "("): an estimate needing no parse.
    estimate = text.count(",") + 1 - len(re.findall(r",\s*\(", text))
    if estimate > max_vertices:
        return None, too_many(estimate, max_vertices)
    try:
        geom = shapely.from_wkt(text)
    except (GEOSException, ValueError) as exc:
        reason = geos_reason(exc)
        if reason.startswith("could not read geometry"):
            reason = "could not parse WKT: " + str(exc).removeprefix("ParseException: ")
        return None, reason
    if short_rings([geom]):
        return None, SHORT_RING
    return geom, None


register(Xlsx())
