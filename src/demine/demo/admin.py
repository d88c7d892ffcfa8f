"""Administrative areas admin0-admin3: Voronoi tiles of seeds, clipped to their parent."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import shapely
from shapely.geometry import MultiPolygon, Polygon

from demine.demo.geo import as_multipolygon, to_lonlat
from demine.demo.names import NameMaker
from demine.demo.params import COUNTRY_CODE, Scale
from demine.demo.records import rows_from_columns

_LEVEL_WORDS = ("", "Region", "District", "Community")


@dataclass
class AdminAreas:
    """Admin area rows and a point-in-area lookup over the deepest level."""

    rows: list[dict]
    deepest: np.ndarray  # lon/lat MultiPolygons of the deepest level
    deepest_ids: np.ndarray

    def __post_init__(self) -> None:
        self._tree = shapely.STRtree(self.deepest)

    def locate(self, points: np.ndarray) -> np.ndarray:
        """Id of the deepest admin area holding each lon/lat point (nearest one if none)."""
        points = np.asarray(points, dtype=object)
        found = np.full(len(points), -1, dtype=np.int64)
        inside, tree_index = self._tree.query(points, predicate="within")
        first_of, first = np.unique(inside, return_index=True)
        found[first_of] = tree_index[first]
        missing = np.flatnonzero(found < 0)
        if len(missing):
            which, nearest = self._tree.query_nearest(points[missing], all_matches=False)
            found[missing[which]] = nearest
        return self.deepest_ids[found]


def spread_points(rng: np.random.Generator, area: Polygon, n: int) -> np.ndarray:
    """``n`` well-spread points inside ``area`` (farthest-point choice among random ones)."""
    x0, y0, x1, y1 = area.bounds
    cand = np.column_stack([rng.uniform(x0, x1, 40 * n + 40), rng.uniform(y0, y1, 40 * n + 40)])
    cand = cand[shapely.contains_xy(area, cand[:, 0], cand[:, 1])]
    chosen = [0]
    dist = np.hypot(*(cand - cand[0]).T)
    for _ in range(n - 1):
        nxt = int(np.argmax(dist))
        chosen.append(nxt)
        dist = np.minimum(dist, np.hypot(*(cand - cand[nxt]).T))
    return cand[chosen]


def _tiles(rng: np.random.Generator, parent: MultiPolygon, n: int) -> list[MultiPolygon]:
    seeds = spread_points(rng, parent, n)
    cells = shapely.voronoi_polygons(shapely.multipoints(seeds), extend_to=parent, ordered=True)
    clipped = shapely.intersection(shapely.get_parts(cells), parent)
    return [as_multipolygon(shapely.make_valid(c)) for c in clipped]


def build_admin(
    rng: np.random.Generator, country: Polygon, country_name: str, names: NameMaker, scale: Scale
) -> AdminAreas:
    """Country, ~4 regions, districts and (scale permitting) communities, nested and tiling."""
    per_level = (1, 4, scale.districts_per_region, scale.communities_per_district)
    levels = [[(COUNTRY_CODE, country_name, None, as_multipolygon(country))]]
    for level in range(1, 4):
        if per_level[level] == 0:
            break
        children = []
        for parent_index, (code, _, _, geom) in enumerate(levels[-1]):
            for j, tile in enumerate(_tiles(rng, geom, per_level[level]), start=1):
                name = f"{names.place()} {_LEVEL_WORDS[level]}"
                children.append((f"{code}{j:02d}", name, parent_index, tile))
        levels.append(children)
    columns: dict[str, list] = {k: [] for k in ("code", "name", "level", "parent_id", "geom")}
    first_id = 1
    for level, areas in enumerate(levels):
        parent_first = first_id - len(levels[level - 1]) if level else None
        for code, name, parent_index, geom in areas:
            columns["code"].append(code)
            columns["name"].append(name)
            columns["level"].append(level)
            columns["parent_id"].append(None if level == 0 else parent_first + parent_index)
            columns["geom"].append(geom)
        first_id += len(areas)
    geoms = to_lonlat(np.array(columns["geom"], dtype=object))
    columns["geom"] = [as_multipolygon(shapely.make_valid(g)) for g in geoms]
    rows = rows_from_columns(columns)
    deepest = [r for r in rows if r["level"] == len(levels) - 1]
    return AdminAreas(
        rows,
        np.array([r["geom"] for r in deepest], dtype=object),
        np.array([r["id"] for r in deepest], dtype=np.int64),
    )
