"""Scales of the demo dataset and the fixed two-year time frame of its history."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

START = date(2024, 11, 1)
END = date(2026, 10, 31)
LAST_DAY = (END - START).days  # day offsets run 0..LAST_DAY (730 days)

COUNTRY_CODE = "XRL"  # ISO 3166 user-assigned range: never a real country
CENTRE_LONLAT = (31.55, 48.0)


@dataclass(frozen=True)
class Scale:
    """How big a demo dataset is and how densely its processes lay contamination."""

    name: str
    hazards: int
    places: int
    districts_per_region: int
    communities_per_district: int
    stations: tuple[int, int]  # ribbon stations per hazard; vertices = 2 × stations
    belt_sigma_m: float  # spread of minefield belts either side of the front line
    shelling_sigma_m: float  # spread of shelled areas around their anchor
    extra_orgs: int  # operator/NGO organisations added to the six core ones
    total_teams: int | None  # None: 4-8 teams per field organisation
    eore_sessions: int
    finds_per_ha: float  # items per cleared hectare of a minefield


SCALES: dict[str, Scale] = {
    "small": Scale("small", 200, 80, 3, 0, (5, 20), 3_000, 1_500, 0, None, 40, 22.0),
    "region": Scale("region", 5_000, 100, 4, 3, (5, 20), 7_000, 2_500, 0, None, 600, 22.0),
    "national": Scale(
        "national", 100_000, 250, 5, 4, (17, 23), 16_000, 5_000, 44, 200, 6_000, 27.5
    ),
}


def scale_of(name: str) -> Scale:
    """The scale called ``name``; ValueError naming the known ones otherwise."""
    try:
        return SCALES[name]
    except KeyError:
        known = ", ".join(SCALES)
        raise ValueError(f"unknown demo scale {name!r} (known: {known})") from None
