"""Geometries from WKB: vertex limits checked before building, parse errors kept, WGS84 out."""

from __future__ import annotations

import struct
from collections.abc import Callable, Sequence

import numpy as np
import shapely
from pyproj import CRS, Transformer
from pyproj.exceptions import CRSError
from shapely.errors import GEOSException
from shapely.geometry.base import BaseGeometry

from demine.domain.geometry_rules import nonfinite_reason
from demine.formats.base import file_problem

WGS84 = CRS.from_epsg(4326)
SHORT_RING = "not enough points in a ring (a ring needs 4)"

# Every vertex takes at least 16 bytes of WKB (x and y), so a geometry no longer than
# 16 × limit bytes cannot exceed the limit; only longer ones need their counts walked.
MIN_VERTEX_BYTES = 16
_POINT_LISTS = (2, 8)  # LineString, CircularString
_RING_LISTS = (3, 17)  # Polygon, Triangle
_COLLECTIONS = (4, 5, 6, 7, 9, 10, 11, 12, 15, 16)  # Multi*, collections, curves, surfaces


def vertex_count(wkb: bytes) -> int:
    """Vertices in a WKB geometry, counted from its headers without reading coordinates."""
    buf = memoryview(wkb)
    count, end = count_vertices(lambda pos, size: buf[pos : pos + size], 0)
    if end > len(buf):
        raise ValueError("truncated WKB")
    return count


def count_vertices(
    read: Callable[[int, int], bytes], pos: int, spans: list | None = None
) -> tuple[int, int]:
    """(vertices, end offset) of the WKB geometry at ``pos``; ``read(pos, size)`` gives bytes.

    Only headers and counts are read, so a geometry stored in a file or a blob can be sized
    without loading it. A short read raises ``struct.error``. ``spans`` collects where the
    coordinates lie: (byte order, offset, number of doubles).
    """
    head = read(pos, 5)
    order = "<" if head[0] == 1 else ">"
    (code,) = struct.unpack(order + "I", head[1:5])
    pos += 5
    dims = 2 + bool(code & 0x80000000) + bool(code & 0x40000000)  # EWKB Z and M flags
    if code & 0x20000000:  # EWKB SRID follows the type
        pos += 4
    code &= 0x0FFFFFFF
    dims += (0, 1, 1, 2)[min(code // 1000, 3)]  # ISO Z, M, ZM
    kind = code % 1000
    if kind == 1:
        if spans is not None:
            spans.append((order, pos, dims))
        return 1, pos + 8 * dims
    (n,) = struct.unpack(order + "I", read(pos, 4))
    pos += 4
    if kind in _POINT_LISTS:
        if spans is not None:
            spans.append((order, pos, dims * n))
        return n, pos + 8 * dims * n
    total = 0
    if kind in _RING_LISTS:
        for _ in range(n):
            (m,) = struct.unpack(order + "I", read(pos, 4))
            if spans is not None:
                spans.append((order, pos + 4, dims * m))
            total, pos = total + m, pos + 4 + 8 * dims * m
        return total, pos
    if kind in _COLLECTIONS:
        for _ in range(n):
            count, pos = count_vertices(read, pos, spans)
            total += count
        return total, pos
    raise ValueError(f"unsupported WKB geometry type {kind}")


def too_many(count: int, max_vertices: int) -> str:
    """The geometry_error for a geometry over the vertex limit."""
    return f"{count} vertices exceed the limit of {max_vertices}"


def decode(
    wkbs: Sequence[bytes | None], max_vertices: int
) -> tuple[list[BaseGeometry | None], list[str | None]]:
    """Geometries and, where one cannot be used, why; one bad geometry never stops the rest."""
    geoms: list[BaseGeometry | None] = [None] * len(wkbs)
    errors: list[str | None] = [None] * len(wkbs)
    todo = []
    for i, wkb in enumerate(wkbs):
        if wkb is None:
            continue
        if len(wkb) > MIN_VERTEX_BYTES * max_vertices:
            errors[i] = _over_limit(wkb, max_vertices)
            if errors[i]:
                continue
        todo.append(i)
    with np.errstate(invalid="ignore"):  # NaN coordinates: reported below, not warned about
        parsed = shapely.from_wkb(np.array([wkbs[i] for i in todo], dtype=object),
                                  on_invalid="ignore")
    for i, geom in zip(todo, parsed, strict=True):
        if geom is None:
            errors[i] = _parse_error(wkbs[i])
        else:
            geoms[i] = geom
    for i in short_rings(geoms):
        geoms[i], errors[i] = None, SHORT_RING
    return geoms, errors


def _over_limit(wkb: bytes, max_vertices: int) -> str | None:
    try:
        count = vertex_count(wkb)
    except (ValueError, struct.error, IndexError) as exc:
        return f"could not read geometry: {exc}"
    return too_many(count, max_vertices) if count > max_vertices else None


def _parse_error(wkb: bytes) -> str:
    reason = _nonfinite(wkb)
    if reason:  # GEOS would call a ring closed by NaN "unclosed"
        return reason
    try:
        with np.errstate(invalid="ignore"):
            shapely.from_wkb(wkb)
    except (GEOSException, ValueError) as exc:
        return geos_reason(exc)
    return "could not read geometry"


def _nonfinite(wkb: bytes) -> str | None:
    spans: list = []
    try:
        count_vertices(lambda pos, size: wkb[pos : pos + size], 0, spans)
        for order, pos, n in spans:
            reason = nonfinite_reason(np.frombuffer(wkb, order + "f8", n, pos))
            if reason:
                return reason
    except (ValueError, struct.error, IndexError):
        return None
    return None


def geos_reason(exc: Exception) -> str:
    """A reader's reason for a geometry GEOS would not build."""
    message = str(exc)
    if "closed linestring" in message:
        return "unclosed ring"
    return f"could not read geometry: {message}"


def short_rings(geoms: Sequence[BaseGeometry | None]) -> set[int]:
    """Positions of polygons with a ring of fewer than 4 points."""
    # GEOS accepts a closed 3-point ring from WKB or WKT although no polygon can have one.
    arr = np.array(geoms, dtype=object)
    present = np.flatnonzero(shapely.is_geometry(arr))
    parts, owner = shapely.get_parts(arr[present], return_index=True)
    rings, ring_owner = shapely.get_rings(parts, return_index=True)
    counts = shapely.get_num_coordinates(rings)
    short = (counts > 0) & (counts < 4)
    return {int(present[owner[j]]) for j in ring_owner[short]}


def to_wgs84(
    geoms: list[BaseGeometry | None], errors: list[str | None], crs: str | None
) -> list[BaseGeometry | None]:
    """Geometries reprojected to EPSG:4326 (x = longitude); a file without a CRS is 4326."""
    if crs is None:
        return geoms
    try:
        source = CRS.from_user_input(crs)
    except CRSError:
        raise file_problem(f"unknown coordinate reference system {crs}") from None
    if source.equals(WGS84, ignore_axis_order=True):
        return geoms
    transformer = Transformer.from_crs(source, WGS84, always_xy=True)

    def project(xy: np.ndarray) -> np.ndarray:
        return np.column_stack(transformer.transform(xy[:, 0], xy[:, 1]))

    arr = np.array(geoms, dtype=object)
    present = np.flatnonzero(shapely.is_geometry(arr))
    arr[present] = shapely.transform(arr[present], project)
    coords, owner = shapely.get_coordinates(arr[present], return_index=True)
    for j in set(owner[~np.isfinite(coords).all(axis=1)].tolist()):
        i = int(present[j])
        arr[i], errors[i] = None, f"could not reproject from {source.to_string()} to EPSG:4326"
    return list(arr)
