"""Land-release arithmetic: baseline = cancelled + reduced + cleared + remaining, in m².

A released polygon must lie within its hazard (up to a small tolerance, trimmed off) and must
not release ground an earlier release of the same hazard already released.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import shapely
from shapely.geometry import MultiPolygon
from shapely.geometry.base import BaseGeometry

from demine.domain.errors import Invalid, Problem
from demine.domain.geodesy import geodesic_area
from demine.domain.geometry_rules import as_multipolygon
from demine.domain.vocab import ReleaseKind


@dataclass(frozen=True)
class Tolerance:
    """How much a release may stick out of its hazard or overlap earlier ones, in m²."""

    absolute_m2: float = 1.0
    ratio: float = 0.001

    def allowed(self, released_m2: float) -> float:
        """The tolerated area for a release of ``released_m2``."""
        return max(self.absolute_m2, self.ratio * released_m2)


@dataclass(frozen=True)
class Balance:
    """One hazard's ledger."""

    baseline_m2: float
    cancelled_m2: float = 0.0
    reduced_m2: float = 0.0
    cleared_m2: float = 0.0

    @property
    def released_m2(self) -> float:
        """Everything released so far."""
        return self.cancelled_m2 + self.reduced_m2 + self.cleared_m2

    @property
    def remaining_m2(self) -> float:
        """What is still hazardous; never negative."""
        return max(self.baseline_m2 - self.released_m2, 0.0)

    def plus(self, kind: ReleaseKind, area_m2: float) -> Balance:
        """The balance after one more release."""
        field = f"{ReleaseKind(kind).value}_m2"
        return Balance(**{**self.as_dict(), field: getattr(self, field) + area_m2})

    def as_dict(self) -> dict[str, float]:
        """The stored columns (without remaining)."""
        return {
            "baseline_m2": self.baseline_m2,
            "cancelled_m2": self.cancelled_m2,
            "reduced_m2": self.reduced_m2,
            "cleared_m2": self.cleared_m2,
        }

    def columns(self) -> dict[str, float]:
        """All five ledger columns as stored on a hazard."""
        return {**self.as_dict(), "remaining_m2": self.remaining_m2}


FULLY_RELEASED = "all land released"


def status_after_release(
    status: str, reason: str | None, remaining_m2: float, *, closure_tolerance_m2: float
) -> tuple[str, str | None]:
    """A hazard's status and closure reason once its ledger changed.

    Nothing left: closed ("all land released"). Land left again after an undone release:
    back to worked on. Otherwise an open hazard that released land is worked on.
    """
    if remaining_m2 <= closure_tolerance_m2:
        return "closed", reason or FULLY_RELEASED
    if status == "closed" and reason == FULLY_RELEASED:
        return "worked_on", None
    if status == "open":
        return "worked_on", reason
    return status, reason


def closure_after_release(
    status: str, reason: str | None, closed_on: date | None, remaining_m2: float, *,
    released_on: date, closure_tolerance_m2: float,
) -> tuple[str, str | None, date | None]:
    """A hazard's status, closure reason and closing date once a release moved its ledger:
    it closes on the day of the release that left nothing, and reopens without a date."""
    new_status, new_reason = status_after_release(status, reason, remaining_m2,
                                                  closure_tolerance_m2=closure_tolerance_m2)
    if new_status != "closed":
        return new_status, new_reason, None
    return new_status, new_reason, closed_on if status == "closed" else released_on


def fit_release(
    hazard: BaseGeometry,
    earlier: list[BaseGeometry],
    released: BaseGeometry,
    *,
    record: str,
    hazard_code: str,
    tolerance: Tolerance,
) -> MultiPolygon:
    """The released polygon trimmed to its hazard and to ground not released before.

    Raises Invalid when more than the tolerance lies outside the hazard or was released before.
    """
    area = geodesic_area(released)
    allowed = tolerance.allowed(area)
    outside = geodesic_area(released.difference(hazard))
    problems = []
    if outside > allowed:
        problems.append(
            Problem(
                record,
                "released_geom",
                f"released polygon extends {outside:.1f} m² outside hazard {hazard_code} "
                f"(tolerance {allowed:.1f} m²)",
            )
        )
    before = shapely.union_all(earlier) if earlier else None
    if before is not None:
        overlap = geodesic_area(released.intersection(before))
        if overlap > allowed:
            # No figure and no name: the other release may be one the writer may not see,
            # and how much it overlaps would map it out.
            problems.append(
                Problem(
                    record,
                    "released_geom",
                    f"released polygon overlaps ground of hazard {hazard_code} that another "
                    f"release already released or reserved",
                )
            )
    if problems:
        raise Invalid(problems)
    fitted = released.intersection(hazard)
    if before is not None:
        fitted = fitted.difference(before)
    fitted = as_multipolygon(shapely.make_valid(fitted))
    if fitted.is_empty:
        raise Invalid(Problem(record, "released_geom", "released polygon releases no ground"))
    return fitted


def remaining_geometry(hazard: BaseGeometry, releases: list[BaseGeometry]) -> MultiPolygon:
    """The part of a hazard not yet released (derived, never stored as truth)."""
    if not releases:
        return as_multipolygon(hazard)
    return as_multipolygon(hazard.difference(shapely.union_all(releases)))
