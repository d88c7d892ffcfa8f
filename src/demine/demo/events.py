"""Accidents and incidents near hazards, and their casualties (with invented personal data)."""

from __future__ import annotations

import numpy as np
import shapely

from demine.demo.catalogue import pick_models
from demine.demo.contamination import Hazards
from demine.demo.geo import sample_points
from demine.demo.landscape import Landscape
from demine.demo.names import NameMaker
from demine.demo.organisations import Organisations
from demine.demo.params import LAST_DAY, START
from demine.demo.records import PERSONAL_SENSITIVITY_P, dates, record_columns, rows_from_columns
from demine.demo.releases import Worked

_CIVILIAN_ACTIVITIES = ("farming", "herding", "collecting firewood", "travelling", "playing",
                        "handling the item", "fishing", "rebuilding a house",
                        "collecting scrap metal")
_DEMINER_ACTIVITIES = {"clearance": "clearance", "bac": "battle area clearance",
                       "ts": "technical survey"}
_LABEL = {"ap_mine": "AP mine", "at_mine": "AT mine", "uxo": "UXO", "axo": "abandoned ordnance",
          "submunition": "submunition", "ied": "IED", "booby_trap": "booby trap"}
_AGES = {"0-17": (6, 18), "18-59": (18, 60), "60+": (60, 86)}


def _deminer_work(worked: Worked) -> np.ndarray:
    return np.array([i for i, a in enumerate(worked.plans)
                     if a.kind in _DEMINER_ACTIVITIES and a.status in ("completed", "ongoing")])


def _when(rng: np.random.Generator, hazards: Hazards, worked: Worked, h: int, act: int | None):
    if act is not None:
        a = worked.plans[act]
        return int(rng.integers(a.start, (a.end or LAST_DAY) + 1))
    reported = int(hazards.reported[h])
    return int(rng.integers(max(0, reported - 120), min(LAST_DAY, reported + 30) + 1))


def _civilian_weights(hazards: Hazards, worked: Worked) -> np.ndarray:
    """Civilians step into confirmed hazards more, and never into land NTS cancelled."""
    weight = np.sqrt(hazards.area_m2) * np.where(hazards.is_cha, 3.0, 1.0)
    weight *= [5.0 if "accident" in h["evidence_categories"] else 1.0 for h in hazards.rows]
    weight[[a.hazard for a in worked.plans if a.kind == "nts" and a.released]] = 0.0
    return weight


def _accidents(rng: np.random.Generator, hazards: Hazards, worked: Worked, n: int):
    """(hazard, activity or None, where it happened) for each accident."""
    work = _deminer_work(worked)
    deminer = (rng.random(n) < 0.2) & (len(work) > 0)
    weight = _civilian_weights(hazards, worked)
    civilian_at = rng.choice(len(weight), size=n, p=weight / weight.sum()).tolist()
    deminer_at = work[rng.integers(len(work), size=n)].tolist() if len(work) else [0] * n
    cases = []
    for is_deminer, h, act in zip(deminer.tolist(), civilian_at, deminer_at, strict=True):
        if is_deminer:
            cases.append((worked.plans[act].hazard, act, worked.worked_geoms[act]))
        else:
            cases.append((h, None, hazards.geoms[h]))
    return cases


def build_accidents(
    rng: np.random.Generator, land: Landscape, hazards: Hazards, worked: Worked,
    orgs: Organisations, names: NameMaker,
) -> tuple[list[dict], list[dict]]:
    """About one accident or incident per 40 hazards, and the casualties of each accident."""
    cases = _accidents(rng, hazards, worked, max(1, round(len(hazards.rows) / 40)))
    geoms = np.empty(len(cases), dtype=object)
    geoms[:] = [c[2] for c in cases]
    xy, _ = sample_points(rng, geoms, np.ones(len(cases), dtype=np.int64))
    points = shapely.points(xy)
    held = [hazards.held[h] for h, _, _ in cases]
    category = np.array([c[int(rng.integers(len(c)))] for c in held], dtype=object)
    model = pick_models(rng, category)
    incidents = round(0.2 * len(cases))
    kinds = [["accident", "incident"][int(i < incidents)] for i in rng.permutation(len(cases))]
    day = [_when(rng, hazards, worked, h, act) for h, act, _ in cases]
    doing = [_DEMINER_ACTIVITIES[worked.plans[act].kind] if act is not None else
             _CIVILIAN_ACTIVITIES[int(rng.integers(len(_CIVILIAN_ACTIVITIES)))]
             for _, act, _ in cases]
    org = [worked.plans[act].org if act is not None else
           (orgs.authority_id if rng.random() < 0.6 else int(hazards.worker[h]))
           for h, act, _ in cases]
    recorded = [min(d + int(rng.integers(0, 15)), LAST_DAY) for d in day]
    rows = rows_from_columns({
        "code": [f"ACC-{i:05d}" for i in range(1, len(cases) + 1)],
        "kind": kinds,
        "geom": points.tolist(),
        "occurred_on": dates(day),
        "hazard_id": [h + 1 for h, _, _ in cases],
        "activity_id": [None if act is None else act + 1 for _, act, _ in cases],
        "admin_area_id": land.admin.locate(points).tolist(),
        "eo_category": category.tolist(),
        "model_code": [m if rng.random() < 0.7 else None for m in model.tolist()],
        "description": [_describe(k, c, d) for k, c, d in zip(kinds, category, doing, strict=True)],
        **record_columns(rng, org, recorded, orgs.recorded_by),
    })
    places = [land.place_names[int(hazards.place[h])] for h, _, _ in cases]
    return rows, _casualties(rng, rows, cases, doing, places, names, orgs)


def _describe(kind: str, category: str, doing: str) -> str:
    label = _LABEL[category]
    when = "during" if doing in _DEMINER_ACTIVITIES.values() else "while"
    text = f"{label[0].upper()}{label[1:]} detonated {when} {doing}"
    return f"{text}; no one was harmed" if kind == "incident" else text


def _person(rng: np.random.Generator, deminer: bool, category: str) -> dict:
    sex = "male" if rng.random() < (0.85 if deminer else 0.75) else "female"
    band = "18-59" if deminer else str(rng.choice(["0-17", "18-59", "60+"], p=[0.15, 0.65, 0.2]))
    killed = rng.random() < (0.45 if category == "at_mine" else 0.3)
    return {"outcome": "killed" if killed else "injured", "sex": sex, "age_band": band,
            "role": "deminer" if deminer else "civilian", "age": int(rng.integers(*_AGES[band]))}


def _casualties(
    rng: np.random.Generator, accidents: list[dict], cases: list, doing: list[str],
    places: list[str], names: NameMaker, orgs: Organisations,
) -> list[dict]:
    """One to three casualties per accident (none for incidents)."""
    people, owners = [], []
    for row, (_, act, _), place in zip(accidents, cases, places, strict=True):
        if row["kind"] != "accident":
            continue
        for _ in range(1 + int(rng.random() < 0.25) + int(rng.random() < 0.08)):
            person = _person(rng, act is not None, row["eo_category"])
            person["activity_at_time"] = doing[row["id"] - 1]
            if rng.random() < 0.85:
                person["exact_age"] = person["age"]
                person["full_name"] = names.person(person["sex"])
                person["contact"] = f"+999 {rng.integers(10, 99)} {rng.integers(100, 999)} " \
                                    f"{rng.integers(1000, 9999)}"
                person["address"] = f"{rng.integers(1, 120)} {names.street()}, {place}"
            people.append(person)
            owners.append(row)
    columns: dict[str, list] = {
        "code": [f"CAS-{i:05d}" for i in range(1, len(people) + 1)],
        "accident_id": [r["id"] for r in owners],
    }
    for key in ("outcome", "sex", "age_band", "role", "activity_at_time", "full_name", "contact",
                "exact_age", "address"):
        columns[key] = [p.get(key) for p in people]
    days = [(r["recorded_at"].date() - START).days for r in owners]
    columns.update(record_columns(rng, [r["organisation_id"] for r in owners], days,
                                  orgs.recorded_by, PERSONAL_SENSITIVITY_P))
    columns["recorded_at"] = [r["recorded_at"] for r in owners]  # entered with the accident
    return rows_from_columns(columns)
