"""CSV with an HXL hashtag row (hxlstandard.org): points as lat/lon, other shapes as WKT.

Row 1 holds column names, row 2 the HXL hashtags, data starts on row 3; "row N" in a message
is the spreadsheet row. Tags written (see ``hxl_tag``):

- ``id`` #meta+id, ``code`` #meta+code, ``name`` #meta+name, ``status`` #status,
  ``description`` #description, ``organisation_id`` #org+id, ``organisation_code`` #org+code
- dates and datetimes: #date+<name without _on/_date/_at>, e.g. ``reported_on`` #date+reported
- numbers #indicator+num+<name>, booleans #meta+bool+<name>, other text #meta+<name>
- geometry: ``lat`` #geo+lat and ``lon`` #geo+lon for points, ``wkt`` #geo+wkt otherwise
  (#geo+bounds is what HXL tools read as GeoJSON, so WKT gets an attribute of its own)

The reader skips a hashtag row wherever all its filled cells start with "#" and uses it to
type values: #date → date or datetime, +num or +id → int or float, +bool → bool; cells that do
not parse stay text for the caller to report. Without a hashtag row every value is text.
"""

from __future__ import annotations

import csv
import math
import re
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any

import shapely
from shapely.errors import GEOSException

from demine.domain.errors import Invalid, Problem
from demine.formats.base import (
    Feature,
    LayerData,
    ReadLimits,
    check_file,
    file_problem,
    find_bad_utf8,
    record_ref,
    single_layer,
)
from demine.formats.geometry import SHORT_RING, geos_reason, short_rings
from demine.formats.registry import register

LAT, LON, WKT = "lat", "lon", "wkt"
_TAGS = {
    "id": "#meta+id", "code": "#meta+code", "name": "#meta+name", "status": "#status",
    "description": "#description", "organisation_id": "#org+id",
    "organisation_code": "#org+code", "organisation": "#org+code",
    LAT: "#geo+lat", LON: "#geo+lon", WKT: "#geo+wkt",
}
# Header names that mean a geometry column in a file with no hashtag row.
_GEO_NAMES = {"lat": LAT, "latitude": LAT, "lon": LON, "lng": LON, "long": LON,
              "longitude": LON, "wkt": WKT, "geometry": WKT, "geom": WKT}
_LOOKS_LIKE_DATA = re.compile(
    r"[-+]?\d+([.,]\d+)?|\d{4}-\d{2}-\d{2}.*|(MULTI)?(POINT|LINESTRING|POLYGON)\s*\(.*", re.I
)
_INT = re.compile(r"[-+]?\d+")


def hxl_tag(name: str, kind: str) -> str:
    """The HXL hashtag written under a column."""
    if name in _TAGS:
        return _TAGS[name]
    if kind in ("date", "datetime"):
        return f"#date+{_attribute(re.sub(r'_(on|date|at)$', '', name))}"
    if kind in ("int", "float"):
        return f"#indicator+num+{_attribute(name)}"
    return f"#meta+bool+{_attribute(name)}" if kind == "bool" else f"#meta+{_attribute(name)}"


def _attribute(name: str) -> str:
    # HXL attributes are lower-case letters, digits and "_", starting with a letter.
    attr = re.sub(r"[^a-z0-9_]", "_", name.lower())
    return attr if attr[:1].isalpha() else f"x{attr}"


@dataclass
class _Layout:
    """What each column of a file holds: property name and kind, or a geometry part."""

    properties: list[tuple[int, str, str]] = field(default_factory=list)
    geometry: dict[str, int] = field(default_factory=dict)


class CsvHxl:
    """CSV (RFC 4180, UTF-8) with an HXL hashtag row under the header."""

    name = "csv"
    extensions = (".csv",)

    def read(
        self, path: Path, *, layer: str | None, limits: ReadLimits
    ) -> dict[str, list[Feature]]:
        """The file's one layer, keyed by ``layer`` or the file stem."""
        check_file(path, limits)
        bad = find_bad_utf8(path)
        if bad:
            raise Invalid(Problem(f"row {bad[1]}", "-", f"not valid UTF-8 at byte {bad[0]}"))
        # A WKT cell may be megabytes long; the byte limit has already bounded the file.
        csv.field_size_limit(max(csv.field_size_limit(), min(limits.max_bytes, 2**31 - 1)))
        with path.open(encoding="utf-8-sig", newline="") as f:
            delimiter = _delimiter(f.readline())
        with path.open(encoding="utf-8-sig", newline="") as f:
            reader = csv.reader(f, delimiter=delimiter)
            try:
                features = _read_rows(enumerate(reader, 1), limits)
            except csv.Error as exc:
                raise Invalid(
                    Problem(f"row {reader.line_num}", "-", f"malformed CSV: {exc}")
                ) from None
        return {layer or path.stem: features}

    def write(self, path: Path, layers: list[LayerData]) -> None:
        """Header, hashtag row, one row per record (UTF-8, no BOM, CRLF line ends)."""
        data = single_layer("CSV", layers)
        names = [name for name, _ in data.columns]
        geo = _geometry_columns(data)
        if clash := set(names) & set(geo):
            raise file_problem(f"column {sorted(clash)[0]} would clash with the geometry column")
        with path.open("w", encoding="utf-8", newline="") as f:
            writer = csv.writer(f)
            writer.writerow(names + geo)
            writer.writerow([hxl_tag(n, k) for n, k in data.columns] + [_TAGS[g] for g in geo])
            for row, geom in zip(data.rows, data.geometries, strict=True):
                writer.writerow([_cell(row.get(n)) for n in names] + _geometry_cells(geom, geo))


def _delimiter(first_line: str) -> str:
    # Spreadsheets in many locales save with ";" (or tabs); the header row tells which.
    if "," not in first_line:
        for candidate in (";", "\t"):
            if candidate in first_line:
                return candidate
    return ","


def _read_rows(rows, limits: ReadLimits) -> list[Feature]:
    number, header = next(rows, (0, None))
    if not header:
        raise file_problem("empty file: no header row")
    header = [h.strip() for h in header]
    _check_header(header)
    layout, tags = _layout(header, None), None
    features, problems = [], []
    for number, cells in rows:
        if not any(c.strip() for c in cells):
            continue
        if tags is None and number == 2 and _is_hashtag_row(cells):
            tags = cells
            layout = _layout(header, cells)
            continue
        if len(cells) > len(header):
            problems.append(Problem(f"row {number}", "-",
                                    f"{len(cells)} cells but the header has {len(header)}"))
            continue
        cells = cells + [""] * (len(header) - len(cells))
        features.append(_feature(number, cells, layout, limits.max_vertices))
    if problems:
        raise Invalid(problems)
    return features


def _check_header(header: list[str]) -> None:
    if _is_hashtag_row(header):
        raise Invalid(Problem("row 1", "-", "hashtag row without a header row of names above"))
    problems = []
    data_like = [h for h in header if _LOOKS_LIKE_DATA.fullmatch(h)]
    if data_like:
        problems.append(Problem("row 1", "-", f"no header row: '{data_like[0]}' looks like data"))
    for i, name in enumerate(header, 1):
        if not name:
            problems.append(Problem("row 1", f"column {i}", "empty column name"))
        elif name in header[: i - 1]:
            problems.append(Problem("row 1", name, "duplicate column name"))
    if problems:
        raise Invalid(problems)


def _is_hashtag_row(cells: list[str]) -> bool:
    filled = [c.strip() for c in cells if c.strip()]
    return bool(filled) and all(c.startswith("#") for c in filled)


def _layout(header: list[str], tags: list[str] | None) -> _Layout:
    layout = _Layout()
    for i, name in enumerate(header):
        tag = (tags[i] if tags and i < len(tags) else "").strip().lower().replace(" ", "")
        hashtag, *attrs = tag.split("+") if tag else ("",)
        geo = next((a for a in attrs if a in (LAT, LON, WKT)), None) if hashtag == "#geo" else None
        if geo is None and tags is None:
            geo = _GEO_NAMES.get(name.lower())
        if geo is not None and geo not in layout.geometry:
            layout.geometry[geo] = i
        else:
            layout.properties.append((i, name, _kind_of(hashtag, set(attrs))))
    return layout


def _kind_of(hashtag: str, attrs: set[str]) -> str:
    if hashtag == "#date":
        return "date"
    if attrs & {"num", "id"}:
        return "number"
    return "bool" if "bool" in attrs else "text"


def _feature(number: int, cells: list[str], layout: _Layout, max_vertices: int) -> Feature:
    props = {name: _value(cells[i].strip(), kind) for i, name, kind in layout.properties}
    geom, error = _geometry(cells, layout.geometry, max_vertices)
    return Feature(record_ref("row", number, props), props, geom, error)


def _value(text: str, kind: str) -> Any:
    if not text:
        return None
    try:
        if kind == "number":
            number = int(text) if _INT.fullmatch(text) else float(text)
            return number if math.isfinite(number) else text
        if kind == "date":
            return date.fromisoformat(text) if len(text) == 10 else datetime.fromisoformat(text)
    except ValueError:
        return text
    if kind == "bool" and text.lower() in ("true", "false", "1", "0", "yes", "no"):
        return text.lower() in ("true", "1", "yes")
    return text


def _geometry(cells: list[str], columns: dict[str, int], max_vertices: int):
    wkt = cells[columns[WKT]].strip() if WKT in columns else ""
    if wkt:
        return _from_wkt(wkt, max_vertices)
    if LAT not in columns or LON not in columns:
        return None, None
    lat, lon = cells[columns[LAT]].strip(), cells[columns[LON]].strip()
    if not lat and not lon:
        return None, None
    try:
        return shapely.Point(float(lon), float(lat)), None
    except ValueError:
        return None, f"latitude '{lat}' / longitude '{lon}' is not a pair of numbers"


def _from_wkt(text: str, max_vertices: int):
    # Commas separate vertices (and rings, when followed by "("): an estimate needing no parse.
    estimate = text.count(",") + 1 - len(re.findall(r",\s*\(", text))
    if estimate > max_vertices:
        return None, f"{estimate} vertices exceed the limit of {max_vertices}"
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


def _geometry_columns(data: LayerData) -> list[str]:
    if not data.has_geometry:
        return []
    kinds = {g.geom_type for g in data.geometries if g is not None}
    return [LAT, LON] if kinds <= {"Point"} and data.geometry_type in (None, "Point") else [WKT]


def _geometry_cells(geom, columns: list[str]) -> list[str]:
    if not columns:
        return []
    if geom is None or geom.is_empty:
        return [""] * len(columns)
    if columns == [LAT, LON]:
        return [repr(geom.y), repr(geom.x)]
    return [shapely.to_wkt(geom, rounding_precision=-1)]


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, date | datetime):
        return value.isoformat()
    return repr(value) if isinstance(value, float) else str(value)


register(CsvHxl())
