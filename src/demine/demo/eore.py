"""EORE sessions in settlements near the former front, with disaggregated beneficiaries."""

from __future__ import annotations

import numpy as np
import shapely

from demine.demo.geo import xy_to_lonlat
from demine.demo.landscape import Landscape
from demine.demo.organisations import Organisations
from demine.demo.params import LAST_DAY, Scale
from demine.demo.records import dates, record_columns, rows_from_columns

AUDIENCES = ("community", "school", "returnees", "farmers", "humanitarian_staff")
_AUDIENCE_P = (0.35, 0.25, 0.10, 0.20, 0.10)
_SIZE = {"community": (15, 81), "school": (20, 121), "returnees": (10, 51), "farmers": (8, 41),
         "humanitarian_staff": (5, 26)}
_AGE_P = {"community": (0.3, 0.5, 0.2), "school": (0.85, 0.12, 0.03),
          "returnees": (0.35, 0.45, 0.2), "farmers": (0.05, 0.75, 0.2),
          "humanitarian_staff": (0.0, 0.95, 0.05)}
_FEMALE_P = {"community": 0.55, "school": 0.5, "returnees": 0.55, "farmers": 0.35,
             "humanitarian_staff": 0.4}
CELLS = [(sex, band, disabled) for sex in ("female", "male") for band in ("0-17", "18-59", "60+")
         for disabled in (False, True)]


def _cell_p(audience: str) -> np.ndarray:
    female, ages = _FEMALE_P[audience], _AGE_P[audience]
    p = [(female if sex == "female" else 1 - female) * ages[("0-17", "18-59", "60+").index(band)]
         * (0.05 if disabled else 0.95) for sex, band, disabled in CELLS]
    return np.array(p) / sum(p)


def build_eore(
    rng: np.random.Generator, land: Landscape, orgs: Organisations, scale: Scale
) -> tuple[list[dict], list[dict]]:
    """EORE sessions and their beneficiaries (sex × age band × disability, all 12 cells)."""
    n = scale.eore_sessions
    weight = np.sqrt(land.place_population) * np.exp(-land.place_front_m / 30_000.0)
    place = rng.choice(len(weight), size=n, p=weight / weight.sum())
    points = shapely.points(xy_to_lonlat(land.place_xy[place] + rng.normal(0.0, 150.0, (n, 2))))
    audience = rng.choice(len(AUDIENCES), size=n, p=_AUDIENCE_P).tolist()
    counts = np.zeros((n, len(CELLS)), dtype=np.int64)
    for k, name in enumerate(AUDIENCES):
        where = np.flatnonzero(np.array(audience) == k)
        sizes = rng.integers(*_SIZE[name], len(where))
        counts[where] = rng.multinomial(sizes, _cell_p(name))
    held = rng.integers(0, LAST_DAY + 1, n)
    teachers = orgs.of_kind("ngo", "operator")
    org = [teachers[i] for i in rng.integers(len(teachers), size=n).tolist()]
    sessions = rows_from_columns({
        "code": [f"RE-{i:05d}" for i in range(1, n + 1)],
        "geom": points.tolist(),
        "held_on": dates(held.tolist()),
        "admin_area_id": land.admin.locate(points).tolist(),
        "audience": [AUDIENCES[a] for a in audience],
        "beneficiaries": counts.sum(axis=1).tolist(),
        **record_columns(rng, org, np.minimum(held + rng.integers(0, 7, n), LAST_DAY).tolist(),
                         orgs.recorded_by),
    })
    cells = len(CELLS)
    beneficiaries = rows_from_columns({
        "code": [f"REB-{i:07d}" for i in range(1, n * cells + 1)],
        "session_id": np.repeat(np.arange(1, n + 1), cells).tolist(),
        "sex": [c[0] for c in CELLS] * n,
        "age_band": [c[1] for c in CELLS] * n,
        "disability": [c[2] for c in CELLS] * n,
        "count": counts.ravel().tolist(),
    })
    return sessions, beneficiaries
