"""Activity rules: teams, dates, and the land release an activity books on its hazard."""

from __future__ import annotations

from typing import Any

from sqlalchemy import delete, insert, select, update

from demine.domain.errors import Problem
from demine.domain.geodesy import geodesic_area
from demine.domain.geometry_rules import check_geometry
from demine.domain.ledger import Tolerance, fit_release
from demine.domain.vocab import RELEASE_KIND_OF_ACTIVITY, ActivityKind, ActivityStatus
from demine.services import history
from demine.services.hazards import apply_release, mark_worked_on
from demine.services.records import HOOKS, Change, Hooks
from demine.storage.tables import activities, hazards, land_releases, teams

RELEASED = "released_geom"


class ActivityHooks(Hooks):
    """Check the activity; book, replace or undo its release on the hazard ledger."""

    def before_write(self, change: Change) -> list[Problem]:
        values, record, uow = change.values, change.record, change.uow
        problems = []
        start, end = values.get("start_date"), values.get("end_date")
        if start and end and end < start:
            problems.append(Problem(record, "end_date", f"{end} is before start_date {start}"))
        if values.get("team_id") is not None:
            team = uow.conn.execute(select(teams).where(teams.c.id == values["team_id"])).first()
            if team.organisation_id != values["organisation_id"]:
                problems.append(Problem(record, "team_id", "team belongs to another organisation"))
            values["method"] = values.get("method") or team.method
        kind = ActivityKind(values["kind"])
        release_kind = RELEASE_KIND_OF_ACTIVITY.get(kind)
        values["release_kind"] = release_kind.value if release_kind else None
        released = change.raw.get(RELEASED)
        if released is not None:
            problems += _release_problems(change, released, release_kind)
        return problems

    def after_write(self, change: Change, row: dict[str, Any]) -> None:
        uow, actor = change.uow, change.actor
        released = change.raw.get(RELEASED)
        if released is not None:
            _undo_release(change, row["id"])
            area = _book_release(change, row, released)
            uow.conn.execute(
                update(activities).where(activities.c.id == row["id"]).values(released_m2=area)
            )
            change.detail["released_m2"] = round(area, 3)
        elif row["status"] in (ActivityStatus.ONGOING, ActivityStatus.COMPLETED):
            mark_worked_on(uow, actor=actor, hazard_id=row["hazard_id"])

    def before_delete(self, change: Change) -> None:
        _undo_release(change, change.old["id"])


def _release_problems(change: Change, released, release_kind) -> list[Problem]:
    values, record = change.values, change.record
    if release_kind is None:
        return [Problem(record, RELEASED, f"a {values['kind']} activity releases no land")]
    problems = check_geometry(
        released, record=record, field=RELEASED, expected=("Polygon", "MultiPolygon"),
        max_vertices=change.uow.settings.max_vertices, extent=change.resolver.extent(),
    )
    if values.get("status") != ActivityStatus.COMPLETED:
        problems.append(Problem(record, RELEASED, "land is released only by a completed activity"))
    if not values.get("end_date"):
        problems.append(Problem(record, "end_date", "a release needs the activity's end_date"))
    return problems


def _book_release(change: Change, row: dict[str, Any], released) -> float:
    uow, settings = change.uow, change.uow.settings
    hazard = uow.conn.execute(select(hazards).where(hazards.c.id == row["hazard_id"])).one()
    earlier = uow.conn.execute(
        select(land_releases.c.geom).where(land_releases.c.hazard_id == row["hazard_id"])
    ).scalars().all()
    fitted = fit_release(
        hazard.geom, list(earlier), released, record=change.record, hazard_code=hazard.code,
        tolerance=Tolerance(settings.release_tolerance_m2, settings.release_tolerance_ratio),
    )
    area = geodesic_area(fitted)
    uow.conn.execute(insert(land_releases).values(
        activity_id=row["id"], hazard_id=row["hazard_id"], release_kind=row["release_kind"],
        released_on=row["end_date"], area_m2=area, geom=fitted,
        organisation_id=row["organisation_id"], sensitivity=row["sensitivity"],
        review_status=row["review_status"], version=1, recorded_at=uow.now,
        recorded_by=change.actor.name,
    ))
    apply_release(uow, actor=change.actor, hazard_id=row["hazard_id"], kind=row["release_kind"],
                  area_m2=area, released_on=row["end_date"])
    return area


def _undo_release(change: Change, activity_id: int) -> None:
    uow = change.uow
    old = uow.conn.execute(
        select(land_releases).where(land_releases.c.activity_id == activity_id)
    ).mappings().first()
    if old is None:
        return
    history.archive(uow, "land_releases", dict(old), actor=change.actor)
    uow.conn.execute(delete(land_releases).where(land_releases.c.id == old["id"]))
    apply_release(uow, actor=change.actor, hazard_id=old["hazard_id"], kind=old["release_kind"],
                  area_m2=-old["area_m2"], released_on=None)
    change.detail["undone_release_m2"] = round(old["area_m2"], 3)


HOOKS["activities"] = ActivityHooks()
