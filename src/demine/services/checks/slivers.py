"""GIS checks: slivers and gaps.

A *sliver* is a polygon part narrower than the digitising tolerance everywhere (no circle of
that diameter fits in it): a hazard, activity or release drawn with a stray thin part. A
*gap* is remaining ground of a hazard that is narrower than that tolerance: a strip left
between its land releases, or between a release and the hazard's edge, because polygons were
drawn side by side instead of snapped. Such strips stay "remaining" in the ledger forever
although nobody would send a team to clear them; they are found by a morphological opening
(shrink by half the width, grow back) of each worked hazard's remaining ground.

Widths are measured in a local metric frame (equirectangular at each geometry's own
mid-latitude, accurate to well under 1% over a few km), areas as geodesic m².
"""

from __future__ import annotations

import numpy as np
import shapely

from demine.domain.geodesy import geodesic_area
from demine.services.checks.features import Features
from demine.services.checks.ledger import RELEASE_KINDS, hazard_index
from demine.services.checks.report import WARNING, Finding, m2

GAP_MIN_M2 = 0.1  # strips below this are float noise of adjacent edges, not ground


def metres_per_degree(lat: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(per degree of latitude, per degree of longitude) in metres on WGS84 at ``lat``."""
    rad = np.radians(lat)
    per_lat = 111_132.92 - 559.82 * np.cos(2 * rad) + 1.175 * np.cos(4 * rad)
    per_lon = 111_412.84 * np.cos(rad) - 93.5 * np.cos(3 * rad)
    return per_lat, per_lon


def to_metres(geoms: np.ndarray) -> np.ndarray:
    """Each geometry in its own local metric frame (metres from its bounding box centre)."""
    geoms = np.asarray(geoms, dtype=object)
    if len(geoms) == 0:
        return geoms
    bounds = shapely.bounds(geoms)
    lon0, lat0 = (bounds[:, 0] + bounds[:, 2]) / 2, (bounds[:, 1] + bounds[:, 3]) / 2
    per_lat, per_lon = metres_per_degree(lat0)
    xy, at = shapely.get_coordinates(geoms, return_index=True)
    local = np.column_stack(((xy[:, 0] - lon0[at]) * per_lon[at],
                             (xy[:, 1] - lat0[at]) * per_lat[at]))
    return shapely.set_coordinates(geoms.copy(), local)


def narrow(parts_m: np.ndarray, width_m: float) -> np.ndarray:
    """Which polygon parts (metric) are narrower than ``width_m`` everywhere."""
    if len(parts_m) == 0:
        return np.zeros(0, dtype=bool)
    area, length = shapely.area(parts_m), shapely.length(parts_m)
    # 2A/P is at least the inradius: a part with 2A/P ≥ 2w surely holds a circle of width w,
    # so only the others are shrunk (the exact, costlier test).
    maybe = np.flatnonzero(2 * area < 2 * width_m * np.maximum(length, 1e-12))
    out = np.zeros(len(parts_m), dtype=bool)
    out[maybe] = shapely.is_empty(shapely.buffer(parts_m[maybe], -width_m / 2))
    return out


def sliver_findings(features: Features, width_m: float) -> list[Finding]:
    """Records with polygon parts narrower than ``width_m`` everywhere."""
    geoms = features.sound
    present = np.flatnonzero(~shapely.is_missing(geoms) & ~shapely.is_empty(geoms))
    parts, owner = shapely.get_parts(geoms[present], return_index=True)
    polygons = shapely.get_type_id(parts) == 3
    parts, owner = parts[polygons], present[owner[polygons]]
    thin = narrow(to_metres(parts), width_m)
    findings = []
    for i in np.unique(owner[thin]):
        mine = parts[thin & (owner == i)]
        area = sum(geodesic_area(p) for p in mine)
        x, y = mine[0].representative_point().coords[0]
        count = f"{len(mine)} parts" if len(mine) > 1 else "a part"
        findings.append(Finding(
            "sliver", WARNING, features.layer, features.codes[i],
            f"{count} of {m2(area)} narrower than {width_m:g} m everywhere (near {y:.6f}, "
            f"{x:.6f}): a digitising artefact? Snap it to its neighbour or remove it",
            area_m2=area))
    return findings


def gap_findings(hazards: Features, releases: Features, width_m: float) -> list[Finding]:
    """Hazards whose remaining ground (hazard minus its releases) holds strips narrower than
    ``width_m``, with the releases they lie against."""
    at = hazard_index(hazards, releases.columns["hazard_id"].astype(np.int64))
    rows = np.flatnonzero((at >= 0) & ~shapely.is_missing(releases.sound))
    if len(rows) == 0:
        return []
    order = rows[np.argsort(at[rows], kind="stable")]
    worked, starts = np.unique(at[order], return_index=True)
    groups = np.split(order, starts[1:])
    remaining_m2 = hazards.columns["remaining_m2"].astype(float)
    # Only where the reader sees every release of the hazard (their areas add up to what the
    # hazard says was released): a hidden release would look like remaining ground.
    released_m2 = sum(hazards.columns[f"{kind}_m2"].astype(float) for kind in RELEASE_KINDS)
    seen_m2 = np.zeros(len(hazards))
    np.add.at(seen_m2, at[rows], releases.columns["area_m2"][rows].astype(float))
    keep = [k for k, h in enumerate(worked)
            if remaining_m2[h] > 0 and abs(released_m2[h] - seen_m2[h]) <= 0.01]
    if not keep:
        return []
    worked = worked[keep]
    released = np.array([shapely.union_all(releases.sound[groups[k]]) for k in keep],
                        dtype=object)
    remaining = shapely.difference(hazards.sound[worked], released)
    strips, owner = _narrow_parts(remaining, width_m)
    findings = []
    for k in np.unique(owner):
        mine = strips[owner == k]
        area = sum(geodesic_area(s) for s in mine)
        if area < GAP_MIN_M2:
            continue
        h = worked[k]
        beside = [releases.codes[r] for r in groups[keep[k]]
                  if shapely.intersects(releases.sound[r],
                                        shapely.buffer(shapely.union_all(mine), 1e-7))]
        x, y = max(mine, key=lambda s: s.area).representative_point().coords[0]
        count = f"{len(mine)} strips" if len(mine) > 1 else "a strip"
        against = (f"against {', '.join(beside[:3])}{' …' if len(beside) > 3 else ''}"
                   if beside else "between its releases")
        findings.append(Finding(
            "gap", WARNING, hazards.layer, hazards.codes[h],
            f"{count} of remaining ground, {m2(area)} in all, narrower than {width_m:g} m "
            f"{against} (near {y:.6f}, {x:.6f}): snap the releases to each other and to the "
            f"hazard, or record why the strip remains", beside[0] if beside else None, area))
    return findings


def _narrow_parts(geoms: np.ndarray, width_m: float) -> tuple[np.ndarray, np.ndarray]:
    """The parts of each geometry that an opening by ``width_m`` removes, in degrees, with
    the index of the geometry each comes from."""
    present = np.flatnonzero(~shapely.is_empty(geoms))
    metric = to_metres(geoms[present])
    half = width_m / 2
    opened = shapely.buffer(shapely.buffer(metric, -half, join_style="mitre"), half,
                            join_style="mitre", mitre_limit=10.0)
    # Where the opening gave back (nearly) all the area there is no strip: only the others
    # are differenced, the costly step.
    lost = np.flatnonzero(shapely.area(metric) - np.nan_to_num(shapely.area(opened))
                          >= GAP_MIN_M2 / 10)
    parts, owner = shapely.get_parts(shapely.difference(metric[lost], opened[lost]),
                                     return_index=True)
    owner = lost[owner]
    # mitre corners give back a little less than they took: keep only parts that are thin
    # themselves and more than a crumb
    real = (shapely.get_type_id(parts) == 3) & (shapely.area(parts) >= GAP_MIN_M2 / 10)
    parts, owner = parts[real], owner[real]
    real = narrow(parts, width_m * 1.01)
    parts, owner = parts[real], owner[real]
    # back to degrees: the same frame, inverted, per source geometry
    source = geoms[present][owner]
    bounds = shapely.bounds(source)
    lon0, lat0 = (bounds[:, 0] + bounds[:, 2]) / 2, (bounds[:, 1] + bounds[:, 3]) / 2
    per_lat, per_lon = metres_per_degree(lat0)
    if len(parts):
        xy, at = shapely.get_coordinates(parts, return_index=True)
        back = np.column_stack((xy[:, 0] / per_lon[at] + lon0[at],
                                xy[:, 1] / per_lat[at] + lat0[at]))
        parts = shapely.set_coordinates(parts.copy(), back)
    return parts, present[owner]
