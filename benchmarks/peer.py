"""The GeoPandas peer: the same overlap/duplicate rule as `demine check`, the GeoPandas way.

``gpd.sjoin(h, h, predicate="intersects")`` finds candidate pairs (self pairs and (b, a)
mirrors dropped), GeometryArray.intersection computes the shared polygons in one vectorised
call, then the rule demine applies: a planar m² pre-filter, geodesic m² for what it keeps
(pairs above the tolerance are reported), ``duplicate`` when the shared area is ≥ 90% of the
larger polygon (a ratio of planar areas), else ``overlap``. The pre-filter and the geodesic
area are demine's own functions: GeoPandas has no geodesic area, and identical code keeps the
classification identical, so the two sides differ only in how pairs are found and
intersected. ``gpd.overlay`` is not used: it would also intersect every polygon with itself
and both orders of each pair, which is more work than the check does.
"""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import numpy as np
import shapely

from benchmarks.common import timed
from demine.domain.geodesy import geodesic_area
from demine.services.checks.geometry import DUPLICATE_SHARE, PREFILTER, approx_m2

Pairs = dict[tuple[str, str], str]


def read(path: Path) -> gpd.GeoDataFrame:
    """The hazard polygons and their codes, read with pyogrio."""
    return gpd.read_file(path, layer="hazards", engine="pyogrio", columns=["code"])


def detect(h: gpd.GeoDataFrame, tolerance_m2: float, steps: dict | None = None) -> Pairs:
    """Overlapping and duplicate pairs: {(code a, code b): "overlap" | "duplicate"}."""
    steps = {} if steps is None else steps
    h = h.reset_index(drop=True)
    bad = h.geometry.notna() & ~h.geometry.is_valid
    if bad.any():  # demine repairs invalid polygons before overlaying them; so does the peer
        h.loc[bad, "geometry"] = h.geometry[bad].make_valid()
    only = h[["geometry"]]
    steps["sjoin_s"], joined = timed(lambda: gpd.sjoin(only, only, predicate="intersects"))
    left, right = joined.index.to_numpy(), joined["index_right"].to_numpy()
    keep = left < right
    left, right = left[keep], right[keep]
    geoms = h.geometry.array
    steps["intersection_s"], shared = timed(lambda: geoms[left].intersection(geoms[right]))
    steps["measure_s"], pairs = timed(
        lambda: _classify(h, left, right, np.asarray(shared, dtype=object), tolerance_m2))
    steps["candidate_pairs"] = int(len(left))
    return pairs


def _classify(h: gpd.GeoDataFrame, left: np.ndarray, right: np.ndarray, shared: np.ndarray,
              tolerance_m2: float) -> Pairs:
    kept = np.flatnonzero(approx_m2(shared) > PREFILTER * tolerance_m2)
    areas = np.array([geodesic_area(g) for g in shared[kept]], dtype=float)
    kept = kept[areas > tolerance_m2]
    left, right = left[kept], right[kept]
    own = shapely.area(np.asarray(h.geometry.array, dtype=object))  # planar: a ratio is wanted
    larger = np.maximum(np.maximum(own[left], own[right]), 1e-300)
    duplicate = shapely.area(shared[kept]) / larger >= DUPLICATE_SHARE
    codes = h["code"].to_numpy()
    return {pair_key(codes[i], codes[j]): "duplicate" if dup else "overlap"
            for i, j, dup in zip(left.tolist(), right.tolist(), duplicate.tolist(), strict=True)}


def pair_key(a: str, b: str) -> tuple[str, str]:
    """A pair in one order, whichever side names it first."""
    return (a, b) if a <= b else (b, a)


def frame(codes: np.ndarray, wkb: np.ndarray) -> gpd.GeoDataFrame:
    """A GeoDataFrame of the given polygons (EPSG:4326), decoded into fresh objects."""
    return gpd.GeoDataFrame({"code": codes}, geometry=shapely.from_wkb(wkb), crs="EPSG:4326")
