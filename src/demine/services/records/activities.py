"""Activity rules: teams, dates, tasking, and the land release an activity proposes.

A release counts on its hazard's ledger (and so in the hazard's status and every statistic)
only while its activity is approved. Until then it is *pending*: stored with the activity's
review status, shown to its owner, and reserving its ground, so that no other release,
approved or pending, may claim the same ground. A rejected release reserves nothing; if its
activity is edited and submitted again, it is fitted again against what others reserved since.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import delete, insert, select, update

from demine.domain.actors import Actor
from demine.domain.errors import Problem
from demine.domain.geodesy import geodesic_area
from demine.domain.geometry_rules import check_geometry
from demine.domain.ledger import Tolerance, fit_release
from demine.domain.vocab import (
    RELEASE_KIND_OF_ACTIVITY,
    ActivityKind,
    ActivityStatus,
    ReviewStatus,
)
from demine.services.access import owned_rows
from demine.services.records import history, taskings
from demine.services.records.hazards import apply_release, mark_worked_on
from demine.services.records.hooks import Change, Hooks
from demine.storage import dialect
from demine.storage.database import UnitOfWork
from demine.storage.tables import activities, hazards, land_releases, teams

RELEASED = "released_geom"
APPROVED = ReviewStatus.APPROVED.value
REJECTED = ReviewStatus.REJECTED.value
# What a release copies from its activity (it is shown, filtered and tiled with these).
FOLLOWS = ("hazard_id", "release_kind", "organisation_id", "sensitivity", "review_status")


class ActivityHooks(Hooks):
    """Check the activity; propose, replace, count or withdraw its release on the ledger."""

    def before_write(self, change: Change) -> list[Problem]:
        values, record, uow = change.values, change.label, change.uow
        problems = []
        start, end = values.get("start_date"), values.get("end_date")
        if start and end and end < start:
            problems.append(Problem(record, "end_date", f"{end} is before start_date {start}"))
        if values.get("team_id") is not None:
            team = uow.conn.execute(select(teams).where(teams.c.id == values["team_id"])).first()
            if team.organisation_id != values["organisation_id"]:
                problems.append(Problem(record, "team_id", "team belongs to another organisation"))
            values["method"] = values.get("method") or team.method
        problems += taskings.problems(uow, change.actor, values, record=record,
                                    old=change.old)
        kind = ActivityKind(values["kind"])
        release_kind = RELEASE_KIND_OF_ACTIVITY.get(kind)
        values["release_kind"] = release_kind.value if release_kind else None
        if RELEASED in change.raw:
            released = change.raw[RELEASED]
            if released is not None:
                problems += _release_problems(change, released, release_kind, new=True)
        elif change.old is not None and release_of(uow, change.old["id"]) is not None:
            problems += _release_problems(change, None, release_kind, new=False)
        return problems

    def after_write(self, change: Change, row: dict[str, Any]) -> None:
        given = RELEASED in change.raw
        area = sync_release(change.uow, change.actor, row, given=given,
                            released=change.raw.get(RELEASED), record=change.label,
                            detail=change.detail)
        if area is not None:
            change.uow.conn.execute(update(activities).where(activities.c.id == row["id"])
                                    .values(released_m2=area))
        _mark_worked_on(change.uow, change.actor, row)

    def after_review(self, uow: UnitOfWork, actor: Actor, row: dict[str, Any],
                     detail: dict[str, Any]) -> None:
        sync_release(uow, actor, row, given=False, released=None, record=row["code"],
                     detail=detail)
        _mark_worked_on(uow, actor, row)

    def before_delete(self, change: Change) -> None:
        withdraw_release(change.uow, change.actor, change.old["id"], change.detail)

    def before_propose(self, change: Change) -> None:
        """A redrawn release must fit as things stand now (it is fitted again on approval)."""
        released = change.raw.get(RELEASED) if RELEASED in change.raw else None
        if released is not None:
            row = {**change.old, **change.values, "id": change.old["id"]}
            _fit(change.uow, row, released, change.label)


def release_of(uow: UnitOfWork, activity_id: int) -> dict[str, Any] | None:
    """The release an activity proposes or booked (None if it has none)."""
    row = uow.conn.execute(select(land_releases).where(
        land_releases.c.activity_id == activity_id)).mappings().first()
    return dict(row) if row else None


def sync_release(uow: UnitOfWork, actor: Actor, row: dict[str, Any], *, given: bool,
                 released, record: str, detail: dict[str, Any]) -> float | None:
    """Make the activity's release follow the activity; move the ledger by what it counts.

    ``given``: the write named a released polygon (``released``; None withdraws it).
    Returns the release's area when it has one, 0.0 when withdrawn, None when untouched.
    """
    old = release_of(uow, row["id"])
    if given and released is None:
        if old is None:
            return None
        withdraw_release(uow, actor, row["id"], detail)
        return 0.0
    if old is None and not given:
        return None
    # fitted again when redrawn, moved, of another kind, or reserving again after a rejection
    refit = given or any(old[k] != row[k] for k in ("hazard_id", "release_kind")) or (
        old["review_status"] == REJECTED and row["review_status"] != REJECTED)
    if refit:
        fitted = _fit(uow, row, released if given else old["geom"], record)
        area = geodesic_area(fitted)
    else:
        fitted, area = old["geom"], old["area_m2"]
    values = {**{k: row[k] for k in FOLLOWS}, "activity_id": row["id"], "area_m2": area,
              "released_on": row["end_date"], "geom": fitted}
    if not refit and all(old[k] == v for k, v in values.items() if k != "geom"):
        return area  # nothing it copies from its activity changed
    _store(uow, actor, old, values)
    _recount(uow, actor, old, values)
    detail["release_m2"] = round(area, 3)
    detail["release_status"] = values["review_status"]
    return area


def withdraw_release(uow: UnitOfWork, actor: Actor, activity_id: int,
                     detail: dict[str, Any]) -> None:
    """Remove an activity's release (kept in history), undoing it on the ledger if counted."""
    old = release_of(uow, activity_id)
    if old is None:
        return
    history.archive(uow, "land_releases", old, actor=actor)
    owned_rows.forget_record(uow, "land_releases", old["id"])
    uow.conn.execute(delete(land_releases).where(land_releases.c.id == old["id"]))
    _recount(uow, actor, old, None)
    detail["withdrawn_release_m2"] = round(old["area_m2"], 3)


def _recount(uow: UnitOfWork, actor: Actor, old: dict | None, new: dict | None) -> None:
    """Move the hazard ledger from what ``old`` counted to what ``new`` counts."""
    before = old if old is not None and old["review_status"] == APPROVED else None
    after = new if new is not None and new["review_status"] == APPROVED else None
    if before is not None and after is not None and \
            (before["hazard_id"], before["release_kind"]) == \
            (after["hazard_id"], after["release_kind"]):
        delta = after["area_m2"] - before["area_m2"]
        if delta != 0:
            apply_release(uow, actor=actor, hazard_id=after["hazard_id"],
                          kind=after["release_kind"], area_m2=delta,
                          released_on=after["released_on"])
        return
    if before is not None:
        apply_release(uow, actor=actor, hazard_id=before["hazard_id"],
                      kind=before["release_kind"], area_m2=-before["area_m2"], released_on=None)
    if after is not None:
        apply_release(uow, actor=actor, hazard_id=after["hazard_id"],
                      kind=after["release_kind"], area_m2=after["area_m2"],
                      released_on=after["released_on"])


def _store(uow: UnitOfWork, actor: Actor, old: dict | None, values: dict[str, Any]) -> None:
    stamp = {"recorded_at": uow.now, "recorded_by": actor.name}
    if old is None:
        values = {**values, **dialect.new_id_values(uow.conn, "land_releases")}
        uow.conn.execute(insert(land_releases).values(**values, version=1, **stamp))
        return
    history.archive(uow, "land_releases", old, actor=actor)
    uow.conn.execute(update(land_releases).where(land_releases.c.id == old["id"]).values(
        **values, version=old["version"] + 1, **stamp))


def _fit(uow: UnitOfWork, row: dict[str, Any], released, record: str):
    """The released polygon trimmed to its hazard, refused where others reserved its ground."""
    settings = uow.settings
    hazard = uow.conn.execute(select(hazards).where(hazards.c.id == row["hazard_id"])).one()
    reserved = uow.conn.execute(select(land_releases.c.geom).where(
        land_releases.c.hazard_id == row["hazard_id"],
        land_releases.c.activity_id != row["id"],
        land_releases.c.review_status != REJECTED)).scalars().all()
    return fit_release(
        hazard.geom, list(reserved), released, record=record, hazard_code=hazard.code,
        tolerance=Tolerance(settings.release_tolerance_m2, settings.release_tolerance_ratio),
    )


def _mark_worked_on(uow: UnitOfWork, actor: Actor, row: dict[str, Any]) -> None:
    """Approved work that started makes an open hazard "worked on"."""
    if row["review_status"] == APPROVED and \
            row["status"] in (ActivityStatus.ONGOING, ActivityStatus.COMPLETED):
        mark_worked_on(uow, actor=actor, hazard_id=row["hazard_id"])


def _release_problems(change: Change, released, release_kind, *, new: bool) -> list[Problem]:
    values, record = change.values, change.label
    if release_kind is None:
        return [Problem(record, RELEASED, f"a {values['kind']} activity releases no land")]
    problems = []
    if new:
        problems += check_geometry(
            released, record=record, field=RELEASED, expected=("Polygon", "MultiPolygon"),
            max_vertices=change.uow.settings.max_vertices, extent=change.resolver.extent(),
        )
    if values.get("status") != ActivityStatus.COMPLETED:
        problems.append(Problem(record, RELEASED, "land is released only by a completed activity"))
    if not values.get("end_date"):
        problems.append(Problem(record, "end_date", "a release needs the activity's end_date"))
    return problems
