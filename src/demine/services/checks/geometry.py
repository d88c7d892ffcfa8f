"""Geometry checks: invalid polygons, overlapping and duplicate hazards, swapped or stray
coordinates. Vectorised with shapely 2; geodesic m² only for what a planar estimate keeps.
"""

from __future__ import annotations

import numpy as np
import shapely

from demine.domain.geodesy import geodesic_area
from demine.domain.geometry_rules import Extent
from demine.services.checks.features import Features
from demine.services.checks.report import ERROR, WARNING, Finding, m2
from demine.storage import dialect

DUPLICATE_SHARE = 0.9  # of the larger polygon
# The planar estimate is within ~0.1% of the geodesic area for polygons of a few km; half the
# tolerance leaves a wide margin, so no pair above the tolerance is dropped unmeasured.
PREFILTER = 0.5
_POLYGONAL = (3, 6)  # shapely type ids of Polygon and MultiPolygon


def approx_m2(geoms: np.ndarray) -> np.ndarray:
    """Planar area scaled to m² at each geometry's mid-latitude: a cheap pre-filter only."""
    if len(geoms) == 0:
        return np.zeros(0)
    bounds = shapely.bounds(geoms)  # NaN for empty geometries, which have no area anyway
    lat = np.radians((bounds[:, 1] + bounds[:, 3]) / 2)
    per_deg_lat = 111_132.92 - 559.82 * np.cos(2 * lat) + 1.175 * np.cos(4 * lat)
    per_deg_lon = 111_412.84 * np.cos(lat) - 93.5 * np.cos(3 * lat)
    return np.nan_to_num(shapely.area(geoms) * per_deg_lat * per_deg_lon)


def overlapping_pairs(
    geoms: np.ndarray, tolerance_m2: float, *, same: np.ndarray | None = None
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Index pairs (i < j) sharing more than the tolerance: (i, j, intersections, m²).

    With ``same``, only pairs whose ``same`` values are equal (e.g. releases of one hazard).
    """
    # Envelope pairs first, then one vectorised intersects over the distinct pairs: cheaper
    # than query(predicate=...), which tests every pair twice and each against itself.
    left, right = shapely.STRtree(geoms).query(geoms)
    keep = left < right
    if same is not None:
        keep &= same[left] == same[right]
    left, right = left[keep], right[keep]
    meet = shapely.intersects(geoms[left], geoms[right])
    left, right = left[meet], right[meet]
    shared = shapely.intersection(geoms[left], geoms[right])
    kept = np.flatnonzero(approx_m2(shared) > PREFILTER * tolerance_m2)
    areas = np.array([geodesic_area(g) for g in shared[kept]], dtype=float)
    over = areas > tolerance_m2
    kept = kept[over]
    return left[kept], right[kept], shared[kept], areas[over]


def invalid_findings(features: Features) -> list[Finding]:
    """Polygons that are missing, empty, not polygons, or invalid (with GEOS's reason)."""
    geoms = features.geoms
    polygonal = np.isin(shapely.get_type_id(geoms), _POLYGONAL)
    bad = np.flatnonzero(~features.valid | shapely.is_empty(geoms) | ~polygonal)
    reasons = shapely.is_valid_reason(geoms[bad])
    findings = []
    for i, reason in zip(bad, reasons, strict=True):
        geom = geoms[i]
        if geom is None:
            detail = "geometry missing or unreadable"
        elif geom.is_empty:
            detail = "empty geometry"
        elif not polygonal[i]:
            detail = f"a {geom.geom_type}, not a polygon"
        else:
            detail = f"invalid polygon: {reason}"
        findings.append(Finding("invalid_geometry", ERROR, features.layer,
                                features.codes[i], detail))
    return findings


def hazard_overlap_findings(hazards: Features, tolerance_m2: float) -> list[Finding]:
    """Pairs of hazards sharing ground: ``duplicate`` when nearly the same polygon."""
    geoms = hazards.sound
    left, right, shared, areas = overlapping_pairs(geoms, tolerance_m2)
    # Shares are ratios of planar areas: for two neighbouring polygons they equal the
    # geodesic ratios to ~1e-5, so only the reported m² needs the geodesic measure.
    planar = shapely.area(shared)
    of_left, of_right = shapely.area(geoms[left]), shapely.area(geoms[right])
    smaller = planar / np.maximum(np.minimum(of_left, of_right), 1e-300)
    larger = planar / np.maximum(np.maximum(of_left, of_right), 1e-300)
    return [_pair_finding(hazards, i, j, area, share_small, share_large)
            for i, j, area, share_small, share_large
            in zip(left, right, areas, smaller, larger, strict=True)]


def _pair_finding(hazards: Features, i: int, j: int, area: float, of_smaller: float,
                  of_larger: float) -> Finding:
    org_a, org_b = hazards.orgs[i], hazards.orgs[j]
    if org_a != org_b:
        who = (f"recorded by {org_a} and {org_b}: possibly the same ground recorded twice "
               "by two operators")
    else:
        who = f"both recorded by {org_a}"
    other = hazards.codes[j]
    if of_larger >= DUPLICATE_SHARE:
        detail = (f"nearly the same polygon as {other} ({org_b}): {m2(area)} shared "
                  f"({100 * of_larger:.1f}% of the larger); {who}")
        return Finding("duplicate", WARNING, hazards.layer, hazards.codes[i], detail, other, area)
    detail = (f"overlaps {other} ({org_b}) by {m2(area)} ({100 * of_smaller:.0f}% of the "
              f"smaller); {who}")
    return Finding("overlap", WARNING, hazards.layer, hazards.codes[i], detail, other, area)


def beyond(conn, t, extent: Extent) -> list:
    """WHERE clauses, one per strip around ``extent``, keeping rows whose envelope meets
    the strip through the spatial index: together, every row that may lie beyond it."""
    far = 1e12
    x0, y0, x1, y1 = (float(v) for v in (extent.minx, extent.miny, extent.maxx, extent.maxy))
    strips = ((-far, -far, x0, far), (x1, -far, far, far), (-far, -far, far, y0),
              (-far, y1, far, far))
    return [dialect.spatial_clause(conn, t, strip) for strip in strips]


def extent_findings(features: Features, extent: Extent | None) -> list[Finding]:
    """Geometries outside the gazetteer's extent; ``swapped_lat_lon`` when (y, x) is inside."""
    if extent is None or len(features) == 0:
        return []
    b = shapely.bounds(features.geoms)
    inside = ((b[:, 0] >= extent.minx) & (b[:, 2] <= extent.maxx)
              & (b[:, 1] >= extent.miny) & (b[:, 3] <= extent.maxy))
    known = ~np.isnan(b).any(axis=1)
    findings = []
    for i in np.flatnonzero(known & ~inside):
        x0, y0, x1, y1 = (float(v) for v in b[i])
        where = f"lon {x0:.5f}, lat {y0:.5f}" if (x0, y0) == (x1, y1) else (
            f"lon {x0:.5f}..{x1:.5f}, lat {y0:.5f}..{y1:.5f}")
        if extent.contains((y0, x0, y1, x1)):
            findings.append(Finding(
                "swapped_lat_lon", ERROR, features.layer, features.codes[i],
                f"{where} is outside the gazetteer, but inside it with latitude and longitude "
                "swapped: the coordinates look swapped"))
        elif not extent.contains((x0, y0, x1, y1)):
            findings.append(Finding(
                "outside_gazetteer", WARNING, features.layer, features.codes[i],
                f"{where} is outside the gazetteer extent (lon {extent.minx:.3f}.."
                f"{extent.maxx:.3f}, lat {extent.miny:.3f}..{extent.maxy:.3f}, margin included)"))
    return findings
