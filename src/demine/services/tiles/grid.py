"""The Web Mercator XYZ tile grid (EPSG:3857, y down from the north): which tiles a place or an
area falls in, what a tile covers, and coordinates on a tile's own integer grid.

Every tile module asks here; nothing else in demine does this arithmetic.
"""

from __future__ import annotations

import math

import numpy as np

from demine.domain.errors import NotFound

EARTH_RADIUS = 6378137.0  # metres: the sphere Web Mercator projects
HALF_WORLD = math.pi * EARTH_RADIUS  # half the width of the Web Mercator square, in metres
MAX_LATITUDE = 85.0511287798066  # where Web Mercator's square ends
MAX_ZOOM = 22
EXTENT = 4096  # integer coordinates across a tile (its own grid)
BUFFER = 64  # how far past its edges, in those coordinates, a tile holds features
PIXELS = 256  # a tile is drawn this many pixels wide: one pixel is the simplification tolerance

Bounds = tuple[float, float, float, float]  # west, south, east, north in degrees


def tile_size(z: int) -> float:
    """The width of a tile of zoom ``z`` in Web Mercator metres."""
    return 2 * HALF_WORLD / 2**z


def check_tile(z: int, x: int, y: int) -> None:
    """NotFound unless z/x/y is a tile of the grid (zooms 0 to MAX_ZOOM)."""
    if not 0 <= z <= MAX_ZOOM:
        raise NotFound(f"no tile {z}/{x}/{y}: zoom runs from 0 to {MAX_ZOOM}")
    if not (0 <= x < 2**z and 0 <= y < 2**z):
        raise NotFound(f"no tile {z}/{x}/{y}: x and y run from 0 to {2**z - 1} at zoom {z}")


def tile_bounds(z: int, x: int, y: int, margin: float = 0.0) -> Bounds:
    """(west, south, east, north) in degrees of tile ``z/x/y``, grown by ``margin`` tiles."""
    size = tile_size(z)

    def lon(mx: float) -> float:
        return math.degrees(mx / EARTH_RADIUS)

    def lat(my: float) -> float:
        return math.degrees(2 * math.atan(math.exp(my / EARTH_RADIUS)) - math.pi / 2)

    left, top = -HALF_WORLD + x * size, HALF_WORLD - y * size
    west, east = lon(left - margin * size), lon(left + (1 + margin) * size)
    south, north = lat(top - (1 + margin) * size), lat(top + margin * size)
    # The grid's edge rows reach the poles as far as the store is concerned.
    return (max(west, -180.0), -90.0 if y == 2**z - 1 else south,
            min(east, 180.0), 90.0 if y == 0 else north)


def tile_range(bounds: Bounds, z: int, margin: float = 0.0) -> tuple[int, int, int, int]:
    """(x0, x1, y0, y1): the tiles of zoom ``z`` that ``bounds`` grown by ``margin`` tiles
    meets, first and last column and row (clamped to the grid)."""
    west, south, east, north = bounds
    n = 2**z

    def clamp(value: float) -> int:
        return max(0, min(n - 1, math.floor(value)))

    (left, top), (right, bottom) = _position(west, north, n), _position(east, south, n)
    return (clamp(left - margin), clamp(right + margin),
            clamp(top - margin), clamp(bottom + margin))


def tile_of(lon: float, lat: float, z: int) -> tuple[int, int]:
    """x, y of the tile of zoom ``z`` holding a point (the nearest one for a point past the
    grid's edge)."""
    x0, _, y0, _ = tile_range((lon, lat, lon, lat), z)
    return x0, y0


def covering(bounds: Bounds, z: int) -> list[tuple[int, int]]:
    """x, y of the tiles of zoom ``z`` that (west, south, east, north) in degrees meets."""
    x0, x1, y0, y1 = tile_range(bounds, z)
    return [(x, y) for x in range(x0, x1 + 1) for y in range(y0, y1 + 1)]


def _position(lon: float, lat: float, n: int) -> tuple[float, float]:
    """Where a point is on the grid of ``n`` × ``n`` tiles, in tiles (latitude clamped to the
    square)."""
    lat = math.radians(max(-MAX_LATITUDE, min(MAX_LATITUDE, lat)))
    return (lon + 180.0) / 360.0 * n, (1 - math.asinh(math.tan(lat)) / math.pi) / 2 * n


def to_tile(lonlat: np.ndarray, z: int, x: int, y: int) -> np.ndarray:
    """Longitude/latitude (n × 2) → coordinates on the EXTENT grid of tile z/x/y (y down)."""
    scale = EXTENT * 2**z / (2 * HALF_WORLD)
    lon = lonlat[:, 0]
    lat = np.clip(lonlat[:, 1], -MAX_LATITUDE, MAX_LATITUDE)
    mx = np.radians(lon) * EARTH_RADIUS
    my = np.log(np.tan(np.pi / 4 + np.radians(lat) / 2)) * EARTH_RADIUS
    return np.column_stack(((mx + HALF_WORLD) * scale - x * EXTENT,
                            (HALF_WORLD - my) * scale - y * EXTENT))
