"""MVT geometry commands of a tile's points, lines and polygons, for the whole tile at once.

A zoom-8 tile of a national store holds some 50,000 hazards; writing their commands shape by
shape in Python took most of the tile's time. Here every step of lines and polygons runs over
the tile's ragged coordinate arrays: consecutive repeated points dropped; a ring's closing
point dropped; rings without area, and paths too short to draw, left out; exterior rings turned
to positive area (clockwise on a y-down screen) and holes to negative; deltas from a cursor
that runs through each feature; zigzag; the command integers; base-128 varints. The spec:
github.com/mapbox/vector-tile-spec (2.1), sections 4.3 (geometry encoding) and 4.3.4.4
(polygon winding).
"""

from __future__ import annotations

import numpy as np
import shapely

from demine.services.tiles.mvt.messages import (
    LINESTRING,
    POINT,
    POLYGON,
    varint_list,
    varints,
    zigzag,
    zigzags,
)

_MOVE_TO, _LINE_TO, _CLOSE_PATH = 1, 2, 7  # command ids (spec 4.3.3)


def geometry_commands(kind: int, geoms: np.ndarray) -> tuple[bytes, np.ndarray]:
    """The packed geometry of ``geoms`` (all of MVT type ``kind``, in integer tile
    coordinates), back to back, and where each one starts (``len(geoms) + 1`` offsets)."""
    if kind == POINT:
        return _point_commands(geoms)
    _, coords, offsets = shapely.to_ragged_array(geoms)
    paths = offsets[0]
    if kind == LINESTRING:
        parts = np.arange(len(paths))
        features = offsets[1] if len(offsets) > 1 else parts
    else:
        parts = offsets[1]
        features = offsets[2] if len(offsets) > 2 else np.arange(len(parts))
    part_of_path = np.repeat(np.arange(len(parts) - 1), np.diff(parts))
    feature_of_part = np.repeat(np.arange(len(features) - 1), np.diff(features))
    exterior = (np.arange(len(paths) - 1) == parts[part_of_path]) if kind == POLYGON else None
    return path_commands(coords, paths, feature_of_part[part_of_path], exterior,
                         len(features) - 1)


def path_commands(coords: np.ndarray, paths: np.ndarray, path_feature: np.ndarray,
                  exterior: np.ndarray | None, features: int) -> tuple[bytes, np.ndarray]:
    """The packed geometry of the ``features``, back to back, and where each one starts
    (``features + 1`` offsets; a feature with nothing left to draw has none).

    ``coords`` are integer tile coordinates (n × 2); path ``p`` is ``coords[paths[p]:
    paths[p + 1]]`` and belongs to feature ``path_feature[p]`` (paths in feature order).
    ``exterior`` (per path) makes them polygon rings, exterior or hole; None, lines.
    """
    x, y, path = _distinct_points(coords, paths, rings=exterior is not None)
    if exterior is None:
        drawn = np.bincount(path, minlength=len(paths) - 1) >= 2
    else:
        x, y, drawn = _wound_for_mvt(x, y, path, exterior)
    shown = drawn[path]
    return _as_varints(x[shown], y[shown], path[shown], drawn, path_feature, features,
                    rings=exterior is not None)


def _point_commands(geoms: np.ndarray) -> tuple[bytes, np.ndarray]:
    """MoveTo(n) and the deltas of each (multi)point's distinct points."""
    _, coords, offsets = shapely.to_ragged_array(geoms)
    if not offsets:  # single points only (EO finds): MoveTo(1) dx dy each
        x, y = coords[:, 0].astype(np.int64), coords[:, 1].astype(np.int64)
        ints = np.column_stack((np.full(len(x), _command(_MOVE_TO, 1)), zigzags(x),
                                zigzags(y))).ravel()
        data, at = varints(ints)
        return data, at[::3]
    xs, ys = coords[:, 0].astype(np.int64).tolist(), coords[:, 1].astype(np.int64).tolist()
    runs = offsets[0].tolist()
    out = []
    for a, b in zip(runs, runs[1:], strict=False):
        cursor, points = [0, 0], _distinct(zip(xs[a:b], ys[a:b], strict=True))
        commands = [_command(_MOVE_TO, len(points))]
        for point in points:
            commands += _delta(cursor, point)
        out.append(varint_list(commands))
    at = np.zeros(len(out) + 1, dtype=np.int64)
    np.cumsum([len(c) for c in out], out=at[1:])
    return b"".join(out), at


def _distinct(coords) -> list[tuple[int, int]]:
    points: list[tuple[int, int]] = []
    for point in coords:
        if not points or points[-1] != point:
            points.append(point)
    return points


def _delta(cursor: list[int], point: tuple[int, int]) -> list[int]:
    dx, dy = point[0] - cursor[0], point[1] - cursor[1]
    cursor[0], cursor[1] = point
    return [zigzag(dx), zigzag(dy)]


def _command(command: int, count: int) -> int:
    return (command & 0x7) | (count << 3)


def _distinct_points(coords: np.ndarray, paths: np.ndarray, *, rings: bool):
    """x, y and path of each point kept: consecutive repeats dropped, and a ring's closing
    point (MVT closes rings with ClosePath)."""
    xs, ys = coords[:, 0].astype(np.int64), coords[:, 1].astype(np.int64)
    point_path = np.repeat(np.arange(len(paths) - 1), np.diff(paths))
    keep = np.ones(len(xs), dtype=bool)
    keep[1:] = (xs[1:] != xs[:-1]) | (ys[1:] != ys[:-1]) | (point_path[1:] != point_path[:-1])
    kept = np.flatnonzero(keep)
    if rings:
        starts, ends = _bounds(point_path[kept], len(paths) - 1)
        closed = (ends - starts >= 2)
        closed[closed] = ((xs[kept[ends[closed] - 1]] == xs[kept[starts[closed]]])
                          & (ys[kept[ends[closed] - 1]] == ys[kept[starts[closed]]]))
        keep[kept[ends[closed] - 1]] = False
        kept = np.flatnonzero(keep)
    return xs[kept], ys[kept], point_path[kept]


def _wound_for_mvt(x: np.ndarray, y: np.ndarray, path: np.ndarray, exterior: np.ndarray):
    """Rings turned to the spec's winding (exterior: positive area by the surveyor's formula
    on the y-down grid; holes negative), and which rings are drawn (3 points, some area)."""
    starts, ends = _bounds(path, len(exterior))
    count = ends - starts
    after = np.arange(len(x)) + 1
    after[ends[count > 0] - 1] = starts[count > 0]
    area = np.bincount(path, weights=x * y[after] - x[after] * y, minlength=len(exterior))
    drawn = (count >= 3) & (area != 0)
    turned = (drawn & ((area > 0) != exterior))[path]
    order = np.arange(len(x))
    order[turned] = (starts[path] + ends[path] - 1 - order)[turned]
    return x[order], y[order], drawn


def _as_varints(x: np.ndarray, y: np.ndarray, path: np.ndarray, drawn: np.ndarray,
             path_feature: np.ndarray, features: int, *,
             rings: bool) -> tuple[bytes, np.ndarray]:
    """Each feature's command integers as varints: a path of n points is MoveTo(1) dx dy,
    LineTo(n - 1) and 2(n - 1) numbers, then ClosePath for a ring; deltas from a cursor that
    starts at 0, 0 in each feature and runs through its paths."""
    starts, ends = _bounds(path, len(drawn))
    count = np.where(drawn, ends - starts, 0)
    first = _first_in(path_feature[path])
    dx, dy = np.diff(x, prepend=0), np.diff(y, prepend=0)
    dx[first], dy[first] = x[first], y[first]
    length = np.where(drawn, 2 * count + 2 + rings, 0)
    base = np.zeros(len(length) + 1, dtype=np.int64)
    np.cumsum(length, out=base[1:])
    ints = np.empty(int(base[-1]), dtype=np.int64)
    heads = np.flatnonzero(drawn)
    ints[base[heads]] = _command(_MOVE_TO, 1)
    ints[base[heads] + 3] = _command(_LINE_TO, count[heads] - 1)
    if rings:
        ints[base[heads + 1] - 1] = _command(_CLOSE_PATH, 1)
    # point i of a path: right after MoveTo (i = 0), else after the LineTo command too
    at = base[path] + 2 * (np.arange(len(x)) - starts[path]) + 1
    at[~_first_in(path)] += 1
    ints[at], ints[at + 1] = zigzags(dx), zigzags(dy)
    data, offsets = varints(ints)
    per_feature = np.zeros(features + 1, dtype=np.int64)
    np.cumsum(np.bincount(path_feature, weights=length, minlength=features).astype(np.int64),
              out=per_feature[1:])
    return data, offsets[per_feature]


def _first_in(path: np.ndarray) -> np.ndarray:
    """Whether each point is the first of its path (points grouped by path)."""
    first = np.ones(len(path), dtype=bool)
    first[1:] = path[1:] != path[:-1]
    return first


def _bounds(path: np.ndarray, paths: int) -> tuple[np.ndarray, np.ndarray]:
    """Start and end (exclusive) of each path's points, for points grouped by path."""
    counts = np.bincount(path, minlength=paths)
    ends = np.cumsum(counts)
    return ends - counts, ends
