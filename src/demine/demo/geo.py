"""Geometry helpers: the UTM 36N working frame, ribbon polygons, strips and point sampling.

Hazards are "ribbons": x-monotone polygons in a local frame (a tip at each end, a bottom and
a top vertex at each station in between). Cutting a ribbon at a station, bottom vertex to top
vertex, splits it into strips whose vertices are the hazard's own vertices, so each strip lies
exactly within its hazard and neighbouring strips share edges without overlapping.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import shapely
from pyproj import Transformer
from shapely.geometry import MultiPolygon, Polygon
from shapely.geometry.base import BaseGeometry

WORK_CRS = "EPSG:32636"  # UTM zone 36N: metres


@lru_cache(maxsize=2)
def _transformer(inverse: bool) -> Transformer:
    source, target = ("EPSG:4326", WORK_CRS) if inverse else (WORK_CRS, "EPSG:4326")
    return Transformer.from_crs(source, target, always_xy=True)


def xy_to_lonlat(xy: np.ndarray) -> np.ndarray:
    """Working-frame metres (n, 2) to lon/lat (n, 2)."""
    lon, lat = _transformer(False).transform(xy[:, 0], xy[:, 1])
    return np.column_stack([lon, lat])


def lonlat_to_xy(lonlat: np.ndarray) -> np.ndarray:
    """Lon/lat (n, 2) to working-frame metres (n, 2)."""
    x, y = _transformer(True).transform(lonlat[:, 0], lonlat[:, 1])
    return np.column_stack([x, y])


def to_lonlat(geoms):
    """Geometries (one or an array) from the working frame to lon/lat."""
    return shapely.transform(geoms, xy_to_lonlat)


def as_multipolygon(geom: BaseGeometry) -> MultiPolygon:
    """The polygons of ``geom`` as one MultiPolygon (lines and points dropped)."""
    if isinstance(geom, MultiPolygon):
        return geom
    if isinstance(geom, Polygon):
        return MultiPolygon([geom])
    polys: list[Polygon] = []
    for part in shapely.get_parts(geom):
        if isinstance(part, Polygon) and not part.is_empty:
            polys.append(part)
        elif isinstance(part, MultiPolygon):
            polys.extend(part.geoms)
    return MultiPolygon(polys)


def longest_line(geom: BaseGeometry):
    """The longest LineString part of ``geom``."""
    parts = [p for p in shapely.get_parts(geom) if p.geom_type == "LineString"]
    return max(parts, key=lambda p: p.length)


@dataclass
class Ribbons:
    """A batch of ribbon polygons: rings stored flat, ``offsets`` into ``coords``."""

    coords: np.ndarray  # (V, 2)
    offsets: np.ndarray  # (n + 1,)
    stations: np.ndarray  # (n,) stations per ribbon; a ring has 2 × stations vertices
    polygons: np.ndarray  # (n,) shapely Polygons

    def subset(self, keep: np.ndarray) -> Ribbons:
        """The ribbons at indices ``keep``, in that order."""
        sizes = np.diff(self.offsets)[keep]
        starts = self.offsets[:-1][keep]
        flat = np.repeat(starts - np.concatenate([[0], np.cumsum(sizes)[:-1]]), sizes)
        index = np.arange(sizes.sum()) + flat
        offsets = np.concatenate([[0], np.cumsum(sizes)])
        return Ribbons(self.coords[index], offsets, self.stations[keep], self.polygons[keep])

    def to_lonlat(self) -> Ribbons:
        """The same ribbons with coordinates in lon/lat."""
        coords = xy_to_lonlat(self.coords)
        return Ribbons(coords, self.offsets, self.stations, _polygons(coords, self.offsets))

    def _strip_rings(self, i: int, ranges: list[tuple[int, int]]) -> list[np.ndarray]:
        ring = self.coords[self.offsets[i]:self.offsets[i + 1]]
        m = int(self.stations[i])
        rings = []
        for a, b in ranges:
            top = [2 * m - k for k in range(b, a - 1, -1) if 0 < k < m]
            rings.append(ring[list(range(a, b + 1)) + top])
        return rings

    def strip(self, i: int, ranges: list[tuple[int, int]]) -> MultiPolygon:
        """Strips of ribbon ``i`` between stations (a, b) for each range, as one MultiPolygon."""
        return MultiPolygon([Polygon(r) for r in self._strip_rings(i, ranges)])


def _polygons(coords: np.ndarray, offsets: np.ndarray) -> np.ndarray:
    owners = np.repeat(np.arange(len(offsets) - 1), np.diff(offsets))
    return shapely.polygons(shapely.linearrings(coords, indices=owners))


def ribbons(
    rng: np.random.Generator,
    centres: np.ndarray,
    angles: np.ndarray,
    lengths: np.ndarray,
    widths: np.ndarray,
    stations: np.ndarray,
    squareness: np.ndarray,
) -> Ribbons:
    """Irregular elongated polygons (metres) around ``centres``, long axis along ``angles``."""
    n, top_m = len(centres), int(stations.max())
    m = stations[:, None]
    k = np.minimum(np.arange(top_m + 1)[None, :], m)
    u = -np.cos(np.pi * k / m)
    p = squareness[:, None]
    profile = np.clip(1.0 - np.abs(u) ** p, 0.0, 1.0) ** (1.0 / p)
    raw = rng.standard_normal((2, n, top_m + 3))
    smooth = 0.5 * raw[:, :, 1:-1] + 0.25 * (raw[:, :, :-2] + raw[:, :, 2:])  # gentler edges
    noise = np.clip(1.0 + 0.25 * smooth, 0.55, 1.45)
    half = widths[:, None] / 2.0
    bend = rng.normal(0.0, 0.25, n)[:, None] * half * (u**2 - 0.5)
    x = u * lengths[:, None] / 2.0
    top, bottom = bend + half * profile * noise[0], bend - half * profile * noise[1]
    r = np.arange(2 * top_m)[None, :]
    on_top = r > m
    kr = np.clip(np.where(on_top, 2 * m - r, r), 0, top_m)
    xs = np.take_along_axis(x, kr, 1)
    ys = np.where(on_top, np.take_along_axis(top, kr, 1), np.take_along_axis(bottom, kr, 1))
    cos, sin = np.cos(angles)[:, None], np.sin(angles)[:, None]
    gx = centres[:, 0:1] + xs * cos - ys * sin
    gy = centres[:, 1:2] + xs * sin + ys * cos
    valid = r < 2 * m
    coords = np.column_stack([gx[valid], gy[valid]])
    offsets = np.concatenate([[0], np.cumsum(2 * stations)])
    return Ribbons(coords, offsets, stations.astype(np.int64), _polygons(coords, offsets))


def sample_points(
    rng: np.random.Generator, geoms: np.ndarray, counts: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """``counts[i]`` random points strictly inside ``geoms[i]``: (xy, owner index) arrays."""
    geoms = np.asarray(geoms, dtype=object)
    shapely.prepare(geoms)
    need = np.asarray(counts, dtype=np.int64).copy()
    bounds = shapely.bounds(geoms)
    fill = shapely.area(geoms) / np.maximum(
        (bounds[:, 2] - bounds[:, 0]) * (bounds[:, 3] - bounds[:, 1]), 1e-30
    )
    got_xy, got_owner = [], []
    for _ in range(40):
        todo = np.flatnonzero(need > 0)
        if len(todo) == 0:
            break
        tries = np.ceil(need[todo] / np.clip(fill[todo], 0.02, 1.0) * 1.3 + 2).astype(np.int64)
        owner = np.repeat(todo, tries)
        b = bounds[owner]
        x = b[:, 0] + rng.random(len(owner)) * (b[:, 2] - b[:, 0])
        y = b[:, 1] + rng.random(len(owner)) * (b[:, 3] - b[:, 1])
        inside = shapely.contains_xy(geoms[owner], x, y)
        owner, x, y = owner[inside], x[inside], y[inside]
        first = np.searchsorted(owner, owner, side="left")
        keep = (np.arange(len(owner)) - first) < need[owner]
        got_xy.append(np.column_stack([x[keep], y[keep]]))
        got_owner.append(owner[keep])
        need -= np.bincount(owner[keep], minlength=len(need))
    if (need > 0).any():
        raise RuntimeError("could not place points inside some polygons")
    xy, owner = np.concatenate(got_xy), np.concatenate(got_owner)
    order = np.argsort(owner, kind="stable")
    return xy[order], owner[order]


def concat_ribbons(parts: list[Ribbons]) -> Ribbons:
    """One batch holding the ribbons of ``parts`` in order."""
    sizes = np.concatenate([np.diff(p.offsets) for p in parts])
    return Ribbons(
        np.concatenate([p.coords for p in parts]),
        np.concatenate([[0], np.cumsum(sizes)]),
        np.concatenate([p.stations for p in parts]),
        np.concatenate([p.polygons for p in parts]),
    )
