"""Coordinate reference systems by reference (OGC API - Features Part 2).

Geometry is stored in lon/lat (CRS84 axis order). Output and input in another CRS go through
pyproj with ``always_xy=True``; CRSs whose first axis points north (EPSG:4326) get their
coordinates swapped, so that EPSG:4326 is served and read in lat/lon order as its definition
says, and CRS84 in lon/lat.
"""

from __future__ import annotations

import math
from functools import lru_cache

import numpy as np
import shapely
from pyproj import CRS, Transformer
from shapely.geometry.base import BaseGeometry

from demine.domain.errors import Invalid, Problem

CRS84 = "http://www.opengis.net/def/crs/OGC/1.3/CRS84"
EPSG_URI = "http://www.opengis.net/def/crs/EPSG/0/"
WGS84 = EPSG_URI + "4326"
WEB_MERCATOR = EPSG_URI + "3857"


def utm_zones(bounds: tuple[float, float, float, float] | None) -> list[str]:
    """URIs of the WGS 84 / UTM zones (326xx north, 327xx south) that cover lon/lat ``bounds``."""
    if bounds is None:
        return []
    minx, miny, maxx, maxy = bounds
    first = _zone(max(minx, -180.0))
    last = _zone(min(maxx, 179.999999))
    hemispheres = ([326] if maxy >= 0 else []) + ([327] if miny < 0 else [])
    return [f"{EPSG_URI}{h}{z:02d}" for h in hemispheres for z in range(first, last + 1)]


def _zone(lon: float) -> int:
    return min(int(math.floor((lon + 180.0) / 6.0)) + 1, 60)


def supported(bounds: tuple[float, float, float, float] | None) -> list[str]:
    """Every CRS a collection can be served in: CRS84 first (the default), then the others."""
    return [CRS84, WGS84, WEB_MERCATOR, *utm_zones(bounds)]


def normalise(uri: str | None) -> str | None:
    """A CRS URI without the angle brackets a Content-Crs header puts around it."""
    if uri is None:
        return None
    return uri.strip().removeprefix("<").removesuffix(">").strip()


def check(uri: str | None, allowed: list[str], parameter: str) -> str:
    """The CRS asked for (CRS84 when none), refused unless it is one of ``allowed``."""
    uri = normalise(uri) or CRS84
    plain = uri.replace("https://", "http://", 1)
    if plain not in allowed:
        raise Invalid(Problem("request", parameter,
                              f"unsupported CRS {uri!r}; supported: {', '.join(allowed)}"))
    return plain


@lru_cache(maxsize=64)
def _definition(uri: str) -> tuple[CRS, bool]:
    code = "OGC:CRS84" if uri == CRS84 else "EPSG:" + uri.removeprefix(EPSG_URI)
    crs = CRS.from_user_input(code)
    return crs, crs.axis_info[0].direction in ("north", "south")


@lru_cache(maxsize=64)
def _transformer(source: str, target: str) -> Transformer:
    return Transformer.from_crs(_definition(source)[0], _definition(target)[0], always_xy=True)


def _reproject(geom: BaseGeometry, source: str, target: str) -> BaseGeometry:
    if source == target or geom is None:
        return geom
    transformer = _transformer(source, target)
    swap_in, swap_out = _definition(source)[1], _definition(target)[1]

    def move(coords: np.ndarray) -> np.ndarray:
        x, y = (coords[:, 1], coords[:, 0]) if swap_in else (coords[:, 0], coords[:, 1])
        x, y = transformer.transform(x, y)
        return np.column_stack((y, x) if swap_out else (x, y))

    return shapely.transform(geom, move)


def to_crs(geom: BaseGeometry | None, uri: str) -> BaseGeometry | None:
    """A stored (lon/lat) geometry in the CRS ``uri``, in that CRS's axis order."""
    return _reproject(geom, CRS84, uri)


def from_crs(geom: BaseGeometry | None, uri: str) -> BaseGeometry | None:
    """A geometry given in the CRS ``uri`` as stored (lon/lat)."""
    return _reproject(geom, uri, CRS84)


def bbox_to_lonlat(values: list[float], uri: str) -> tuple[float, float, float, float]:
    """A bbox given in the CRS ``uri`` (its axis order) as lon/lat bounds."""
    lower, upper = (values[:2], values[2:4]) if len(values) == 4 else (values[:2], values[3:5])
    if _definition(uri)[1]:
        lower, upper = lower[::-1], upper[::-1]
    minx, miny, maxx, maxy = *lower, *upper
    if minx > maxx or miny > maxy:
        raise Invalid(Problem("request", "bbox", "the lower corner must come before the upper "
                                                 "(bboxes across the antimeridian unsupported)"))
    if uri == CRS84:
        return minx, miny, maxx, maxy
    bounds = _transformer(uri, CRS84).transform_bounds(minx, miny, maxx, maxy, densify_pts=21)
    if not all(math.isfinite(v) for v in bounds):
        raise Invalid(Problem("request", "bbox", "the bbox lies outside the CRS's area of use"))
    return bounds
