"""Land-release statistics: baseline = cancelled + reduced + cleared + remaining, in m².

Figures come from approved records (national statistics); ``as_of`` reproduces them as they
were recorded at the end of that day, from the versions kept in history.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlalchemy import func, select, union_all

from demine.domain.actors import Actor
from demine.domain.vocab import DESTROYED_DISPOSALS, EOCategory
from demine.services.permissions import visible
from demine.storage import dialect
from demine.storage.database import UnitOfWork
from demine.storage.tables import HISTORY, admin_areas, organisations, table

LEDGER = ("baseline_m2", "cancelled_m2", "reduced_m2", "cleared_m2", "remaining_m2")
GROUPINGS = ("region", "org", "year", "month")


def _as_of_instant(as_of: date | None) -> datetime | None:
    if as_of is None:
        return None
    return datetime.combine(as_of + timedelta(days=1), time(), tzinfo=UTC)


def versions_at(uow: UnitOfWork, actor: Actor, name: str, at: datetime | None, columns,
                *, approved_only: bool = True):
    """A selectable of the rows of ``name`` as they stood at ``at`` (now when None)."""
    current, hist = table(name), HISTORY[name]
    now = select(*[current.c[c] for c in columns]).where(visible(actor, current))
    if approved_only:
        now = now.where(current.c.review_status == "approved")
    if at is None:
        return now.subquery()
    past = select(*[hist.c[c] for c in columns]).where(
        visible(actor, hist), hist.c.recorded_at < at, hist.c.valid_to >= at)
    if approved_only:
        past = past.where(hist.c.review_status == "approved")
    return union_all(now.where(current.c.recorded_at < at), past).subquery()


def land_release_stats(
    uow: UnitOfWork, *, actor: Actor, by: str | None = None, as_of: date | None = None
) -> dict[str, Any]:
    """Totals, EO destroyed by category, and per-group figures when ``by`` is given."""
    at = _as_of_instant(as_of)
    hz = versions_at(uow, actor, "hazards", at,
                     ("id", "admin_area_id", "organisation_id", "reported_on", *LEDGER))
    finds = versions_at(uow, actor, "eo_finds", at,
                        ("hazard_id", "organisation_id", "found_on", "category", "quantity",
                         "disposal"))
    totals = _ledger_row(uow.conn.execute(select(*[func.coalesce(func.sum(hz.c[c]), 0.0)
                                                   for c in LEDGER])).one())
    groups = _groups(uow, actor, by, at, hz, finds) if by else None
    # With groups, EO totals are their sum: one pass over the finds instead of two.
    totals["eo_destroyed"] = _eo_by_category(uow, finds, None) if groups is None else {
        c.value: sum(g["eo_destroyed"][c.value] for g in groups) for c in EOCategory}
    result: dict[str, Any] = {"as_of": as_of.isoformat() if as_of else None, **totals,
                              "totals": dict(totals)}
    if by:
        result["by"] = by
        result["groups"] = groups
    if actor.organisation_id is not None and at is None:
        result["own_unapproved"] = _own_unapproved(uow, actor)
    return result


def _own_unapproved(uow: UnitOfWork, actor: Actor) -> dict[str, Any]:
    """The actor's organisation's records not yet approved: shown apart, never in totals."""
    t = table("hazards")
    row = uow.conn.execute(select(func.count(), *[func.coalesce(func.sum(t.c[c]), 0.0)
                                                  for c in LEDGER]).where(
        t.c.organisation_id == actor.organisation_id, t.c.review_status != "approved",
        visible(actor, t))).one()
    return {"hazards": int(row[0]), **_ledger_row(row[1:])}


def _ledger_row(row) -> dict[str, float]:
    return {c: round(float(v or 0.0), 2) for c, v in zip(LEDGER, row, strict=True)}


def _eo_by_category(uow, finds, key) -> dict:
    destroyed = finds.c.disposal.in_([d.value for d in DESTROYED_DISPOSALS])
    cols = [finds.c.category, func.sum(finds.c.quantity)]
    query = select(*([key] if key is not None else []), *cols).where(destroyed)
    query = query.group_by(*([key] if key is not None else []), finds.c.category)
    rows = uow.conn.execute(query).all()
    if key is None:
        counts = {c.value: 0 for c in EOCategory}
        counts.update({r[0]: int(r[1]) for r in rows})
        return counts
    grouped: dict = defaultdict(lambda: {c.value: 0 for c in EOCategory})
    for group, category, quantity in rows:
        grouped[group][category] = int(quantity)
    return grouped


def _eo_by_area(uow, finds) -> dict:
    """EO destroyed per admin area: summed per hazard first (few), then located."""
    destroyed = finds.c.disposal.in_([d.value for d in DESTROYED_DISPOSALS])
    per_hazard = select(finds.c.hazard_id, finds.c.category,
                        func.sum(finds.c.quantity).label("quantity")).where(destroyed).group_by(
        finds.c.hazard_id, finds.c.category).subquery()
    located = table("hazards")  # where a find lies does not depend on approval
    rows = uow.conn.execute(
        select(located.c.admin_area_id, per_hazard.c.category, func.sum(per_hazard.c.quantity))
        .select_from(per_hazard.outerjoin(located, per_hazard.c.hazard_id == located.c.id))
        .group_by(located.c.admin_area_id, per_hazard.c.category)).all()
    grouped: dict = defaultdict(lambda: {c.value: 0 for c in EOCategory})
    for area, category, quantity in rows:
        grouped[area][category] = int(quantity)
    return grouped


def _groups(uow, actor, by, at, hz, finds) -> list[dict[str, Any]]:
    if by in ("year", "month"):
        return _time_groups(uow, actor, by, at, hz, finds)
    if by == "region":
        names = _regions(uow)
        hz_key, find_key = hz.c.admin_area_id, None
    else:
        names = dict(uow.conn.execute(select(organisations.c.id, organisations.c.code)).all())
        hz_key, find_key = hz.c.organisation_id, finds.c.organisation_id
    ledger_rows = uow.conn.execute(
        select(hz_key, *[func.sum(hz.c[c]) for c in LEDGER]).group_by(hz_key)
    ).all()
    eo = _eo_by_area(uow, finds) if by == "region" else _eo_by_category(uow, finds, find_key)
    out: dict[str, dict[str, Any]] = {}
    for key, *figures in ledger_rows:
        group = names.get(key, "unassigned")
        _add(out.setdefault(group, _empty()), _ledger_row(figures))
    for key, counts in eo.items():
        group = names.get(key, "unassigned")
        entry = out.setdefault(group, _empty())
        for category, n in counts.items():
            entry["eo_destroyed"][category] += n
    return [{"group": g, **out[g]} for g in sorted(out)]


def _empty() -> dict[str, Any]:
    return {**{c: 0.0 for c in LEDGER}, "eo_destroyed": {c.value: 0 for c in EOCategory}}


def _add(entry: dict[str, Any], figures: dict[str, float]) -> None:
    for c in LEDGER:
        entry[c] = round(entry[c] + figures[c], 2)


def _regions(uow) -> dict[int, str]:
    """Each admin area's region (its level-1 ancestor, or itself at level 0/1)."""
    rows = {r.id: r for r in uow.conn.execute(
        select(admin_areas.c.id, admin_areas.c.name, admin_areas.c.level, admin_areas.c.parent_id)
    )}
    regions = {}
    for area_id, row in rows.items():
        node = row
        while node.level > 1 and node.parent_id in rows:
            node = rows[node.parent_id]
        regions[area_id] = node.name
    return regions


def _time_groups(uow, actor, by, at, hz, finds) -> list[dict[str, Any]]:
    """Released per period; baseline of hazards reported in it; remaining at its end."""
    # Releases count where their hazard counts (the hazard ledger is what totals add up).
    rel = versions_at(uow, actor, "land_releases", at,
                      ("hazard_id", "release_kind", "released_on", "area_m2"),
                      approved_only=False)
    conn = uow.conn
    out: dict[str, dict[str, Any]] = defaultdict(_empty)
    p = dialect.period(conn, hz.c.reported_on, by)
    for key, baseline in conn.execute(select(p, func.sum(hz.c.baseline_m2)).group_by(p)):
        out[key]["baseline_m2"] = round(baseline, 2)
    p = dialect.period(conn, rel.c.released_on, by)
    query = select(p, rel.c.release_kind, func.sum(rel.c.area_m2)).where(
        rel.c.hazard_id.in_(select(hz.c.id))).group_by(p, rel.c.release_kind)
    for key, kind, area in conn.execute(query):
        out[key][f"{kind}_m2"] = round(area, 2)
    p = dialect.period(conn, finds.c.found_on, by)
    for key, counts in _eo_by_category(uow, finds, p).items():
        out[key]["eo_destroyed"] = counts
    stock = 0.0
    for key in sorted(out):
        entry = out[key]
        stock += entry["baseline_m2"] - sum(entry[f"{k}_m2"] for k in
                                            ("cancelled", "reduced", "cleared"))
        entry["remaining_m2"] = round(max(stock, 0.0), 2)
    return [{"group": k, **out[k]} for k in sorted(out)]
