"""Land-release statistics: baseline = cancelled + reduced + cleared + remaining, in m².

Figures come from approved records (national statistics); ``as_of`` reproduces them as they
were recorded at the end of that day, from the versions kept in history.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date, datetime
from typing import Any

from sqlalchemy import func, select, union_all

from demine.domain.actors import Actor
from demine.domain.dates import check_query_day
from demine.domain.vocab import DESTROYED_DISPOSALS, EOCategory
from demine.services.access.permissions import sees_all, visible
from demine.services.records.history import end_of_day, versions_at
from demine.storage import dialect
from demine.storage.database import UnitOfWork
from demine.storage.tables import admin_areas, eo_tallies, organisations, table

LEDGER = ("baseline_m2", "cancelled_m2", "reduced_m2", "cleared_m2", "remaining_m2")
GROUPINGS = ("region", "org", "year", "month")


def land_release_stats(
    uow: UnitOfWork, *, actor: Actor, by: str | None = None, as_of: date | None = None,
    organisation_id: int | None = None,
) -> dict[str, Any]:
    """Totals, EO destroyed by category, and per-group figures when ``by`` is given; with
    ``organisation_id``, of that organisation's hazards and finds only (among those seen)."""
    as_of = check_query_day(as_of, "as_of", uow.latest_day)
    at = end_of_day(as_of)
    hz = _of(versions_at(uow, actor, "hazards", at,
                         ("id", "admin_area_id", "organisation_id", "reported_on", *LEDGER)),
             organisation_id)
    eo = _of(eo_destroyed(uow, actor, at), organisation_id)
    totals = _ledger_row(uow.conn.execute(select(*[func.coalesce(func.sum(hz.c[c]), 0.0)
                                                   for c in LEDGER])).one())
    groups = _groups(uow, actor, by, at, hz, eo) if by else None
    # With groups, EO totals are their sum: one pass over the EO rows instead of two.
    totals["eo_destroyed"] = _eo_by_category(uow, eo, None)[None] if groups is None else {
        c.value: sum(g["eo_destroyed"][c.value] for g in groups) for c in EOCategory}
    result: dict[str, Any] = {"as_of": as_of.isoformat() if as_of else None, **totals,
                              "totals": dict(totals)}
    if by:
        result["by"] = by
        result["groups"] = groups
    if actor.organisation_id is not None and at is None:
        result["own_unapproved"] = _own_unapproved(uow, actor)
    return result


def _of(rows, organisation_id: int | None):
    """``rows`` (a subquery with an organisation_id column), of one organisation if given."""
    if organisation_id is None:
        return rows
    return select(rows).where(rows.c.organisation_id == organisation_id).subquery()


def eo_destroyed(uow: UnitOfWork, actor: Actor, at: datetime | None):
    """Approved EO destroyed that ``actor`` sees, as rows (admin_area_id of the find's hazard,
    0 for none; organisation_id; month "YYYY-MM"; category; quantity).

    Now: from the tallies the database keeps (see tables.eo_tallies), plus, for anyone but an
    administrator, the restricted and confidential finds counted one by one, since seeing
    them depends on grants per record. At a past instant: from the finds' history.
    """
    if at is not None:
        return _finds_tallied(uow, actor, at).subquery()
    t = eo_tallies
    tallied = select(t.c.admin_area_id, t.c.organisation_id, t.c.month, t.c.category,
                     t.c.quantity).where(t.c.review_status == "approved", t.c.quantity != 0,
                                       visible(actor, t))
    if sees_all(actor):
        return tallied.subquery()
    granted = _finds_tallied(uow, actor, None, sensitivities=("restricted", "confidential"))
    return union_all(tallied, granted).subquery()


def _finds_tallied(uow, actor, at, sensitivities=None):
    """What the tallies hold, computed from the finds (as they stood at ``at``)."""
    finds = versions_at(uow, actor, "eo_finds", at,
                        ("hazard_id", "organisation_id", "found_on", "category", "quantity",
                         "disposal", "sensitivity"))
    conditions = [finds.c.disposal.in_([d.value for d in DESTROYED_DISPOSALS])]
    if sensitivities:
        conditions.append(finds.c.sensitivity.in_(sensitivities))
    month = dialect.period(uow.conn, finds.c.found_on, "month")
    # summed per hazard first (few), then located: where a find lies does not depend on approval
    per_hazard = select(finds.c.hazard_id, finds.c.organisation_id, month.label("month"),
                        finds.c.category, func.sum(finds.c.quantity).label("quantity")).where(
        *conditions).group_by(finds.c.hazard_id, finds.c.organisation_id, month,
                              finds.c.category).subquery()
    located = table("hazards")
    return select(func.coalesce(located.c.admin_area_id, 0).label("admin_area_id"),
                  per_hazard.c.organisation_id, per_hazard.c.month, per_hazard.c.category,
                  per_hazard.c.quantity).select_from(
        per_hazard.outerjoin(located, per_hazard.c.hazard_id == located.c.id))


def _own_unapproved(uow: UnitOfWork, actor: Actor) -> dict[str, Any]:
    """The actor's organisation's records not yet approved, and the land its submitted
    activities propose to release: shown apart, never in totals."""
    t = table("hazards")
    row = uow.conn.execute(select(func.count(), *[func.coalesce(func.sum(t.c[c]), 0.0)
                                                  for c in LEDGER]).where(
        t.c.organisation_id == actor.organisation_id, t.c.review_status != "approved",
        visible(actor, t))).one()
    r = table("land_releases")
    pending = dict(uow.conn.execute(select(r.c.release_kind, func.sum(r.c.area_m2)).where(
        r.c.organisation_id == actor.organisation_id, r.c.review_status == "submitted",
        visible(actor, r)).group_by(r.c.release_kind)).all())
    return {"hazards": int(row[0]), **_ledger_row(row[1:]),
            "pending_released_m2": {f"{k}_m2": round(float(pending.get(k) or 0.0), 2)
                                    for k in ("cancelled", "reduced", "cleared")}}


def _ledger_row(row) -> dict[str, float]:
    return {c: round(float(v or 0.0), 2) for c, v in zip(LEDGER, row, strict=True)}


def _eo_by_category(uow, eo, key) -> dict:
    """EO destroyed per category, for each value of ``key`` (one group, None, without)."""
    keys = [key] if key is not None else []
    # category first: the order of the tallies' key and indexes (no sort on SQLite)
    rows = uow.conn.execute(select(*keys, eo.c.category, func.sum(eo.c.quantity))
                            .group_by(eo.c.category, *keys)).all()
    grouped: dict = defaultdict(lambda: {c.value: 0 for c in EOCategory})
    if key is None:
        grouped[None]  # noqa: B018 - totals exist even when nothing was destroyed
    for *group, category, quantity in rows:
        grouped[group[0] if group else None][category] += int(quantity)
    return grouped


def _groups(uow, actor, by, at, hz, eo) -> list[dict[str, Any]]:
    if by in ("year", "month"):
        return _time_groups(uow, actor, by, at, hz, eo)
    if by == "region":
        names = _regions(uow)
        hz_key, eo_key = hz.c.admin_area_id, eo.c.admin_area_id
    else:
        names = dict(uow.conn.execute(select(organisations.c.id, organisations.c.code)).all())
        hz_key, eo_key = hz.c.organisation_id, eo.c.organisation_id
    key = (hz_key + 0).label("key")  # "+ 0": a full scan beats walking an index, then the table
    ledger_rows = uow.conn.execute(
        select(key, *[func.sum(hz.c[c]) for c in LEDGER]).group_by(key)
    ).all()
    out: dict[str, dict[str, Any]] = {}
    for key, *figures in ledger_rows:
        group = names.get(key, "unassigned")
        _add(out.setdefault(group, _empty()), _ledger_row(figures))
    for key, counts in _eo_by_category(uow, eo, eo_key).items():
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


def _time_groups(uow, actor, by, at, hz, eo) -> list[dict[str, Any]]:
    """Released per period; baseline of hazards reported in it; remaining at its end."""
    # Approved releases count where their hazard counts (what the hazard ledgers add up).
    rel = versions_at(uow, actor, "land_releases", at,
                      ("hazard_id", "release_kind", "released_on", "area_m2"))
    conn = uow.conn
    out: dict[str, dict[str, Any]] = defaultdict(_empty)
    p = dialect.period(conn, hz.c.reported_on, by)
    for key, baseline in conn.execute(select(p, func.sum(hz.c.baseline_m2)).group_by(p)):
        out[key]["baseline_m2"] = round(baseline, 2)
    p = dialect.period(conn, rel.c.released_on, by)
    # scan the releases and probe the hazards, not a search of the releases per hazard
    counted = dialect.not_for_indexing(conn, rel.c.hazard_id.in_(select(hz.c.id)))
    query = select(p, rel.c.release_kind, func.sum(rel.c.area_m2)).where(counted).group_by(
        p, rel.c.release_kind)
    for key, kind, area in conn.execute(query):
        out[key][f"{kind}_m2"] = round(area, 2)
    for month, counts in _eo_by_category(uow, eo, eo.c.month).items():
        entry = out[month[:4] if by == "year" else month]
        for category, n in counts.items():
            entry["eo_destroyed"][category] += n
    stock = 0.0
    for key in sorted(out):
        entry = out[key]
        stock += entry["baseline_m2"] - sum(entry[f"{k}_m2"] for k in
                                            ("cancelled", "reduced", "cleared"))
        entry["remaining_m2"] = round(max(stock, 0.0), 2)
    return [{"group": k, **out[k]} for k in sorted(out)]
