"""One layer in or out through GDAL (pyogrio's raw API); shared by the GDAL-backed formats."""

from __future__ import annotations

import warnings
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pyogrio
import pyogrio.errors
import shapely
from pyogrio import raw

from demine.formats.base import Feature, LayerData, ReadLimits, file_problem, record_ref
from demine.formats.geometry import decode, to_wgs84, too_many

_GDAL_ERRORS = (
    pyogrio.errors.DataSourceError,
    pyogrio.errors.DataLayerError,
    pyogrio.errors.FieldError,
    pyogrio.errors.GeometryError,
    pyogrio.errors.FeatureError,
    pyogrio.errors.CRSError,
    UnicodeDecodeError,
)
_INTS = ("OFTInteger", "OFTInteger64")
# Storage is 2D; dates come as ISO text so time zones survive (numpy has none).
_READ = {"force_2d": True, "datetime_as_string": True}


@dataclass
class Table:
    """A layer as read: column names, one Python list per column, geometries and their errors."""

    names: list[str]
    columns: list[list[Any]]
    geometries: list[Any]
    errors: list[str | None]

    def features(self, word: str = "feature") -> list[Feature]:
        """One Feature per row, named "feature N" (1-based) plus the code when present."""
        rows = zip(*self.columns, strict=True) if self.columns else (() for _ in self.geometries)
        out = []
        for n, (values, geom, error) in enumerate(
            zip(rows, self.geometries, self.errors, strict=True), 1
        ):
            props = dict(zip(self.names, values, strict=True))
            out.append(Feature(record_ref(word, n, props), props, geom, error))
        return out


def gdal_error(what: str, exc: Exception) -> Exception:
    """An Invalid for GDAL's complaint about a file, without GDAL's advice to developers."""
    message = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
    message = message.split("; It might help")[0].rstrip(".")
    if "not recognized as being in a supported file format" in message:
        message = f"not recognised as {what}"
    return file_problem(f"could not read {what}: {message}")


@contextmanager
def gdal_options(**options: str):
    """GDAL configuration options set for the duration of a read, then restored."""
    old = {name: pyogrio.get_gdal_config_option(name) for name in options}
    pyogrio.set_gdal_config_options(options)
    try:
        yield
    finally:
        pyogrio.set_gdal_config_options(old)


def layer_names(path: Path | str, what: str) -> list[str]:
    """The layers GDAL sees in a file."""
    try:
        return [str(name) for name, _ in pyogrio.list_layers(path)]
    except _GDAL_ERRORS as exc:
        raise gdal_error(what, exc) from None


def read_table(
    path: Path | str,
    layer: str | None,
    limits: ReadLimits,
    *,
    what: str,
    fid_as: str | None = None,
    oversized: dict[int, int] | None = None,
) -> Table:
    """Read one layer: typed Python values, geometries in EPSG:4326, per-feature errors.

    ``oversized`` (FID → vertex count), found by the format from the file's own index, names
    geometries that GDAL must not even load: they cost several times their size in memory.
    """
    try:
        with warnings.catch_warnings():
            # GDAL warns about unclosed rings and the like; each becomes a geometry_error.
            warnings.simplefilter("ignore", RuntimeWarning)
            if oversized:
                meta, fids, wkbs, data = _read_around(path, layer, oversized)
            else:
                meta, fids, wkbs, data = raw.read(path, layer=layer, return_fids=True, **_READ)
    except _GDAL_ERRORS as exc:
        raise gdal_error(what, exc) from None
    names = [str(n) for n in meta["fields"]]
    columns = [
        _python_values(values, kind, sub)
        for values, kind, sub in zip(data, meta["ogr_types"], meta["ogr_subtypes"], strict=True)
    ]
    if fid_as and fid_as not in names:
        names.insert(0, fid_as)
        columns.insert(0, [int(f) for f in fids.tolist()])
    geoms, errors = decode([None] * len(fids) if wkbs is None else list(wkbs), limits.max_vertices)
    geoms = to_wgs84(geoms, errors, meta.get("crs"))
    if oversized:
        for i, fid in enumerate(fids.tolist()):
            if fid in oversized:
                errors[i] = too_many(oversized[fid], limits.max_vertices)
    return Table(names, columns, geoms, errors)


def _read_around(path: Path | str, layer: str | None, oversized: dict[int, int]):
    """Attributes of every feature; geometries of all but the oversized, read in runs."""
    meta, fids, _, data = raw.read(
        path, layer=layer, read_geometry=False, return_fids=True, **_READ
    )
    wkbs: list[bytes | None] = [None] * len(fids)
    skip = [i for i, fid in enumerate(fids.tolist()) if fid in oversized]
    for start, stop in zip([0] + [i + 1 for i in skip], skip + [len(fids)], strict=True):
        if stop > start:
            geo_meta, _, part, _ = raw.read(
                path, layer=layer, columns=[], skip_features=start, max_features=stop - start,
                **_READ,
            )
            if len(part) != stop - start:  # the two reads must walk the layer alike
                raise pyogrio.errors.DataLayerError("features changed between reads")
            wkbs[start:stop] = list(part)
            meta["crs"] = geo_meta.get("crs")
    return meta, fids, wkbs, data


def _python_values(values: np.ndarray, ogr_type: str, subtype: str) -> list[Any]:
    items = values.tolist()
    if ogr_type in _INTS:
        cast = bool if subtype == "OFSTBoolean" else int
        return [None if v is None or v != v else cast(v) for v in items]
    if ogr_type == "OFTReal":
        return [None if v is None or v != v else float(v) for v in items]
    if ogr_type == "OFTDate":
        return [None if v is None else _parse(date.fromisoformat, v) for v in items]
    if ogr_type == "OFTDateTime":
        return [None if v is None else _parse(datetime.fromisoformat, v) for v in items]
    return items


def _parse(parser, text: str) -> Any:
    try:
        return parser(text)
    except ValueError:  # GDAL has a value it could not type; the caller reports it
        return text


def write_layer(
    path: Path | str,
    data: LayerData,
    driver: str,
    *,
    names: dict[str, str] | None = None,
    as_text: tuple[str, ...] = (),
    **options: Any,
) -> None:
    """Write one layer; ``names`` renames columns, ``as_text`` kinds go out as ISO text."""
    names = names or {}
    arrays, masks, fields, offsets = [], [], [], {}
    for column, kind in data.columns:
        values = [row.get(column) for row in data.rows]
        kind = "text" if kind in as_text else kind
        array, mask, tz = _numpy_values(values, kind)
        field = names.get(column, column)
        arrays.append(array)
        masks.append(mask)
        fields.append(field)
        if tz is not None:
            offsets[field] = tz
    spatial = data.has_geometry
    geometry = shapely.to_wkb(np.array(data.geometries, dtype=object)) if spatial else None
    geometry_type = (data.geometry_type or _common_type(data.geometries)) if spatial else None
    try:
        raw.write(
            str(path), geometry, arrays, fields, field_mask=masks, layer=data.name,
            driver=driver, geometry_type=geometry_type, crs="EPSG:4326" if spatial else None,
            promote_to_multi=True if (geometry_type or "").startswith("Multi") else None,
            gdal_tz_offsets=offsets or None, **options,
        )
    except _GDAL_ERRORS as exc:
        message = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
        raise file_problem(f"could not write {Path(path).name}: {message}") from None


def _numpy_values(values: list[Any], kind: str) -> tuple[np.ndarray, Any, Any]:
    missing = np.array([v is None for v in values], dtype=bool)
    mask = missing if missing.any() else None
    if kind == "int":
        return np.array([0 if v is None else int(v) for v in values], dtype=np.int64), mask, None
    if kind == "bool":
        return np.array([bool(v) for v in values], dtype=bool), mask, None
    if kind == "float":
        floats = [np.nan if v is None else float(v) for v in values]
        return np.array(floats, dtype=np.float64), None, None
    if kind == "date":
        days = [np.datetime64("NaT") if v is None else np.datetime64(_iso(v)[:10]) for v in values]
        return np.array(days, dtype="datetime64[D]"), None, None
    if kind == "datetime":
        return _datetimes(values)
    return np.array([None if v is None else _iso(v) for v in values], dtype=object), None, None


def _datetimes(values: list[Any]) -> tuple[np.ndarray, None, Any]:
    stamps = [datetime.fromisoformat(v) if isinstance(v, str) else v for v in values]
    naive = [np.datetime64("NaT") if v is None else np.datetime64(v.replace(tzinfo=None), "ms")
             for v in stamps]
    if not any(v is not None and v.tzinfo is not None for v in stamps):
        return np.array(naive, dtype="datetime64[ms]"), None, None
    # GDAL's time zone flag: 100 is UTC, each step is 15 minutes; 0 is "unknown".
    offsets = [0 if v is None or v.utcoffset() is None
               else 100 + int(v.utcoffset().total_seconds() // 900) for v in stamps]
    return np.array(naive, dtype="datetime64[ms]"), None, np.array(offsets, dtype=np.int32)


def _iso(value: Any) -> str:
    if isinstance(value, datetime | date):
        return value.isoformat()
    return str(value)


def _common_type(geometries: list[Any]) -> str:
    kinds = {g.geom_type for g in geometries if g is not None}
    if len(kinds) == 1:
        return kinds.pop()
    bases = {k.removeprefix("Multi") for k in kinds}
    return f"Multi{bases.pop()}" if len(bases) == 1 else "Unknown"
