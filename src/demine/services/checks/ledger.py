"""Ledger checks: each hazard's baseline = cancelled + reduced + cleared + remaining (m²),
its baseline is its polygon's geodesic area, its columns match its land releases, and those
releases lie inside it without overlapping each other.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import shapely

from demine.domain.geodesy import geodesic_area
from demine.services.checks.features import Features
from demine.services.checks.geometry import PREFILTER, approx_m2, overlapping_pairs
from demine.services.checks.report import ERROR, Finding, m2

LEDGER = ("baseline_m2", "cancelled_m2", "reduced_m2", "cleared_m2", "remaining_m2")
RELEASE_KINDS = ("cancelled", "reduced", "cleared")
RELEASE_COLUMNS = ("hazard_id", "release_kind", "area_m2", "review_status")
BALANCE_M2 = 0.01  # the ledger balances to a hundredth of a square metre
BASELINE_RATIO = 1e-9  # plus rounding that grows with the area


def _quiet(fraction: float) -> None:
    """No progress reporting."""


def _imbalance(features: Features, i: int, detail: str, area: float | None = None,
               other: str | None = None) -> Finding:
    return Finding("ledger_imbalance", ERROR, features.layer, features.codes[i], detail,
                   other, area)


def unbalanced(hazards: Features) -> list[Finding]:
    """Hazards whose baseline differs from released plus remaining."""
    c = {name: hazards.columns[name].astype(float) for name in LEDGER}
    parts = c["cancelled_m2"] + c["reduced_m2"] + c["cleared_m2"] + c["remaining_m2"]
    gap = c["baseline_m2"] - parts
    return [
        _imbalance(hazards, i,
                   f"baseline {c['baseline_m2'][i]:,.2f} m² ≠ cancelled "
                   f"{c['cancelled_m2'][i]:,.2f} + reduced {c['reduced_m2'][i]:,.2f} + cleared "
                   f"{c['cleared_m2'][i]:,.2f} + remaining {c['remaining_m2'][i]:,.2f} m² "
                   f"(off by {gap[i]:,.2f} m²)", abs(float(gap[i])))
        for i in np.flatnonzero(np.abs(gap) > BALANCE_M2)
    ]


def baseline_mismatches(hazards: Features, progress: Callable[[float], None] = _quiet
                        ) -> list[Finding]:
    """Hazards whose stored baseline is not the geodesic area of their polygon."""
    baseline = hazards.columns["baseline_m2"].astype(float)
    findings = []
    for i, geom in enumerate(hazards.geoms):
        if i % 2_000 == 0:
            progress(i / len(hazards))  # the slow part of the checks: ~0.3 ms a hazard
        if geom is None:
            continue  # reported as invalid geometry
        area = geodesic_area(geom)
        if abs(area - baseline[i]) > BALANCE_M2 + BASELINE_RATIO * baseline[i]:
            findings.append(_imbalance(
                hazards, i, f"stored baseline {baseline[i]:,.2f} m² but the polygon measures "
                f"{area:,.2f} m² (geodesic)", abs(area - baseline[i])))
    return findings


def hazard_index(hazards: Features, hazard_ids: np.ndarray) -> np.ndarray:
    """Position of each hazard id in ``hazards`` (-1 where not visible or not there)."""
    if len(hazards) == 0:
        return np.full(len(hazard_ids), -1)
    pos = np.clip(np.searchsorted(hazards.ids, hazard_ids), 0, len(hazards) - 1)
    return np.where(hazards.ids[pos] == hazard_ids, pos, -1)


def release_sums(hazards: Features, releases: Features) -> list[Finding]:
    """Hazards whose cancelled/reduced/cleared columns differ from their approved releases'
    areas (a pending release reserves its ground but counts only once approved)."""
    at = hazard_index(hazards, releases.columns["hazard_id"].astype(np.int64))
    approved = releases.columns["review_status"] == "approved"
    findings = []
    for kind in RELEASE_KINDS:
        sums = np.zeros(len(hazards))
        mine = (releases.columns["release_kind"] == kind) & (at >= 0) & approved
        np.add.at(sums, at[mine], releases.columns["area_m2"][mine].astype(float))
        stored = hazards.columns[f"{kind}_m2"].astype(float)
        for i in np.flatnonzero(np.abs(stored - sums) > BALANCE_M2):
            findings.append(_imbalance(
                hazards, i, f"{kind} {stored[i]:,.2f} m² on the hazard, but its land releases "
                f"add up to {sums[i]:,.2f} m² {kind}", abs(float(stored[i] - sums[i]))))
    return findings


def releases_outside(hazards: Features, releases: Features, tolerance_m2: float
                     ) -> list[Finding]:
    """Land releases sticking out of their hazard by more than the tolerance."""
    at = hazard_index(hazards, releases.columns["hazard_id"].astype(np.int64))
    rows = np.flatnonzero((at >= 0) & ~shapely.is_missing(releases.geoms))
    if len(rows) == 0:
        return []
    # Most releases were trimmed to their hazard: covered, nothing outside. `covers` is
    # several times cheaper than the difference, which is computed for the rest only.
    rows = rows[~shapely.covers(hazards.sound[at[rows]], releases.sound[rows])]
    outside = shapely.difference(releases.sound[rows], hazards.sound[at[rows]])
    kept = np.flatnonzero(approx_m2(outside) > PREFILTER * tolerance_m2)
    findings = []
    for k in kept:
        area = geodesic_area(outside[k])
        if area > tolerance_m2:
            r = rows[k]
            findings.append(_imbalance(
                releases, r, f"released land extends {m2(area)} outside hazard "
                f"{hazards.codes[at[r]]} (tolerance {m2(tolerance_m2)})", area,
                hazards.codes[at[r]]))
    return findings


def releases_overlapping(hazards: Features, releases: Features, tolerance_m2: float
                         ) -> list[Finding]:
    """Pairs of land releases of one hazard that release the same ground twice."""
    if len(releases) == 0:
        return []
    hazard_ids = releases.columns["hazard_id"].astype(np.int64)
    at = hazard_index(hazards, hazard_ids)
    left, right, _shared, areas = overlapping_pairs(releases.sound, tolerance_m2,
                                                    same=hazard_ids)
    rejected = releases.columns["review_status"] == "rejected"  # reserves no ground
    findings = []
    for i, j, area in zip(left, right, areas, strict=True):
        if rejected[i] or rejected[j]:
            continue
        hazard = hazards.codes[at[i]] if at[i] >= 0 else f"#{hazard_ids[i]}"
        findings.append(_imbalance(
            releases, i, f"overlaps the release of {releases.codes[j]} on hazard {hazard} by "
            f"{m2(area)}: that ground is counted as released twice", area, releases.codes[j]))
    return findings


def ledger_findings(hazards: Features, releases: Features, tolerance_m2: float, *,
                    all_releases_seen: bool, progress: Callable[[float], None] = _quiet
                    ) -> list[Finding]:
    """Every ledger check; sums against releases only where the reader sees them all."""
    return [
        *unbalanced(hazards),
        *baseline_mismatches(hazards, progress),
        *(release_sums(hazards, releases) if all_releases_seen else []),
        *releases_outside(hazards, releases, tolerance_m2),
        *releases_overlapping(hazards, releases, tolerance_m2),
    ]
