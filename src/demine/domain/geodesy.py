"""Areas on the WGS84 ellipsoid: land-release statistics are never in degrees.

A polygon's edges are the straight lines in longitude/latitude that GIS tools draw and that
GEOS cuts along. pyproj.Geod joins vertices by geodesics instead, which bulge away from
those lines (about 100 m² along a 2 km edge at 48° N), so a polygon cut in two would not add
up. Edges are therefore segmentized to at most SEGMENT_DEG before pyproj.Geod measures them:
the area is then that of the polygon as drawn, additive under cuts to ~1e-6 m².
"""

from functools import lru_cache

import numpy as np
import shapely
from pyproj import Geod
from shapely.geometry.base import BaseGeometry

SEGMENT_DEG = 1e-4  # ~11 m; the geodesic/straight-edge lens per segment is < 1e-7 m²


@lru_cache(maxsize=1)
def wgs84() -> Geod:
    """The WGS84 ellipsoid used for every area and length."""
    return Geod(ellps="WGS84")


def geodesic_area(geom: BaseGeometry | None) -> float:
    """Area in m² of a lon/lat geometry, independent of ring orientation."""
    if geom is None or geom.is_empty:
        return 0.0
    total = 0.0
    for part in shapely.get_parts(geom):
        if part.geom_type == "Polygon":
            total += _ring_area(part.exterior.coords)
            total -= sum(_ring_area(ring.coords) for ring in part.interiors)
        elif part.geom_type in ("MultiPolygon", "GeometryCollection"):
            total += geodesic_area(part)
    return total


def _ring_area(coords) -> float:
    """Unsigned area of one ring whose edges are straight in lon/lat."""
    lon, lat = densify(np.asarray(coords, dtype=float)[:, :2])
    return abs(wgs84().polygon_area_perimeter(lon, lat)[0])


def densify(xy: np.ndarray, step: float = SEGMENT_DEG) -> tuple[np.ndarray, np.ndarray]:
    """Points every ``step`` degrees along each straight edge of a closed ring.

    Done here, not with GEOS segmentize, because GEOS repairs what it densifies and can
    return a different polygon.
    """
    start, end = xy[:-1], xy[1:]
    length = np.hypot(*(end - start).T)
    pieces = np.maximum(np.ceil(length / step).astype(np.int64), 1)
    edge = np.repeat(np.arange(len(start)), pieces)
    offset = np.arange(pieces.sum()) - np.repeat(np.cumsum(pieces) - pieces, pieces)
    t = (offset / pieces[edge])[:, None]
    points = start[edge] + t * (end[edge] - start[edge])
    return points[:, 0], points[:, 1]


def geodesic_distance(lon1: float, lat1: float, lon2: float, lat2: float) -> float:
    """Distance in metres between two lon/lat points."""
    return wgs84().inv(lon1, lat1, lon2, lat2)[2]
