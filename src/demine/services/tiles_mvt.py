"""Mapbox Vector Tile 2.1 in Python, for stores that cannot encode tiles themselves (GeoPackage).

What PostGIS does with ``ST_Simplify`` (collapsed shapes kept), ``ST_AsMVTGeom`` and
``ST_AsMVT``, in the same order and with the same parameters: Web Mercator tile coordinates
(y down), simplification by a tolerance, clipping to the tile plus a buffer, snapping to the
integer grid of the extent with valid output, exterior rings with positive area (clockwise on
screen), then the protobuf of the spec (github.com/mapbox/vector-tile-spec, 2.1), written by
hand: the schema is four messages.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np
import shapely
from shapely.geometry.base import BaseGeometry

from demine.services.tiles_mvt_paths import path_commands, varints

EXTENT = 4096
BUFFER = 64
HALF_WORLD = math.pi * 6378137.0  # half the width of the Web Mercator square, in metres
MAX_LATITUDE = 85.0511287798066  # where Web Mercator's square ends
_MOVE_TO, _LINE_TO, _CLOSE_PATH = 1, 2, 7
_POINT, _LINESTRING, _POLYGON = 1, 2, 3
_KIND = {"Point": _POINT, "MultiPoint": _POINT, "LineString": _LINESTRING,
         "MultiLineString": _LINESTRING, "Polygon": _POLYGON, "MultiPolygon": _POLYGON}


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
    scale = EXTENT * 2**z / (2 * HALF_WORLD)

    def to_tile(lonlat: np.ndarray) -> np.ndarray:
        lon = lonlat[:, 0]
        lat = np.clip(lonlat[:, 1], -MAX_LATITUDE, MAX_LATITUDE)
        mx = np.radians(lon) * 6378137.0
        my = np.log(np.tan(np.pi / 4 + np.radians(lat) / 2)) * 6378137.0
        return np.column_stack(((mx + HALF_WORLD) * scale - x * EXTENT,
                                (HALF_WORLD - my) * scale - y * EXTENT))

    tiled = shapely.transform(arr[present], to_tile)
    lines = ~np.isin(shapely.get_type_id(tiled), (0, 4))  # points need no simplification
    tiled[lines] = _simplify(tiled[lines], tolerance)
    tiled = shapely.clip_by_rect(tiled, -BUFFER, -BUFFER, EXTENT + BUFFER, EXTENT + BUFFER)
    out[present] = _snap(tiled)
    return [None if g is None or g.is_empty else _one_kind(g) for g in out]


def thin(geoms: Sequence[BaseGeometry | None], *, limit: int,
         cell: int) -> tuple[list[int], dict[int, int] | None]:
    """Which features a tile keeps: all of them (``represents`` None) unless more than
    ``limit`` have a geometry; then the first (in the given order: by id) of each ``cell`` ×
    ``cell`` square of the grid, and ``represents``: position → how many features of its
    square it stands for (what ``dialect.database_tile`` does on PostGIS)."""
    arr = np.array(list(geoms), dtype=object)
    present = np.flatnonzero(shapely.is_geometry(arr))
    if len(present) <= limit:
        return present.tolist(), None
    corner = np.floor(shapely.bounds(arr[present])[:, :2] / cell).astype(np.int64)
    squares = (corner[:, 0] << 32) + corner[:, 1]  # one key per square (|coordinate| < 2^31)
    _, first, counts = np.unique(squares, return_index=True, return_counts=True)
    kept = present[first]  # np.unique's index is each square's first occurrence
    order = np.argsort(kept)
    return kept[order].tolist(), dict(zip(kept.tolist(), counts.tolist(), strict=True))


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
    simple = shapely.simplify(geoms, tolerance, preserve_topology=False)
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
    name: str, ids: Sequence[int], properties: Sequence[dict[str, Any]],
    geoms: Sequence[BaseGeometry | None],
) -> bytes:
    """A tile holding one layer, or b"" when no feature has a geometry left (an empty tile)."""
    drawn = [(i, kind, commands) for i, (kind, commands) in _commands(geoms).items()
             if commands]
    if not drawn:
        return b""
    keys, values, tags = _tags([properties[i] for i, _, _ in drawn])
    encoded = [_number(1, ids[i]) + _bytes(2, tag) + _number(3, kind) + _bytes(4, commands)
               for (i, kind, commands), tag in zip(drawn, tags, strict=True)]
    layer = (_number(15, 2) + _bytes(1, name.encode())
             + b"".join(_bytes(2, f) for f in encoded)
             + b"".join(_bytes(3, k.encode()) for k in keys)
             + b"".join(_bytes(4, _value(v)) for _, v in values)
             + _number(5, EXTENT))
    return _bytes(3, layer)


def _tags(rows: list[dict[str, Any]]) -> tuple[dict[str, int], dict[tuple[type, Any], int],
                                                list[bytes]]:
    """The layer's keys and values, and each feature's packed tags: key index, value index,
    for each property that is not NULL (like ST_AsMVT, a NULL is no tag at all). Values of
    the columns with fewest distinct values are numbered first: their indices, repeated in
    every feature, then take one byte."""
    keys: dict[str, int] = {}
    values: dict[tuple[type, Any], int] = {}
    names = list(dict.fromkeys(name for row in rows for name in row))
    key_at = np.zeros((len(rows), len(names)), dtype=np.int64)
    value_at = np.full((len(rows), len(names)), -1, dtype=np.int64)
    columns = []
    for name in names:
        local: dict[tuple[type, Any], int] = {}
        at = np.array([-1 if v is None else local.setdefault((type(v), v), len(local))
                       for v in (row.get(name) for row in rows)], dtype=np.int64)
        columns.append((len(local), name, local, at))
    for _, name, local, at in sorted(columns, key=lambda c: c[0]):
        if not local:
            continue
        j = names.index(name)
        to_global = np.array([values.setdefault(v, len(values)) for v in local], np.int64)
        given = at >= 0
        value_at[given, j] = to_global[at[given]]
        key_at[:, j] = keys.setdefault(name, len(keys))
    present = value_at >= 0
    data, offsets = varints(np.stack((key_at, value_at), axis=2)[present].ravel())
    ends = np.zeros(len(rows) + 1, dtype=np.int64)
    np.cumsum(2 * present.sum(axis=1), out=ends[1:])
    at = offsets[ends]
    return keys, values, [data[at[f]:at[f + 1]] for f in range(len(rows))]


def _commands(geoms: Sequence[BaseGeometry | None]) -> dict[int, tuple[int, bytes]]:
    """Position → (MVT geometry type, packed command integers) of each geometry, in order;
    lines and polygons written for the whole tile at once (``tiles_mvt_paths``)."""
    arr = np.array(list(geoms), dtype=object)
    present = shapely.is_geometry(arr) & ~shapely.is_empty(arr)
    kinds = np.array([_KIND.get(g.geom_type, 0) if ok else 0 for g, ok in zip(arr, present,
                                                                                strict=True)])
    out: dict[int, tuple[int, bytes]] = {}
    for kind in (_POINT, _LINESTRING, _POLYGON):
        where = np.flatnonzero(kinds == kind)
        if len(where):
            written = (_point_commands(arr[where]) if kind == _POINT
                       else _path_commands(kind, arr[where]))
            for i, commands in zip(where.tolist(), written, strict=True):
                out[i] = (kind, commands)
    return dict(sorted(out.items()))


def _path_commands(kind: int, geoms: np.ndarray) -> list[bytes]:
    _, coords, offsets = shapely.to_ragged_array(geoms)
    paths = offsets[0]
    if kind == _LINESTRING:
        parts = np.arange(len(paths))
        features = offsets[1] if len(offsets) > 1 else parts
    else:
        parts = offsets[1]
        features = offsets[2] if len(offsets) > 2 else np.arange(len(parts))
    part_of_path = np.repeat(np.arange(len(parts) - 1), np.diff(parts))
    feature_of_part = np.repeat(np.arange(len(features) - 1), np.diff(features))
    exterior = (np.arange(len(paths) - 1) == parts[part_of_path]) if kind == _POLYGON else None
    return path_commands(coords, paths, feature_of_part[part_of_path], exterior,
                         len(features) - 1)


def _point_commands(geoms: np.ndarray) -> list[bytes]:
    _, coords, offsets = shapely.to_ragged_array(geoms)
    if not offsets:  # single points only (EO finds): no loop needed
        x, y = coords[:, 0].astype(np.int64), coords[:, 1].astype(np.int64)
        return [_varints(c) for c in np.column_stack((
            np.full(len(x), _command(_MOVE_TO, 1)), _zigzags(x), _zigzags(y))).tolist()]
    xs, ys = coords[:, 0].astype(np.int64).tolist(), coords[:, 1].astype(np.int64).tolist()
    runs = offsets[0].tolist()
    out = []
    for a, b in zip(runs, runs[1:], strict=False):
        cursor, points = [0, 0], _distinct(zip(xs[a:b], ys[a:b], strict=True))
        commands = [_command(_MOVE_TO, len(points))]
        for point in points:
            commands += _delta(cursor, point)
        out.append(_varints(commands))
    return out


def _distinct(coords) -> list[tuple[int, int]]:
    points: list[tuple[int, int]] = []
    for point in coords:
        if not points or points[-1] != point:
            points.append(point)
    return points


def _delta(cursor: list[int], point: tuple[int, int]) -> list[int]:
    dx, dy = point[0] - cursor[0], point[1] - cursor[1]
    cursor[0], cursor[1] = point
    return [_zigzag(dx), _zigzag(dy)]


def _command(command: int, count: int) -> int:
    return (command & 0x7) | (count << 3)


def _zigzag(n: int) -> int:
    return n << 1 if n >= 0 else (-n << 1) - 1


def _zigzags(n: np.ndarray) -> np.ndarray:
    return np.where(n >= 0, n << 1, (-n << 1) - 1)


def _value(value: Any) -> bytes:
    """A Value message typed like ST_AsMVT types it: text, double, uint/sint, bool."""
    if isinstance(value, bool):
        return _number(7, int(value))
    if isinstance(value, int):
        return _number(5, value) if value >= 0 else _number(6, _zigzag(value))
    if isinstance(value, float):
        return _key(3, 1) + np.float64(value).astype("<f8").tobytes()
    return _bytes(1, str(value).encode())


def _encode_varint(n: int) -> bytes:
    out = bytearray()
    while n >= 0x80:
        out.append(n & 0x7F | 0x80)
        n >>= 7
    out.append(n)
    return bytes(out)


# Every varint of one or two bytes, made once: tags, keys, deltas and most commands are one.
_VARINTS = tuple(_encode_varint(n) for n in range(1 << 14))


def _varint(n: int) -> bytes:
    if 0 <= n < 0x4000:
        return _VARINTS[n]
    if n < 0x200000:  # three bytes: feature ids up to two million
        return bytes((n & 0x7F | 0x80, n >> 7 & 0x7F | 0x80, n >> 14))
    return _encode_varint(n)


def _varints(numbers: list[int]) -> bytes:
    """Protobuf base-128 varints, back to back (all numbers here are non-negative)."""
    if not numbers:
        return b""
    top = max(numbers)
    if top < 0x80:  # one byte each: most deltas, tags and keys
        return bytes(numbers)
    return b"".join(map(_VARINTS.__getitem__ if top < 0x4000 else _varint, numbers))


def _key(field: int, wire_type: int) -> bytes:
    return _VARINTS[field << 3 | wire_type]


def _number(field: int, n: int) -> bytes:
    return _VARINTS[field << 3] + _varint(n)


def _bytes(field: int, payload: bytes) -> bytes:
    return _VARINTS[field << 3 | 2] + _varint(len(payload)) + payload


def _packed(field: int, numbers: list[int]) -> bytes:
    return _bytes(field, _varints(numbers))
