"""A deterministic generator of a fictional region's mine action history, for demos and tests.

``generate(scale, seed)`` returns plain rows per table (no database access): a gazetteer,
organisations and teams, hazards laid by processes (minefield belts along a former line of
contact, shelled areas, IEDs in settlements), two years of surveys, clearance and land release,
EO finds, accidents, EORE sessions and QA. Same scale and seed, same rows.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from demine.demo.contamination import build_hazards
from demine.demo.eore import build_eore
from demine.demo.events import build_accidents
from demine.demo.finds import build_finds
from demine.demo.landscape import build_landscape
from demine.demo.names import NameMaker
from demine.demo.operations import plan_activities
from demine.demo.organisations import build_organisations, eo_model_rows
from demine.demo.params import END, SCALES, START, scale_of
from demine.demo.quality import build_quality
from demine.demo.releases import build_activity_rows

TABLE_ORDER = (
    "organisations", "admin_areas", "places", "terrain_lines", "teams", "eo_models", "hazards",
    "activities", "land_releases", "eo_finds", "accidents", "casualties", "eore_sessions",
    "eore_beneficiaries", "qa_inspections", "non_conformities",
)


@dataclass
class DemoDataset:
    """Rows per table (keys are column names), tables in an order that satisfies foreign keys."""

    rows: dict[str, list[dict]] = field(default_factory=dict)
    scale: str = ""
    seed: int = 0


def generate(scale: str = "region", seed: int = 1) -> DemoDataset:
    """The demo dataset of ``scale`` ("small", "region" or "national") for ``seed``."""
    params = scale_of(scale)
    streams = np.random.default_rng(seed).spawn(9)
    names = NameMaker(streams[0])
    land = build_landscape(streams[1], params, names)
    orgs = build_organisations(streams[2], params, land, names)
    hazards = build_hazards(streams[3], land, orgs, params)
    worked = build_activity_rows(streams[4], plan_activities(streams[4], hazards, orgs),
                                 hazards, orgs)
    accidents, casualties = build_accidents(streams[6], land, hazards, worked, orgs, names)
    sessions, beneficiaries = build_eore(streams[7], land, orgs, params)
    inspections, non_conformities = build_quality(streams[8], worked, orgs)
    tables = {
        "organisations": orgs.rows, **land.rows, "teams": orgs.team_rows,
        "eo_models": eo_model_rows(), "hazards": hazards.rows,
        "activities": worked.activity_rows, "land_releases": worked.release_rows,
        "eo_finds": build_finds(streams[5], worked, hazards, params, orgs),
        "accidents": accidents, "casualties": casualties, "eore_sessions": sessions,
        "eore_beneficiaries": beneficiaries, "qa_inspections": inspections,
        "non_conformities": non_conformities,
    }
    return DemoDataset({name: tables[name] for name in TABLE_ORDER}, scale, seed)


def summary(ds: DemoDataset) -> dict[str, int]:
    """Number of rows per table."""
    return {name: len(rows) for name, rows in ds.rows.items()}


__all__ = ["END", "SCALES", "START", "TABLE_ORDER", "DemoDataset", "generate", "summary"]
