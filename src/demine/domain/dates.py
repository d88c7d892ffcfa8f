"""Which days demine accepts: none before 1900, none after 9998, none ahead of "today"."""

from __future__ import annotations

from datetime import date, datetime, timedelta

from demine.domain.errors import Invalid, Problem

EARLIEST = date(1900, 1, 1)
# 9999-12-31 is the last day Python can hold; a day later (an end-of-day bound) overflows.
LAST_YEAR = 9998


def latest_day(now: datetime, tolerance_days: int) -> date:
    """The last day a record may be dated: today (of ``now``) plus the time-zone tolerance."""
    return (now + timedelta(days=tolerance_days)).date()


def day_problem(day: date, latest: date | None = None) -> str | None:
    """Why a day cannot be accepted, or None: out of range, or after ``latest``."""
    if day < EARLIEST:
        return f"{day.isoformat()} is before {EARLIEST.year}"
    if day.year > LAST_YEAR:
        return f"{day.isoformat()} is after {LAST_YEAR}"
    if latest is not None and day > latest:
        return f"{day.isoformat()} is in the future"
    return None


def check_query_day(day: date | None, name: str, latest: date | None = None) -> date | None:
    """A date query parameter, or Invalid naming the parameter."""
    if day is None:
        return None
    reason = day_problem(day, latest)
    if reason:
        raise Invalid(Problem("request", name, reason))
    return day
