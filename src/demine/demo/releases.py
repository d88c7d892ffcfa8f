"""Activity and land release rows: each release is strips of its hazard, so it lies within it."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from demine.demo.contamination import Hazards
from demine.demo.operations import Activity, Ranges
from demine.demo.organisations import Organisations
from demine.demo.records import dates, record_columns, rows_from_columns
from demine.domain.geodesy import geodesic_area
from demine.domain.vocab import RELEASE_KIND_OF_ACTIVITY, ActivityKind


@dataclass
class Worked:
    """Activities as rows, plus the geometry and area of the land each worked and released."""

    plans: list[Activity]
    activity_rows: list[dict]
    release_rows: list[dict]
    worked_geoms: list
    release_geoms: list
    released_m2: np.ndarray


def whole(hazards: Hazards, h: int, ranges: Ranges) -> bool:
    """Whether the strips ``ranges`` span all of hazard ``h``."""
    return ranges == [(0, int(hazards.shapes.stations[h]))]


def strips(hazards: Hazards, h: int, ranges: Ranges):
    """The strips ``ranges`` of hazard ``h`` (the hazard's own geometry when they span it)."""
    return hazards.geoms[h] if whole(hazards, h, ranges) else hazards.shapes.strip(h, ranges)


def _release_kind(kind: str) -> str | None:
    release = RELEASE_KIND_OF_ACTIVITY.get(ActivityKind(kind))
    return release.value if release else None


def _geometry(hazards: Hazards, plans: list[Activity]):
    worked, released, area = [], [], np.zeros(len(plans))
    for i, a in enumerate(plans):
        worked.append(strips(hazards, a.hazard, a.worked))
        geom = None
        if a.released:
            geom = strips(hazards, a.hazard, a.released)
            whole_hazard = geom is hazards.geoms[a.hazard]
            area[i] = hazards.area_m2[a.hazard] if whole_hazard else geodesic_area(geom)
        released.append(geom)
    return worked, released, area


def build_activity_rows(
    rng: np.random.Generator, plans: list[Activity], hazards: Hazards, orgs: Organisations
) -> Worked:
    """Activity rows (ids in order of start) and land release rows (in order of release)."""
    worked, released, area = _geometry(hazards, plans)
    n = len(plans)
    records = record_columns(rng, [a.org for a in plans], [a.recorded for a in plans],
                             orgs.recorded_by)
    activity_rows = rows_from_columns({
        "code": [f"AC-{i:06d}" for i in range(1, n + 1)],
        "hazard_id": [a.hazard + 1 for a in plans],
        "kind": [a.kind for a in plans],
        "status": [a.status for a in plans],
        "organisation_id": records.pop("organisation_id"),
        "team_id": [a.team for a in plans],
        "method": [a.method for a in plans],
        "start_date": dates([a.start for a in plans]),
        "end_date": [None if a.end is None else d for a, d in
                     zip(plans, dates([a.end or 0 for a in plans]), strict=True)],
        "depth_cm": [a.depth_cm for a in plans],
        "release_kind": [_release_kind(a.kind) for a in plans],
        "released_m2": area.tolist(),
        "geom": worked,
        **records,
    })
    order = sorted((a.end, i) for i, a in enumerate(plans) if a.released)
    rows = [activity_rows[i] for _, i in order]
    release_rows = rows_from_columns({
        "activity_id": [r["id"] for r in rows],
        "hazard_id": [r["hazard_id"] for r in rows],
        "release_kind": [r["release_kind"] for r in rows],
        "released_on": [r["end_date"] for r in rows],
        "area_m2": [float(area[i]) for _, i in order],
        "geom": [released[i] for _, i in order],
        **{k: [r[k] for r in rows] for k in ("organisation_id", "sensitivity", "review_status",
                                             "version", "recorded_at", "recorded_by")},
    })
    return Worked(plans, activity_rows, release_rows, worked, released, area)
