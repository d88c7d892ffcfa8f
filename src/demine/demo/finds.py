"""EO finds: items found by each activity, placed inside the land it worked (vectorised)."""

from __future__ import annotations

import numpy as np
import shapely

from demine.demo.catalogue import pick_models
from demine.demo.contamination import Hazards
from demine.demo.geo import sample_points
from demine.demo.operations import Activity, Ranges
from demine.demo.organisations import Organisations
from demine.demo.params import LAST_DAY, Scale
from demine.demo.records import dates, record_columns, rows_from_columns
from demine.demo.releases import Worked, strips

_CATEGORY_WEIGHT = {"ap_mine": 1.0, "at_mine": 0.5, "uxo": 1.0, "submunition": 1.0, "axo": 0.3,
                    "ied": 1.0, "booby_trap": 0.6}
_DEPTH_CM = {"ap_mine": (0, 16), "at_mine": (5, 36), "uxo": (0, 61), "submunition": (0, 26),
             "axo": (0, 11), "ied": (0, 41), "booby_trap": (0, 6)}
_PROCESS_DENSITY = np.array([1.0, 0.6, 1.5])  # minefield, shelling, ied
FUZE_STATES = ("armed", "unarmed", "damaged", "no_fuze", "unknown")
_FUZE_P = (0.45, 0.10, 0.20, 0.05, 0.20)
DISPOSALS = ("destroyed_in_situ", "removed", "rendered_safe", "pending")
_DISPOSAL_P = (0.68, 0.20, 0.09, 0.03)


def _unreleased(worked: Ranges, released: Ranges) -> Ranges:
    """Strips of ``worked`` that ``released`` leaves out."""
    out: Ranges = []
    for a, b in worked:
        cursor = a
        for ra, rb in sorted(released):
            if rb <= cursor or ra >= b:
                continue
            if ra > cursor:
                out.append((cursor, ra))
            cursor = max(cursor, rb)
        if cursor < b:
            out.append((cursor, b))
    return out


def _target(hazards: Hazards, worked: Worked, i: int, a: Activity):
    """Where the finds of activity ``a`` lie and their expected number per item density."""
    if a.status == "planned":
        return None
    if a.kind in ("nts", "ts"):
        rest = _unreleased(a.worked, a.released or [])
        return strips(hazards, a.hazard, rest) if rest else None
    if a.kind == "eod_spot_task":
        return hazards.geoms[a.hazard]
    return worked.release_geoms[i] or worked.worked_geoms[i]


def _expected(a: Activity, geom, hazards: Hazards, scale: Scale) -> float:
    h = a.hazard
    area_ha = geom.area / hazards.shapes.polygons[h].area * hazards.area_m2[h] / 10_000.0
    density = scale.finds_per_ha * _PROCESS_DENSITY[hazards.process[h]]
    density *= 1.6 if hazards.is_cha[h] else 0.5
    if a.kind == "eod_spot_task":
        return 1.5
    if a.kind == "pci":
        return 0.03
    if a.kind == "nts":
        return 0.15
    if a.kind == "ts":
        return min(0.3 * density * area_ha, 60.0)
    progress = 1.0 if a.status == "completed" else min(1.0, (LAST_DAY - a.start) / 120.0)
    return min(density * area_ha * progress, 600.0)


def _categories(rng: np.random.Generator, hazards: Hazards, owner_hazard: np.ndarray):
    cats = np.array([[*held, *([held[-1]] * (3 - len(held)))] for held in hazards.held])
    weights = np.vectorize(_CATEGORY_WEIGHT.__getitem__)(cats)
    weights[:, 1:] *= cats[:, 1:] != cats[:, :-1]  # padding repeats the last category
    cum = np.cumsum(weights, axis=1)
    u = rng.random(len(owner_hazard)) * cum[owner_hazard, -1]
    pick = np.minimum((cum[owner_hazard] < u[:, None]).sum(axis=1), 2)
    return cats[owner_hazard, pick].astype(object)


def _item_columns(rng: np.random.Generator, category: np.ndarray) -> dict[str, list]:
    n = len(category)
    quantity = 1 + (rng.random(n) < 0.03).astype(np.int64)
    sub, axo = category == "submunition", category == "axo"
    quantity[sub] = rng.geometric(0.45, int(sub.sum()))
    quantity[axo] = rng.geometric(0.12, int(axo.sum()))
    depth = np.zeros(n, dtype=np.int64)
    for cat, (lo, hi) in _DEPTH_CM.items():
        where = category == cat
        depth[where] = rng.integers(lo, hi, int(where.sum()))
    fuze = rng.choice(len(FUZE_STATES), n, p=_FUZE_P).tolist()
    disposal = rng.choice(len(DISPOSALS), n, p=_DISPOSAL_P).tolist()
    return {
        "category": category.tolist(),
        "model_code": pick_models(rng, category).tolist(),
        "quantity": quantity.tolist(),
        "depth_cm": depth.tolist(),
        "fuze_state": [FUZE_STATES[i] for i in fuze],
        "disposal": [DISPOSALS[i] for i in disposal],
    }


def build_finds(
    rng: np.random.Generator, worked: Worked, hazards: Hazards, scale: Scale, orgs: Organisations
) -> list[dict]:
    """EO find rows, in order of finding."""
    plans = worked.plans
    targets = [_target(hazards, worked, i, a) for i, a in enumerate(plans)]
    lam = np.array([0.0 if g is None else _expected(a, g, hazards, scale)
                    for a, g in zip(plans, targets, strict=True)])
    counts = rng.poisson(lam)
    spot = np.array([a.kind == "eod_spot_task" and a.status != "planned" for a in plans], bool)
    counts[spot] = np.maximum(counts[spot], 1)  # a spot task is called out for an item
    active = np.flatnonzero(counts > 0)
    geoms = np.empty(len(active), dtype=object)
    geoms[:] = [targets[i] for i in active.tolist()]
    xy, owner = sample_points(rng, geoms, counts[active])
    act = active[owner]
    start = np.array([a.start for a in plans])[act]
    stop = np.array([LAST_DAY if a.end is None else a.end for a in plans])[act]
    found = start + (rng.random(len(act)) * (stop - start + 1)).astype(np.int64)
    order = np.lexsort((act, found))
    act, found, xy = act[order], found[order], xy[order]
    hazard = np.array([a.hazard for a in plans])[act]
    recorded = np.minimum(found + rng.integers(0, 6, len(act)), LAST_DAY)
    org = np.array([a.org for a in plans])[act].tolist()
    n = len(act)
    return rows_from_columns({
        "code": [f"EO-{i:07d}" for i in range(1, n + 1)],
        "activity_id": (act + 1).tolist(),
        "hazard_id": (hazard + 1).tolist(),
        "geom": shapely.points(xy).tolist(),
        **_item_columns(rng, _categories(rng, hazards, hazard)),
        "found_on": dates(found.tolist()),
        **record_columns(rng, org, recorded.tolist(), orgs.recorded_by),
    })

