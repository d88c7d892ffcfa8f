"""Geodesic areas on the WGS84 ellipsoid: land-release statistics are never in degrees."""

from functools import lru_cache

import shapely
from pyproj import Geod
from shapely.geometry.base import BaseGeometry
from shapely.geometry.polygon import orient


@lru_cache(maxsize=1)
def wgs84() -> Geod:
    """The WGS84 ellipsoid used for every area and length."""
    return Geod(ellps="WGS84")


def geodesic_area(geom: BaseGeometry | None) -> float:
    """Area in m² of a lon/lat geometry, independent of ring orientation."""
    if geom is None or geom.is_empty:
        return 0.0
    geod = wgs84()
    total = 0.0
    for part in shapely.get_parts(geom):
        if part.geom_type == "Polygon":
            # Exterior counter-clockwise, holes clockwise: pyproj then subtracts holes.
            total += abs(geod.geometry_area_perimeter(orient(part, 1.0))[0])
        elif part.geom_type in ("MultiPolygon", "GeometryCollection"):
            total += geodesic_area(part)
    return total


def geodesic_distance(lon1: float, lat1: float, lon2: float, lat2: float) -> float:
    """Distance in metres between two lon/lat points."""
    return wgs84().inv(lon1, lat1, lon2, lat2)[2]
