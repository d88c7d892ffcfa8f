"""Hazard rules: baseline area, ledger columns, status transitions, geometry edits."""

from __future__ import annotations

from datetime import date
from typing import Any

import shapely
from sqlalchemy import select, update

from demine.domain.actors import Actor
from demine.domain.errors import Problem
from demine.domain.geodesy import geodesic_area
from demine.domain.ledger import Balance, closure_after_release
from demine.domain.vocab import HazardStatus, ReleaseKind
from demine.services.records import history
from demine.services.records.hooks import Change, Hooks
from demine.storage.database import UnitOfWork
from demine.storage.tables import hazards, land_releases


def balance_of(row: dict[str, Any]) -> Balance:
    """The ledger stored on a hazard row."""
    return Balance(row["baseline_m2"], row["cancelled_m2"], row["reduced_m2"], row["cleared_m2"])


def status_problem(status: str, remaining_m2: float, reason: str | None, *, record: str,
                   tolerance_m2: float) -> Problem | None:
    """A hazard closes only when nothing remains or with a recorded reason."""
    if status == HazardStatus.CLOSED and remaining_m2 > tolerance_m2 and not reason:
        return Problem(
            record, "status",
            f"cannot close with {remaining_m2:.1f} m² remaining unless closure_reason is given",
        )
    return None


class HazardHooks(Hooks):
    """Baseline from the polygon; releases must stay inside an edited polygon."""

    def before_write(self, change: Change) -> list[Problem]:
        values, old, uow = change.values, change.old, change.uow
        geom = values["geom"]
        balance = Balance(geodesic_area(geom), *(_released(old)))
        problems = []
        if old is not None and old["geom"] != geom:
            problems += _releases_outside(uow, old, geom, change.label)
        values.update(balance.columns())
        if values.get("admin_area_id") is None:
            values["admin_area_id"] = change.resolver.admin_area_of(geom)
        status = values.get("status") or (old["status"] if old else HazardStatus.OPEN.value)
        values["status"] = status
        problem = status_problem(
            status, balance.remaining_m2, values.get("closure_reason"), record=change.label,
            tolerance_m2=uow.settings.closure_tolerance_m2,
        )
        if problem:
            problems.append(problem)
        if status == HazardStatus.CLOSED and not values.get("closed_on"):
            values["closed_on"] = uow.now.date()
        return problems


def _released(old: dict[str, Any] | None) -> tuple[float, float, float]:
    if old is None:
        return (0.0, 0.0, 0.0)
    return (old["cancelled_m2"], old["reduced_m2"], old["cleared_m2"])


def _releases_outside(uow, old, geom, record: str) -> list[Problem]:
    rows = uow.conn.execute(
        select(land_releases.c.geom).where(land_releases.c.hazard_id == old["id"],
                                           land_releases.c.review_status != "rejected")
    ).all()
    if not rows:
        return []
    released = shapely.union_all([r.geom for r in rows])
    outside = geodesic_area(released.difference(geom))
    if outside > uow.settings.release_tolerance_m2:
        return [Problem(record, "geometry",
                        f"the new polygon leaves {outside:.1f} m² of released land outside it")]
    return []


def apply_release(
    uow: UnitOfWork, *, actor: Actor, hazard_id: int, kind: str, area_m2: float,
    released_on: date | None,
) -> dict[str, Any]:
    """Book a release (negative area: undo one) on the hazard's ledger, as a new version."""
    old = dict(uow.conn.execute(select(hazards).where(hazards.c.id == hazard_id)).mappings().one())
    balance = balance_of(old).plus(ReleaseKind(kind), area_m2)
    values: dict[str, Any] = balance.columns()
    status, reason, closed_on = closure_after_release(
        old["status"], old["closure_reason"], old["closed_on"], balance.remaining_m2,
        released_on=released_on or uow.now.date(),
        closure_tolerance_m2=uow.settings.closure_tolerance_m2,
    )
    values.update(status=status, closure_reason=reason, closed_on=closed_on)
    history.archive(uow, "hazards", old, actor=actor)
    values.update(version=old["version"] + 1, recorded_at=uow.now, recorded_by=actor.name)
    uow.conn.execute(update(hazards).where(hazards.c.id == hazard_id).values(**values))
    return {**old, **values}


def mark_worked_on(uow: UnitOfWork, *, actor: Actor, hazard_id: int) -> None:
    """An open hazard that work started on becomes "worked on" (a new version)."""
    old = dict(uow.conn.execute(select(hazards).where(hazards.c.id == hazard_id)).mappings().one())
    if old["status"] != HazardStatus.OPEN:
        return
    history.archive(uow, "hazards", old, actor=actor)
    uow.conn.execute(
        update(hazards).where(hazards.c.id == hazard_id).values(
            status=HazardStatus.WORKED_ON.value, version=old["version"] + 1,
            recorded_at=uow.now, recorded_by=actor.name,
        )
    )
