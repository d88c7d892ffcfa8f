"""Mapbox Vector Tile 2.1 in Python, for stores that cannot encode tiles themselves (GeoPackage).

What PostGIS does with ``ST_Simplify`` (collapsed shapes kept), ``ST_AsMVTGeom`` and
``ST_AsMVT``, in the same order and with the same parameters: Web Mercator tile coordinates
(y down), simplification by a tolerance, clipping to the tile plus a buffer, snapping to the
integer grid of the extent with valid output, exterior rings with positive area (clockwise on
screen), then the protobuf of the spec (github.com/mapbox/vector-tile-spec, 2.1), written by
hand (``messages``; geometry commands: ``paths``).
"""

from __future__ import annotations

import operator
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import shapely
from shapely.geometry.base import BaseGeometry

from demine.services.tiles.grid import BUFFER, EXTENT, to_tile
from demine.services.tiles.mvt.messages import (
    LINESTRING,
    POINT,
    POLYGON,
    feature_fields,
    field,
    number,
    tag_columns,
    value_fields,
)
from demine.services.tiles.mvt.paths import geometry_commands

_KIND = {"Point": POINT, "MultiPoint": POINT, "LineString": LINESTRING,
         "MultiLineString": LINESTRING, "Polygon": POLYGON, "MultiPolygon": POLYGON}


def tile_geometries(
    geoms: Sequence[BaseGeometry | None], z: int, x: int, y: int, tolerance: float
) -> list[BaseGeometry | None]:
    """Geometries in EPSG:4326 → integer tile coordinates, simplified by ``tolerance`` (tile
    units), clipped to the tile plus BUFFER, snapped and valid; None where nothing is left."""
    arr = np.array(list(geoms), dtype=object)
    present = shapely.is_geometry(arr)
    out = np.full(len(arr), None, dtype=object)
    if not present.any():
        return list(out)
    tiled = shapely.transform(arr[present], lambda lonlat: to_tile(lonlat, z, x, y))
    lines = ~np.isin(shapely.get_type_id(tiled), (0, 4))  # points need no simplification
    tiled[lines] = _simplify(tiled[lines], tolerance)
    low, high = -BUFFER, EXTENT + BUFFER
    minx, miny, maxx, maxy = shapely.bounds(tiled).T
    crossing = ~((minx >= low) & (miny >= low) & (maxx <= high) & (maxy <= high))
    tiled[crossing] = shapely.clip_by_rect(tiled[crossing], low, low, high, high)
    out[present] = _snap(tiled)
    out[shapely.is_empty(out)] = None  # (None stays None)
    mixed = np.flatnonzero(shapely.get_type_id(out) == 7)
    out[mixed] = [_one_kind(g) for g in out[mixed]]
    return list(out)


def tile_points(lonlat: np.ndarray, z: int, x: int, y: int, *, limit: int,
                cell: int) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
    """For a point layer (``lonlat``: n × 2, NaN where there is none, rows in id order):
    which points the tile keeps, their snapped tile coordinates, and how many each stands
    for (None below ``limit``). What ``tile_geometries`` does with shapes, and PostGIS with
    dense point tiles (``postgis._thinned``), on coordinates alone: kept within the tile
    plus BUFFER, then rounded as GEOS rounds (half up), and above ``limit`` the first of
    each ``cell`` × ``cell`` square."""
    exact = to_tile(lonlat, z, x, y)
    low, high = -BUFFER, EXTENT + BUFFER
    inside = np.flatnonzero(np.all((exact >= low) & (exact <= high), axis=1))  # then snapped
    tiled = np.floor(exact + 0.5)
    if len(inside) <= limit:
        return inside, tiled[inside], None
    corner = np.floor(tiled[inside] / cell).astype(np.int64)
    squares = (corner[:, 0] << 32) + corner[:, 1]  # one key per square (|coordinate| < 2^31)
    _, first, counts = np.unique(squares, return_index=True, return_counts=True)
    order = np.argsort(first)
    kept = inside[first[order]]
    return kept, tiled[kept], counts[order]


def _one_kind(geom: BaseGeometry) -> BaseGeometry | None:
    """A clipped polygon may come back as a collection with slivers of lower dimension: keep
    the parts of the highest one (what ST_AsMVTGeom keeps)."""
    if geom.geom_type != "GeometryCollection":
        return geom
    parts = shapely.get_parts(geom)
    dims = shapely.get_dimensions(parts)
    best = parts[dims == dims.max()]
    kind = ("MultiPoint", "MultiLineString", "MultiPolygon")[int(dims.max())]
    return getattr(shapely, kind)(list(shapely.get_parts(best)))


def _simplify(geoms: np.ndarray, tolerance: float) -> np.ndarray:
    """Douglas-Peucker keeping what it would collapse (as ST_Simplify's preserveCollapsed
    does), so that a small hazard stays on the map at low zoom: as the minimal ring PostGIS
    keeps, a triangle, here spanning its bounding box (what a shape smaller than the tolerance
    looks like at that zoom, and some twenty times cheaper than GEOS's topology-preserving
    simplifier on the 50,000 such hazards of a zoom-8 tile). Snapping to the grid then keeps
    it if it spans a cell."""
    minx, miny, maxx, maxy = shapely.bounds(geoms).T
    small = np.hypot(maxx - minx, maxy - miny) < tolerance  # every point within it of another
    simple = np.empty(len(geoms), dtype=object)
    simple[small] = shapely.Polygon()
    simple[~small] = shapely.simplify(geoms[~small], tolerance, preserve_topology=False)
    collapsed = np.flatnonzero(shapely.is_empty(simple) & (shapely.area(geoms) > 0))
    if len(collapsed):
        minx, miny, maxx, maxy = shapely.bounds(geoms[collapsed]).T
        corners = np.stack([np.column_stack(c) for c in (
            (minx, miny), (maxx, miny), (maxx, maxy), (minx, miny))], axis=1)
        simple[collapsed] = shapely.polygons(corners)
    return simple


def _snap(geoms: np.ndarray) -> np.ndarray:
    """Coordinates rounded to the integer grid, with valid output: rounding alone, and GEOS's
    precision reducer (an overlay) only for what rounding made invalid; what rounding flattens
    to no area is left for the encoder, which drops rings without area."""
    snapped = shapely.set_precision(geoms, 1.0, mode="pointwise")
    redo = ~shapely.is_valid(snapped) & (shapely.area(snapped) > 0)
    snapped[redo] = shapely.set_precision(geoms[redo], 1.0)
    return snapped


def encode_layer(
    name: str, ids: Sequence[int],
    properties: Mapping[str, Sequence[Any]] | Sequence[dict[str, Any]],
    geoms: Sequence[BaseGeometry | None],
) -> bytes:
    """A tile holding one layer, or b"" when no feature has a geometry left (an empty tile).
    ``properties``: one sequence of values per property name (or one dict per feature).

    Written for the whole tile at once: geometry commands (``paths``), tags and the varints
    of ids and lengths are numpy arrays, and the Feature messages are gathered from them in
    one indexing operation, so that a zoom-8 tile of 50,000 hazards costs no Python call per
    feature."""
    if not isinstance(properties, Mapping):
        names = list(dict.fromkeys(n for row in properties for n in row))
        properties = {n: [row.get(n) for row in properties] for n in names}
    kinds, geometry, geometry_at = _geometries(geoms)
    drawn = np.flatnonzero(kinds)
    if not len(drawn):
        return b""
    pick = operator.itemgetter(*drawn.tolist())
    keys, values, tags, tags_at = tag_columns(
        {n: list(pick(c)) if len(drawn) > 1 else [pick(c)] for n, c in properties.items()})
    features = feature_fields(np.asarray(ids, dtype=np.int64)[drawn], kinds[drawn], tags,
                              tags_at, geometry, geometry_at[drawn], geometry_at[drawn + 1])
    layer = (number(15, 2) + field(1, name.encode()) + features
             + b"".join(field(3, k.encode()) for k in keys) + value_fields(values)
             + number(5, EXTENT))
    return field(3, layer)


def _geometries(geoms: Sequence[BaseGeometry | None]) -> tuple[np.ndarray, np.ndarray,
                                                                 np.ndarray]:
    """Each feature's MVT geometry type (0: nothing to draw), and the packed commands of
    all of them back to back with where each feature's start (``n + 1`` offsets), written
    for the whole tile at once (``paths``)."""
    arr = np.array(list(geoms), dtype=object)
    present = shapely.is_geometry(arr) & ~shapely.is_empty(arr)
    kinds = np.array([_KIND.get(g.geom_type, 0) if ok else 0 for g, ok in zip(arr, present,
                                                                                strict=True)],
                     dtype=np.int64)
    length = np.zeros(len(arr), dtype=np.int64)
    parts: list[tuple[np.ndarray, bytes, np.ndarray]] = []
    for kind in (POINT, LINESTRING, POLYGON):
        where = np.flatnonzero(kinds == kind)
        if len(where):
            data, offsets = geometry_commands(kind, arr[where])
            length[where] = np.diff(offsets)
            parts.append((where, data, offsets))
    kinds[length == 0] = 0
    at = np.zeros(len(arr) + 1, dtype=np.int64)
    np.cumsum(length, out=at[1:])
    out = np.empty(int(at[-1]), dtype=np.uint8)
    for where, data, offsets in parts:
        sizes = np.diff(offsets)
        index = np.repeat(at[where] - offsets[:-1], sizes) + np.arange(int(offsets[-1]))
        out[index] = np.frombuffer(data, dtype=np.uint8)
    return kinds, out, at
