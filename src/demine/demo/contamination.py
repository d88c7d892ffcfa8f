"""Hazards laid by processes: minefield belts, shelled areas, IEDs and booby traps in towns."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import shapely

from demine.demo import evidence as ev
from demine.demo.catalogue import pick_models
from demine.demo.geo import Ribbons, concat_ribbons, ribbons
from demine.demo.landscape import Landscape
from demine.demo.params import LAST_DAY, Scale
from demine.demo.records import dates, record_columns, rows_from_columns
from demine.domain.geodesy import geodesic_area

PROCESS_SHARES = np.array([0.45, 0.40, 0.15])  # minefield, shelling, ied


@dataclass
class HazardShapes:
    """Accepted hazard shapes (working frame) and the process that laid each."""

    shapes: Ribbons
    process: np.ndarray


def _along_front(rng: np.random.Generator, land: Landscape, n: int):
    s = rng.uniform(0.0, land.front.length, n)
    at = shapely.get_coordinates(shapely.line_interpolate_point(land.front, s))
    ahead = shapely.get_coordinates(shapely.line_interpolate_point(land.front, s + 60.0))
    behind = shapely.get_coordinates(shapely.line_interpolate_point(land.front, s - 60.0))
    tangent = ahead - behind
    tangent /= np.maximum(np.hypot(*tangent.T), 1e-9)[:, None]
    return at, tangent


def _minefields(rng: np.random.Generator, land: Landscape, scale: Scale, n: int):
    at, tangent = _along_front(rng, land, n)
    normal = np.column_stack([-tangent[:, 1], tangent[:, 0]])
    side = rng.choice([-1.0, 1.0], n)
    offset = side * (150.0 + np.abs(rng.normal(0.0, scale.belt_sigma_m, n)))
    centres = at + normal * offset[:, None]
    angles = np.arctan2(tangent[:, 1], tangent[:, 0]) + rng.normal(0.0, 0.12, n)
    area_ha = np.exp(rng.uniform(np.log(1.0), np.log(9.0), n))
    return centres, angles, area_ha, rng.uniform(2.5, 7.0, n), rng.uniform(3.0, 7.0, n)


def _near_front(rng: np.random.Generator, land: Landscape, points: np.ndarray, n: int, tau: float):
    d = shapely.distance(land.front, shapely.points(points))
    w = np.exp(-d / tau)
    return points[rng.choice(len(points), size=n, p=w / w.sum())]


def _road_points(rng: np.random.Generator, land: Landscape, n: int) -> np.ndarray:
    roads = np.array(land.roads, dtype=object)
    lengths = shapely.length(roads)
    which = rng.choice(len(roads), size=n, p=lengths / lengths.sum())
    where = rng.uniform(0.0, 1.0, n) * lengths[which]
    return shapely.get_coordinates(shapely.line_interpolate_point(roads[which], where))


def _shelled(rng: np.random.Generator, land: Landscape, scale: Scale, n: int):
    towns = np.repeat(land.place_xy, np.maximum(land.place_population // 200, 1), axis=0)
    pool = np.concatenate([towns[rng.choice(len(towns), 2 * n + 1)], _road_points(rng, land, n)])
    anchors = _near_front(rng, land, pool, n, 18_000.0)
    centres = anchors + rng.normal(0.0, scale.shelling_sigma_m, (n, 2))
    area_ha = np.exp(rng.uniform(np.log(0.5), np.log(12.0), n))
    angles = rng.uniform(0.0, np.pi, n)
    return centres, angles, area_ha, rng.uniform(1.0, 2.5, n), rng.uniform(2.0, 3.0, n)


def _booby_trapped(rng: np.random.Generator, land: Landscape, scale: Scale, n: int):
    weight = np.sqrt(land.place_population) * np.exp(-land.place_front_m / 25_000.0)
    which = rng.choice(len(weight), size=n, p=weight / weight.sum())
    spread = 120.0 + 3.0 * np.sqrt(land.place_population[which])
    centres = land.place_xy[which] + rng.normal(0.0, 1.0, (n, 2)) * spread[:, None]
    area_ha = np.exp(rng.uniform(np.log(0.03), np.log(0.6), n))
    angles = rng.uniform(0.0, np.pi, n)
    return centres, angles, area_ha, rng.uniform(1.0, 2.0, n), rng.uniform(4.0, 8.0, n)


def _candidates(rng: np.random.Generator, land: Landscape, scale: Scale, n: int):
    process = rng.choice(3, size=n, p=PROCESS_SHARES)
    params = [np.empty((n, 2)), *(np.empty(n) for _ in range(4))]
    for proc, make in enumerate((_minefields, _shelled, _booby_trapped)):
        where = np.flatnonzero(process == proc)
        for target, values in zip(params, make(rng, land, scale, len(where)), strict=True):
            target[where] = values
    centres, angles, area_ha, aspect, squareness = params
    width = np.sqrt(area_ha * 10_000.0 / (aspect * 0.85))
    lo, hi = scale.stations
    stations = rng.integers(lo, hi + 1, n)
    if lo < 10:  # small items get fewer vertices, except at the national scale
        stations[process == ev.IED] = rng.integers(lo, 9, int((process == ev.IED).sum()))
    shapes = ribbons(rng, centres, angles, width * aspect, width, stations, squareness)
    return shapes, process


def _greedy(polygons: np.ndarray) -> np.ndarray:
    """Indices of polygons kept, in order, skipping any that meets one kept before it."""
    first, second = shapely.STRtree(polygons).query(polygons, predicate="intersects")
    earlier = second < first
    first, second = first[earlier], second[earlier]
    order = np.argsort(first, kind="stable")
    first, second = first[order], second[order]
    kept = np.ones(len(polygons), dtype=bool)
    starts = np.searchsorted(first, np.arange(len(polygons) + 1))
    for i in np.unique(first).tolist():
        if kept[second[starts[i]:starts[i + 1]]].any():
            kept[i] = False
    return np.flatnonzero(kept)


def place_hazards(rng: np.random.Generator, land: Landscape, scale: Scale) -> HazardShapes:
    """``scale.hazards`` valid, non-overlapping hazard shapes inside the country."""
    inner = land.country.buffer(-300.0)
    shapely.prepare(inner)
    parts, processes, need, kept_share = [], [], scale.hazards, 0.7
    while need > 0:
        batch = int(need / max(kept_share, 0.05) * 1.2) + 50
        shapes, process = _candidates(rng, land, scale, batch)
        ok = shapely.contains(inner, shapes.polygons) & shapely.is_valid(shapes.polygons)
        if parts:
            tree = shapely.STRtree(np.concatenate([p.polygons for p in parts]))
            ok[tree.query(shapes.polygons, predicate="intersects")[0]] = False
        candidates = np.flatnonzero(ok)
        take = candidates[_greedy(shapes.polygons[candidates])][:need]
        parts.append(shapes.subset(take))
        processes.append(process[take])
        need -= len(take)
        kept_share = len(take) / batch
    return HazardShapes(concat_ribbons(parts), np.concatenate(processes))


def reported_days(rng: np.random.Generator, n: int) -> np.ndarray:
    """Days hazards were reported: a survey campaign at the start, then steady reports."""
    early = rng.random(n) < 0.5
    return np.where(early, rng.integers(0, 75, n), rng.integers(0, LAST_DAY - 20, n))


def hazard_story(rng: np.random.Generator, process: np.ndarray) -> dict[str, list]:
    """Type, contamination, evidence and blockages of each hazard."""
    is_cha = rng.random(len(process)) < ev.CHA_SHARE[process]
    held = ev.contamination(rng, process)
    sighted = pick_models(rng, np.array([c[0] for c in held], dtype=object))
    story = ev.evidence(rng, process, is_cha, sighted.tolist())
    story["hazard_type"] = ["CHA" if c else "SHA" for c in is_cha.tolist()]
    story["contamination"] = [",".join(c) for c in held]
    story["held"] = held
    return story


_DESCRIPTORS = (("minefield", "mined belt", "defensive line"),
                ("shelled fields", "impact area", "strike area"),
                ("houses", "farmstead", "outbuildings"))
_COMPASS = ("E", "NE", "N", "NW", "W", "SW", "S", "SE")


@dataclass
class Hazards:
    """The hazards: rows, lon/lat shapes, and what later stages need to know of each."""

    rows: list[dict]
    shapes: Ribbons  # lon/lat
    geoms: list  # MultiPolygons, as in the rows
    process: np.ndarray
    area_m2: np.ndarray
    reported: np.ndarray  # day offsets
    worker: np.ndarray  # organisation doing the field work
    held: list[tuple[str, ...]]
    is_cha: np.ndarray
    place: np.ndarray  # nearest settlement (index)


def _workers(rng: np.random.Generator, land: Landscape, orgs, centres: np.ndarray) -> np.ndarray:
    """The field organisation working each hazard: big ones more often, near their base."""
    at, _ = _along_front(rng, land, len(orgs.field_ids))
    homes = at + rng.normal(0.0, 25_000.0, at.shape)
    d = np.hypot(centres[:, None, 0] - homes[None, :, 0], centres[:, None, 1] - homes[None, :, 1])
    cum = np.cumsum(orgs.field_weights[None, :] * np.exp(-d / 45_000.0), axis=1)
    pick = (cum < rng.random(len(centres))[:, None] * cum[:, -1:]).sum(axis=1)
    return orgs.field_ids[np.minimum(pick, len(orgs.field_ids) - 1)]


def _names(rng: np.random.Generator, land: Landscape, process, centres) -> tuple[list, np.ndarray]:
    tree = shapely.STRtree(shapely.points(land.place_xy))
    place = tree.query_nearest(shapely.points(centres), all_matches=False)[1]
    d = centres - land.place_xy[place]
    sector = (np.round(np.arctan2(d[:, 1], d[:, 0]) / (np.pi / 4)).astype(int) % 8).tolist()
    word = rng.integers(3, size=len(process)).tolist()
    names = [f"{land.place_names[p]} {_COMPASS[s]} {_DESCRIPTORS[k][w]}" for p, s, k, w in
             zip(place.tolist(), sector, process.tolist(), word, strict=True)]
    return names, place


def build_hazards(rng: np.random.Generator, land: Landscape, orgs, scale: Scale) -> Hazards:
    """Hazard rows in order of reporting, each open with its baseline area still remaining."""
    placed = place_hazards(rng, land, scale)
    reported = reported_days(rng, scale.hazards)
    order = np.argsort(reported, kind="stable")
    shapes_m, process = placed.shapes.subset(order), placed.process[order]
    reported = reported[order]
    centres = shapely.get_coordinates(shapely.centroid(shapes_m.polygons))
    worker = _workers(rng, land, orgs, centres)
    names, place = _names(rng, land, process, centres)
    shapes = shapes_m.to_lonlat()
    if not shapely.is_valid(shapes.polygons).all():
        raise RuntimeError("a hazard polygon became invalid in lon/lat")
    n = len(process)
    geoms = shapely.multipolygons(shapes.polygons, indices=np.arange(n)).tolist()
    area = np.array([geodesic_area(g) for g in geoms])
    story = hazard_story(rng, process)
    recorder = np.where(rng.random(n) < 0.25, orgs.authority_id, worker).tolist()
    columns = {
        "code": [f"HZ-{i:06d}" for i in range(1, n + 1)],
        "name": names,
        "hazard_type": story["hazard_type"],
        "status": ["open"] * n,
        "geom": geoms,
        "admin_area_id": land.admin.locate(shapely.centroid(shapes.polygons)).tolist(),
        **{k: story[k] for k in ("evidence_direct", "evidence_indirect", "evidence_categories",
                                 "contamination", "blockages")},
        "reported_on": dates(reported.tolist()),
        "baseline_m2": area.tolist(),
        "cancelled_m2": [0.0] * n, "reduced_m2": [0.0] * n, "cleared_m2": [0.0] * n,
        "remaining_m2": area.tolist(),
        **record_columns(rng, recorder, reported.tolist(), orgs.recorded_by),
    }
    is_cha = np.array([t == "CHA" for t in story["hazard_type"]])
    return Hazards(rows_from_columns(columns), shapes, geoms, process, area, reported, worker,
                   story["held"], is_cha, place)
