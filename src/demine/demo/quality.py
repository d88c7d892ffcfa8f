"""Quality management: inspections of completed clearance, and the non-conformities found."""

from __future__ import annotations

import numpy as np

from demine.demo.organisations import Organisations
from demine.demo.params import LAST_DAY
from demine.demo.records import dates, record_columns, rows_from_columns
from demine.demo.records import day as day_of
from demine.demo.releases import Worked

INSPECTED_SHARE = 0.25
RESULTS = ("pass", "conditional", "fail")
_RESULT_P = (0.85, 0.10, 0.05)
_NOTES = {"pass": "Sampled area found clear; documentation complete",
          "conditional": "Accepted subject to corrective action",
          "fail": "Item found in cleared land; site to be re-cleared"}
_FINDINGS = (
    ("marking", "Hazard marking incomplete along the southern boundary",
     "Re-mark the boundary and brief the team"),
    ("documentation", "Daily clearance log not filled for two days", "Complete and sign the log"),
    ("clearance depth", "Clearance depth below the required depth in one lane",
     "Re-clear the lane to depth"),
    ("detector calibration", "Detector test piece check not recorded",
     "Check detectors at every start of work"),
    ("site layout", "Safety distance between deminers not kept", "Re-brief the site layout"),
    ("medical support", "Casualty evacuation plan not posted at the control point",
     "Post the plan and rehearse it"),
    ("excavation", "Excavation drills not followed on a signal", "Retrain the deminer"),
)
_SEVERITY = {"pass": ("minor",), "conditional": ("minor", "major"), "fail": ("major", "critical")}


def _inspection(rng: np.random.Generator, a, area: float) -> tuple[str, int, float | None]:
    """(kind, day, area sampled) of one inspection of completed activity ``a``."""
    day = a.end + 2 + int(rng.integers(0, 40))
    if rng.random() < 0.65 and day <= LAST_DAY:
        return "qc_sampling", day, round(area * rng.uniform(0.05, 0.10), 1)
    return "monitoring_visit", int(rng.integers(a.start, a.end + 1)), None


def build_quality(
    rng: np.random.Generator, worked: Worked, orgs: Organisations
) -> tuple[list[dict], list[dict]]:
    """QA inspections of some completed clearance and BAC, and their non-conformities."""
    done = [i for i, a in enumerate(worked.plans)
            if a.kind in ("clearance", "bac") and a.released and rng.random() < INSPECTED_SHARE]
    picks = [_inspection(rng, worked.plans[i], float(worked.released_m2[i])) for i in done]
    results = [RESULTS[r] for r in rng.choice(3, size=len(done), p=_RESULT_P).tolist()]
    days = [p[1] for p in picks]
    recorded = [min(d + int(rng.integers(0, 4)), LAST_DAY) for d in days]
    n = len(done)
    inspections = rows_from_columns({
        "code": [f"QA-{i:05d}" for i in range(1, n + 1)],
        "activity_id": [i + 1 for i in done],
        "kind": [p[0] for p in picks],
        "inspected_on": dates(days),
        "result": results,
        "area_sampled_m2": [p[2] for p in picks],
        "notes": [_NOTES[r] for r in results],
        **record_columns(rng, [orgs.authority_id] * n, recorded, orgs.recorded_by),
    })
    return inspections, _non_conformities(rng, inspections, days)


def _non_conformities(
    rng: np.random.Generator, inspections: list[dict], days: list[int]
) -> list[dict]:
    """Findings of each inspection: always for a fail or conditional result, rarely a pass."""
    columns: dict[str, list] = {k: [] for k in ("inspection_id", "category", "severity",
                                                "description", "corrective_action", "closed_on")}
    for row, day in zip(inspections, days, strict=True):
        result = row["result"]
        count = {"pass": int(rng.random() < 0.1), "conditional": 1 + int(rng.integers(2)),
                 "fail": 1 + int(rng.integers(3))}[result]
        for j in rng.choice(len(_FINDINGS), size=count, replace=False).tolist():
            category, description, action = _FINDINGS[j]
            closed = day + int(rng.integers(5, 60))
            columns["inspection_id"].append(row["id"])
            columns["category"].append(category)
            columns["severity"].append(str(rng.choice(_SEVERITY[result])))
            columns["description"].append(description)
            columns["corrective_action"].append(action)
            columns["closed_on"].append(day_of(closed) if closed <= LAST_DAY
                                        and rng.random() < 0.8 else None)
    columns["code"] = [f"NC-{i:05d}" for i in range(1, len(columns["inspection_id"]) + 1)]
    return rows_from_columns(columns)
