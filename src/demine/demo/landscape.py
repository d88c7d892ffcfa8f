"""The fictional region: country outline, settlements, roads, rivers, former line of contact."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import shapely
from shapely.geometry import LineString, Polygon

from demine.demo.admin import AdminAreas, build_admin
from demine.demo.geo import longest_line, lonlat_to_xy, to_lonlat
from demine.demo.names import NameMaker
from demine.demo.params import CENTRE_LONLAT, Scale
from demine.demo.records import rows_from_columns

_KIND_POPULATION = {
    "city": (60_000, 350_000),
    "town": (5_000, 45_000),
    "village": (300, 4_500),
    "hamlet": (15, 300),
}


@dataclass
class Landscape:
    """The region in the working frame (metres) and its gazetteer rows."""

    country_name: str
    country: Polygon
    front: LineString
    roads: list[LineString]
    place_xy: np.ndarray
    place_names: list[str]
    place_kinds: list[str]
    place_population: np.ndarray
    place_front_m: np.ndarray  # distance of each settlement from the front line
    admin: AdminAreas
    rows: dict[str, list[dict]]


def _country(rng: np.random.Generator) -> Polygon:
    centre = lonlat_to_xy(np.array([CENTRE_LONLAT]))[0]
    theta = np.linspace(0.0, 2 * np.pi, 96, endpoint=False)
    phase = rng.uniform(0.0, 2 * np.pi, 3)
    wobble = (0.06 * np.sin(2 * theta + phase[0]) + 0.04 * np.sin(3 * theta + phase[1])
              + 0.02 * np.sin(7 * theta + phase[2]))
    r = 1.0 + wobble - 0.06
    return Polygon(np.column_stack([centre[0] + 104_000 * r * np.cos(theta),
                                    centre[1] + 98_000 * r * np.sin(theta)]))


def wavy_line(
    rng: np.random.Generator, country: Polygon, angle: float, offset: float, amplitude: float
) -> LineString:
    """A meandering line across ``country`` (clipped to it), ``offset`` m from its centre."""
    c = country.centroid
    t = np.linspace(-260_000.0, 260_000.0, 261)
    lateral = np.full_like(t, offset)
    for k, a in ((1.3, 1.0), (2.9, 0.5), (6.1, 0.2), (13.0, 0.07)):
        lateral += amplitude * a * np.sin(k * np.pi * t / 260_000.0 + rng.uniform(0, 2 * np.pi))
    x = c.x + t * np.cos(angle) - lateral * np.sin(angle)
    y = c.y + t * np.sin(angle) + lateral * np.cos(angle)
    return longest_line(LineString(np.column_stack([x, y])).intersection(country))


def _settlements(rng: np.random.Generator, country: Polygon, n: int) -> np.ndarray:
    x0, y0, x1, y1 = country.bounds
    spacing = 0.75 * np.sqrt(country.area / n)
    chosen: list[np.ndarray] = []
    while len(chosen) < n:
        cand = np.column_stack([rng.uniform(x0, x1, 4 * n), rng.uniform(y0, y1, 4 * n)])
        cand = cand[shapely.contains_xy(country.buffer(-3_000), cand[:, 0], cand[:, 1])]
        for p in cand:
            if len(chosen) == n:
                break
            if not chosen or np.hypot(*(np.array(chosen) - p).T).min() >= spacing:
                chosen.append(p)
        spacing *= 0.85
    return np.array(chosen)


def _kinds(rng: np.random.Generator, n: int) -> tuple[list[str], np.ndarray]:
    cities, towns = max(1, n // 35), max(2, n // 8)
    villages = (n - cities - towns) * 3 // 5
    kinds = ["city"] * cities + ["town"] * towns + ["village"] * villages
    kinds += ["hamlet"] * (n - len(kinds))
    kinds = [kinds[i] for i in rng.permutation(n)]
    population = np.array([int(rng.integers(*_KIND_POPULATION[k])) for k in kinds])
    return kinds, population


def _road_edges(xy: np.ndarray, kinds: list[str]) -> list[tuple[int, int]]:
    """A minimum spanning tree of the settlements plus links between towns and cities."""
    n = len(xy)
    dist = np.hypot(xy[:, None, 0] - xy[None, :, 0], xy[:, None, 1] - xy[None, :, 1])
    in_tree = np.zeros(n, dtype=bool)
    in_tree[0] = True
    best, parent = dist[0].copy(), np.zeros(n, dtype=np.int64)
    edges: list[tuple[int, int]] = []
    for _ in range(n - 1):
        j = int(np.argmin(np.where(in_tree, np.inf, best)))
        edges.append((min(j, int(parent[j])), max(j, int(parent[j]))))
        in_tree[j] = True
        closer = dist[j] < best
        best, parent = np.where(closer, dist[j], best), np.where(closer, j, parent)
    seen = set(edges)
    hubs = np.array([i for i, k in enumerate(kinds) if k in ("city", "town")])
    for i in hubs:
        for j in hubs[np.argsort(dist[i, hubs])[1:3]]:
            edge = (int(min(i, j)), int(max(i, j)))
            if edge not in seen:
                seen.add(edge)
                edges.append(edge)
    return edges


def _road(rng: np.random.Generator, a: np.ndarray, b: np.ndarray, country: Polygon) -> LineString:
    d = b - a
    normal = np.array([-d[1], d[0]]) / max(np.hypot(*d), 1.0)
    t = np.array([0.0, 0.2, 0.4, 0.6, 0.8, 1.0])
    bend = np.concatenate([[0.0], rng.normal(0.0, 0.04, 4), [0.0]]) * np.hypot(*d)
    pts = a + t[:, None] * d + bend[:, None] * normal
    line = LineString(pts)
    return line if country.covers(line) else longest_line(line.intersection(country))


def build_landscape(rng: np.random.Generator, scale: Scale, names: NameMaker) -> Landscape:
    """The whole fictional region for ``scale``."""
    country = _country(rng)
    country_name = f"{names.word()}ia"
    front = wavy_line(rng, country, rng.uniform(0.95, 1.4), rng.uniform(-25e3, 25e3), 12e3)
    rivers = [wavy_line(rng, country, rng.uniform(-0.6, 0.6) + k * 0.9, rng.uniform(-60e3, 60e3),
                        6e3) for k in range(2 + int(rng.integers(2)))]
    xy = _settlements(rng, country, scale.places)
    kinds, population = _kinds(rng, len(xy))
    place_names = [names.place() for _ in range(len(xy))]
    edges = _road_edges(xy, kinds)
    roads = [_road(rng, xy[i], xy[j], country) for i, j in edges]
    admin = build_admin(rng, country, country_name, names, scale)
    front_m = shapely.distance(front, shapely.points(xy))
    land = Landscape(country_name, country, front, roads, xy, place_names, kinds, population,
                     front_m, admin, {"admin_areas": admin.rows})
    land.rows["places"] = _place_rows(land)
    road_names = [f"{place_names[i]}-{place_names[j]} road" for i, j in edges]
    river_names = [f"{names.word()} River" for _ in rivers]
    land.rows["terrain_lines"] = _terrain_rows(roads, road_names, rivers, river_names, front)
    return land


def _place_rows(land: Landscape) -> list[dict]:
    points = to_lonlat(shapely.points(land.place_xy))
    return rows_from_columns({
        "code": [f"PL-{i:04d}" for i in range(1, len(points) + 1)],
        "name": list(land.place_names),
        "kind": list(land.place_kinds),
        "population": land.place_population.tolist(),
        "admin_area_id": land.admin.locate(points).tolist(),
        "geom": list(points),
    })


def _terrain_rows(roads, road_names, rivers, river_names, front) -> list[dict]:
    lines = to_lonlat(np.array([*roads, *rivers, front], dtype=object))
    codes = [f"RD-{i:04d}" for i in range(1, len(roads) + 1)]
    codes += [f"RV-{i:02d}" for i in range(1, len(rivers) + 1)] + ["FL-01"]
    return rows_from_columns({
        "code": codes,
        "name": [*road_names, *river_names, "Former line of contact"],
        "kind": ["road"] * len(roads) + ["river"] * len(rivers) + ["front_line"],
        "geom": list(lines),
    })
