"""What a geometry must be before demine stores it; each failure becomes a Problem."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import shapely
from shapely.geometry import MultiPolygon, Polygon
from shapely.geometry.base import BaseGeometry

from demine.domain.errors import Problem

POLYGONAL = ("Polygon", "MultiPolygon")


@dataclass(frozen=True)
class Extent:
    """The gazetteer's bounding box (lon/lat) plus a margin; None where none is loaded."""

    minx: float
    miny: float
    maxx: float
    maxy: float

    def contains(self, bounds: tuple[float, float, float, float]) -> bool:
        """Whether a bounding box lies inside the extent."""
        x0, y0, x1, y1 = bounds
        return self.minx <= x0 and x1 <= self.maxx and self.miny <= y0 and y1 <= self.maxy


def check_geometry(
    geom: BaseGeometry | None,
    *,
    record: str,
    field: str = "geometry",
    expected: tuple[str, ...],
    max_vertices: int,
    extent: Extent | None = None,
) -> list[Problem]:
    """Problems with one geometry: type, size, range, swapped axes, validity, extent."""
    problem = _first_problem(geom, expected, max_vertices, extent)
    return [] if problem is None else [Problem(record, field, problem)]


def _first_problem(geom, expected, max_vertices, extent) -> str | None:
    if geom is None or geom.is_empty:
        return "empty geometry"
    if geom.geom_type not in expected:
        return f"wrong geometry type {geom.geom_type}, expected {' or '.join(expected)}"
    vertices = shapely.get_num_coordinates(geom)
    if vertices > max_vertices:
        return f"{vertices} vertices exceed the limit of {max_vertices}"
    reason = nonfinite_reason(shapely.get_coordinates(geom))
    if reason:
        return reason
    x0, y0, x1, y1 = geom.bounds
    if x0 < -180 or x1 > 180 or y0 < -90 or y1 > 90:
        if abs(x0) > 360 or abs(y0) > 360:
            return (
                f"coordinates out of range ({x0:.0f}, {y0:.0f}): a projected CRS? "
                "expected longitude/latitude (EPSG:4326)"
            )
        return f"coordinates out of range (lon {x0:.6f}..{x1:.6f}, lat {y0:.6f}..{y1:.6f})"
    if extent is not None and not extent.contains((x0, y0, x1, y1)):
        if extent.contains((y0, x0, y1, x1)):
            return "latitude and longitude look swapped (swapped, it falls inside the gazetteer)"
        return f"outside the gazetteer extent (lon {x0:.5f}, lat {y0:.5f})"
    if geom.geom_type in POLYGONAL and not geom.is_valid:
        return f"invalid polygon: {shapely.is_valid_reason(geom)}"
    return None


NOT_A_NUMBER = "coordinate is not a number"
NOT_FINITE = "coordinate is not finite"


def nonfinite_reason(coords: np.ndarray) -> str | None:
    """Why coordinates cannot be used (NaN, infinite), or None."""
    if np.isnan(coords).any():
        return NOT_A_NUMBER
    return None if np.isfinite(coords).all() else NOT_FINITE


def raw_nonfinite_reason(coordinates: Any) -> str | None:
    """The same for GeoJSON ``coordinates`` (nested lists) before any geometry is built."""
    stack, infinite = [coordinates], False
    while stack:
        value = stack.pop()
        if isinstance(value, list | tuple):
            stack.extend(value)
        elif isinstance(value, float) and not math.isfinite(value):
            if value != value:
                return NOT_A_NUMBER
            infinite = True
    return NOT_FINITE if infinite else None


def as_multipolygon(geom: BaseGeometry) -> MultiPolygon:
    """Promote a polygon (or polygonal collection) to a MultiPolygon, dropping slivers of lines."""
    if isinstance(geom, MultiPolygon):
        return geom
    if isinstance(geom, Polygon):
        return MultiPolygon([geom])
    parts = [p for p in shapely.get_parts(geom) if p.geom_type in POLYGONAL and not p.is_empty]
    polys: list[Polygon] = []
    for part in parts:
        polys.extend(part.geoms if isinstance(part, MultiPolygon) else [part])
    return MultiPolygon(polys)


def same_geometry(a: BaseGeometry | None, b: BaseGeometry | None, tolerance=1e-9) -> bool:
    """Whether two geometries are the same shape, whatever their vertex order or orientation."""
    if a is None or b is None:
        return a is b
    return bool(shapely.equals_exact(shapely.normalize(a), shapely.normalize(b), tolerance))
