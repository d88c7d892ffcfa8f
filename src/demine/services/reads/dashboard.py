"""The dashboard's figures for one actor: the land-release ledger and EO destroyed (from
``land_release_stats``, so they equal `demine stats`), casualties over time and EORE
beneficiaries, optionally of one organisation and a period of whole months.

Every figure counts approved records the actor sees, through the one visibility predicate;
casualties are counts by role, never their personal data.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from sqlalchemy import func, select

from demine.domain.actors import Actor
from demine.domain.vocab import AgeBand, CasualtyRole, EOCategory, Sex
from demine.services.access.permissions import visible
from demine.services.reads.stats import LEDGER, land_release_stats
from demine.storage import dialect
from demine.storage.database import UnitOfWork
from demine.storage.tables import table

RELEASED = ("cancelled_m2", "reduced_m2", "cleared_m2")
MONTH = re.compile(r"^\d{4}-(0[1-9]|1[0-2])$")
MONTHLY_UP_TO = 24
ROLES = tuple(r.value for r in CasualtyRole)  # longer periods are charted by year


@dataclass(frozen=True)
class Period:
    """The months from ``start`` to ``end`` ("YYYY-MM", both included); None: open."""

    start: str | None = None
    end: str | None = None

    @classmethod
    def year(cls, year: int) -> Period:
        """January to December of ``year``."""
        return cls(f"{year:04d}-01", f"{year:04d}-12")

    @property
    def bounded(self) -> bool:
        """Whether either end is set."""
        return self.start is not None or self.end is not None

    def holds(self, key: str) -> bool:
        """Whether the month or year ``key`` ("2025-03", "2025") overlaps the period."""
        return (self.start is None or key >= self.start[:len(key)]) and (
            self.end is None or key <= self.end[:len(key)])

    def first_day(self) -> date | None:
        """The period's first day."""
        return None if self.start is None else date(int(self.start[:4]), int(self.start[5:]), 1)

    def day_after(self) -> date | None:
        """The day after the period's last day."""
        if self.end is None:
            return None
        year, month = int(self.end[:4]), int(self.end[5:])
        return date(year + month // 12, month % 12 + 1, 1)

    def months(self) -> int | None:
        """How many months it spans (None: open at either end)."""
        if self.start is None or self.end is None:
            return None
        return (int(self.end[:4]) - int(self.start[:4])) * 12 + int(self.end[5:]) - int(
            self.start[5:]) + 1


def dashboard(uow: UnitOfWork, *, actor: Actor, organisation_id: int | None = None,
              period: Period = Period()) -> dict[str, Any]:
    """Headline figures, the series of each chart, and the actor's own unapproved figures."""
    monthly = land_release_stats(uow, actor=actor, by="month", organisation_id=organisation_id)
    months = [g for g in monthly["groups"] if period.holds(g["group"])]
    by = "month" if (period.months() or MONTHLY_UP_TO + 1) <= MONTHLY_UP_TO else "year"
    over_time = casualties_over_time(uow, actor=actor, organisation_id=organisation_id,
                                     period=period, by=by)
    casualties = over_time if period.bounded else casualties_over_time(
        uow, actor=actor, organisation_id=organisation_id, period=Period.year(uow.now.year))
    result = {
        "headline": _headline(monthly, months, period),
        "casualties": sum(sum(roles.values()) for roles in casualties.values()),
        "casualties_period": "period" if period.bounded else str(uow.now.year),
        "released": _released(months, by),
        "remaining_by_region": _remaining_by_region(uow, actor, organisation_id, period),
        "casualties_over_time": over_time,
        "eore": eore_beneficiaries(uow, actor=actor, organisation_id=organisation_id,
                                   period=period),
        "years": sorted({g["group"][:4] for g in monthly["groups"]} | {str(uow.now.year)}),
        "by": by,
    }
    if "own_unapproved" in monthly and organisation_id in (None, actor.organisation_id):
        result["own_unapproved"] = monthly["own_unapproved"]
    return result


def _headline(monthly: dict[str, Any], months: list[dict[str, Any]], period: Period):
    """The totals of `demine stats`; for a period: baseline reported, land released and EO
    destroyed in it, and what remained at its end."""
    if not period.bounded:
        return {**{c: monthly[c] for c in LEDGER}, "eo_destroyed": monthly["eo_destroyed"]}
    figures = {c: round(sum(g[c] for g in months), 2) for c in ("baseline_m2", *RELEASED)}
    before_end = [g for g in monthly["groups"] if period.end is None or g["group"] <= period.end]
    figures["remaining_m2"] = before_end[-1]["remaining_m2"] if before_end else 0.0
    figures["eo_destroyed"] = {c.value: sum(g["eo_destroyed"][c.value] for g in months)
                               for c in EOCategory}
    return figures


def _released(months: list[dict[str, Any]], by: str) -> list[dict[str, Any]]:
    """Land released per month or year, by kind."""
    out: dict[str, dict[str, float]] = {}
    for g in months:
        key = g["group"] if by == "month" else g["group"][:4]
        entry = out.setdefault(key, dict.fromkeys(RELEASED, 0.0))
        for c in RELEASED:
            entry[c] = round(entry[c] + g[c], 2)
    shown = [k for k, v in out.items() if any(v.values())]
    keys = _between(min(shown), max(shown)) if shown else []
    return [{"group": k, **out.get(k, dict.fromkeys(RELEASED, 0.0))} for k in keys]


def _remaining_by_region(uow, actor, organisation_id, period) -> dict[str, Any]:
    """Remaining per region, now or as recorded at the end of a period that has ended."""
    last = period.day_after() - timedelta(days=1) if period.end else None
    as_of = last if last is not None and last < uow.now.date() else None
    stats = land_release_stats(uow, actor=actor, by="region", as_of=as_of,
                               organisation_id=organisation_id)
    rows = sorted(({"group": g["group"], "remaining_m2": g["remaining_m2"]}
                   for g in stats["groups"] if g["remaining_m2"] > 0),
                  key=lambda g: (-g["remaining_m2"], g["group"]))
    return {"as_of": as_of, "groups": rows}


def casualties_over_time(uow: UnitOfWork, *, actor: Actor, organisation_id: int | None = None,
                         period: Period = Period(), by: str = "year") -> dict[str, dict]:
    """Casualties of approved accidents the actor sees, per year or month of the accident
    and role (civilian, deminer, military): counts only."""
    c, a = table("casualties"), table("accidents")
    key = dialect.period(uow.conn, a.c.occurred_on, by)
    query = select(key, c.c.role, func.count(c.c.id)).select_from(
        c.join(a, a.c.id == c.c.accident_id)).where(
        visible(actor, c), c.c.review_status == "approved", a.c.review_status == "approved",
        *_within(a.c.occurred_on, period), *_of(a, organisation_id)).group_by(key, c.c.role)
    out: dict[str, dict[str, int]] = {}
    for group, role, n in uow.conn.execute(query):
        out.setdefault(group, dict.fromkeys(ROLES, 0))[role] += int(n)
    for key in _between(min(out, default=""), max(out, default="")):  # years without any too
        out.setdefault(key, dict.fromkeys(ROLES, 0))
    return dict(sorted(out.items()))


def eore_beneficiaries(uow: UnitOfWork, *, actor: Actor, organisation_id: int | None = None,
                       period: Period = Period()) -> list[dict[str, Any]]:
    """People reached by approved EORE sessions the actor sees, by sex, age band and
    disability (every combination, zeros included)."""
    b, s = table("eore_beneficiaries"), table("eore_sessions")
    query = select(b.c.sex, b.c.age_band, b.c.disability, func.sum(b.c.count)).select_from(
        b.join(s, s.c.id == b.c.session_id)).where(
        visible(actor, b), s.c.review_status == "approved", *_within(s.c.held_on, period),
        *_of(s, organisation_id)).group_by(b.c.sex, b.c.age_band, b.c.disability)
    counts = {(sex, band, bool(disabled)): int(n or 0)
              for sex, band, disabled, n in uow.conn.execute(query)}
    return [{"sex": sex.value, "age_band": band.value, "disability": disabled,
             "count": counts.get((sex.value, band.value, disabled), 0)}
            for sex in Sex for band in AgeBand for disabled in (False, True)]


def _between(first: str, last: str) -> list[str]:
    """The years ("2024") or months ("2024-11") from ``first`` to ``last``."""
    if not first:
        return []
    if len(first) == 4:
        return [str(y) for y in range(int(first), int(last) + 1)]
    year, month, keys = int(first[:4]), int(first[5:]), []
    while f"{year:04d}-{month:02d}" <= last:
        keys.append(f"{year:04d}-{month:02d}")
        year, month = year + month // 12, month % 12 + 1
    return keys


def _within(column, period: Period) -> list:
    first, after = period.first_day(), period.day_after()
    return [*([column >= first] if first else []), *([column < after] if after else [])]


def _of(t, organisation_id: int | None) -> list:
    return [] if organisation_id is None else [t.c.organisation_id == organisation_id]
