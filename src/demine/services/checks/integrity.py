"""Integrity checks: orphan records, missing edit guards (GeoPackage), EO tallies and the
audit chain."""

from __future__ import annotations

from sqlalchemy import and_, func, or_, select

from demine.domain.actors import Actor
from demine.domain.vocab import DESTROYED_DISPOSALS
from demine.services import audit
from demine.services.access.permissions import visible
from demine.services.access.require import allowed
from demine.services.checks.report import ERROR, WARNING, Finding
from demine.storage import dialect
from demine.storage.database import UnitOfWork
from demine.storage.tables import activities, eo_finds, eo_tallies, hazards, metadata

_CHUNK = 5_000  # ids per IN list, well under SQLite's bound-parameter limit


def foreign_key_orphans(uow: UnitOfWork, actor: Actor) -> list[Finding]:
    """Rows whose foreign keys point nowhere (SQLite written with foreign keys off)."""
    findings = []
    for name, rows in dialect.foreign_key_violations(uow.conn).items():
        findings += _dangling_rows(uow, actor, name, rows)
    return findings


def _dangling_rows(uow, actor, name, rows) -> list[Finding]:
    t = metadata.tables.get(name)
    if t is None:  # a GeoPackage bookkeeping table: only an administrator's concern
        return [] if not allowed(actor, "checks.integrity") else [
            Finding("orphan", ERROR, name, f"rowid {rowid}",
                    f"{column} points to no {parent} row") for rowid, column, parent in rows]
    key = next(iter(t.primary_key.columns))
    label = t.c.code if "code" in t.c else key
    columns = sorted({column for _rowid, column, _parent in rows})
    seen = {}
    ids = sorted({rowid for rowid, _column, _parent in rows})
    for start in range(0, len(ids), _CHUNK):
        query = select(key, label, *[t.c[c] for c in columns]).where(
            key.in_(ids[start:start + _CHUNK]), visible(actor, t))
        for row in uow.conn.execute(query):
            seen[row[0]] = (row[1], dict(zip(columns, row[2:], strict=True)))
    findings = []
    for rowid, column, parent in rows:
        if rowid not in seen:
            continue  # not visible to this actor
        code, values = seen[rowid]
        record = str(code) if "code" in t.c else f"#{code}"
        findings.append(Finding("orphan", ERROR, name, record,
                                f"{column} {values[column]!r} points to no {parent} row"))
    return findings


def logical_orphans(uow: UnitOfWork, actor: Actor) -> list[Finding]:
    """Records the schema allows but the work does not: unlinked finds, unlocated hazards,
    and planned or ongoing activities on closed hazards."""
    conn = uow.conn
    findings = [
        Finding("orphan", WARNING, "eo_finds", code, "EO find linked to neither an activity "
                "nor a hazard")
        for code in conn.execute(select(eo_finds.c.code).where(
            eo_finds.c.activity_id.is_(None), eo_finds.c.hazard_id.is_(None),
            visible(actor, eo_finds)).order_by(eo_finds.c.id)).scalars()
    ]
    findings += [
        Finding("orphan", WARNING, "hazards", code, "hazard in no admin area of the gazetteer")
        for code in conn.execute(select(hazards.c.code).where(
            hazards.c.admin_area_id.is_(None), visible(actor, hazards)).order_by(hazards.c.id)
        ).scalars()
    ]
    query = (
        select(activities.c.code, activities.c.status, hazards.c.code, hazards.c.closed_on)
        .join(hazards, hazards.c.id == activities.c.hazard_id)
        .where(activities.c.status.in_(("planned", "ongoing")), hazards.c.status == "closed",
               and_(visible(actor, activities), visible(actor, hazards)))
        .order_by(activities.c.id)
    )
    findings += [
        Finding("orphan", WARNING, "activities", code,
                f"still {status} but hazard {hazard} was closed ({closed_on or 'no date'})",
                other=hazard)
        for code, status, hazard, closed_on in conn.execute(query)
    ]
    return findings


def mirror_findings(uow: UnitOfWork) -> list[Finding]:
    """Land releases whose copied columns differ from their activity's: who sees a release,
    and whether it counts on the ledger, is decided on those copies."""
    from demine.services.records.activities import FOLLOWS
    from demine.storage.tables import land_releases as r

    a = activities.alias("a")
    differs = [r.c[c] != a.c[c] for c in FOLLOWS]
    rows = uow.conn.execute(select(r.c.id, a.c.code, *[r.c[c] for c in FOLLOWS],
                                   *[a.c[c] for c in FOLLOWS]).join(
        a, a.c.id == r.c.activity_id).where(or_(*differs)).order_by(r.c.id)).all()
    n = len(FOLLOWS)
    return [Finding("ledger_imbalance", ERROR, "land_releases", f"#{row[0]}",
                    "differs from its activity " + row[1] + " in " + ", ".join(
                        f"{c} ({row[2 + i]} vs {row[2 + n + i]})"
                        for i, c in enumerate(FOLLOWS) if row[2 + i] != row[2 + n + i]),
                    other=row[1]) for row in rows]


def guard_findings(uow: UnitOfWork) -> list[Finding]:
    """GeoPackage tables whose edit-guard triggers are gone: other tools' writes would then
    bypass the ledger, history and audit."""
    return [Finding("unvalidated_edit", ERROR, name, None,
                    f"edit-guard trigger(s) missing for {', '.join(missing)}: writes by other "
                    f"tools to {name} would bypass the ledger, history and audit (`demine init` "
                    "restores them)")
            for name, missing in dialect.missing_edit_guards(uow.conn, metadata.tables).items()]


TALLY_KEY = ("category", "admin_area_id", "organisation_id", "month", "review_status",
             "sensitivity")


def tally_findings(uow: UnitOfWork) -> list[Finding]:
    """The EO-destroyed tallies (what statistics read) recomputed from the finds, and the
    triggers that keep them: a tally that disagrees would put wrong figures in reports."""
    conn = uow.conn
    present = dialect.trigger_names(conn)
    findings = [
        Finding("tally_mismatch", ERROR, "eo_tallies", None,
                f"trigger {name} is missing: EO-destroyed statistics would no longer follow "
                "the finds")
        for name in dialect.tally_triggers(conn)
        if name not in present]
    f, h = eo_finds.alias("f"), hazards.alias("h")
    key = (f.c.category, func.coalesce(h.c.admin_area_id, 0),  # the very same expressions
           f.c.organisation_id, dialect.period(conn, f.c.found_on, "month"),  # in GROUP BY
           f.c.review_status, f.c.sensitivity)
    recomputed = select(*key, func.sum(f.c.quantity)).select_from(
        f.outerjoin(h, h.c.id == f.c.hazard_id)).where(
        f.c.disposal.in_([d.value for d in DESTROYED_DISPOSALS])).group_by(*key)
    expected = {tuple(row[:-1]): int(row[-1]) for row in conn.execute(recomputed)}
    stored = {tuple(row[:-1]): int(row[-1]) for row in conn.execute(
        select(*[eo_tallies.c[c] for c in TALLY_KEY], eo_tallies.c.quantity)) if row[-1]}
    for key in sorted(expected.keys() | stored.keys(), key=str):
        if expected.get(key, 0) != stored.get(key, 0):
            findings.append(Finding(
                "tally_mismatch", ERROR, "eo_tallies", "/".join(map(str, key)),
                f"EO destroyed ({', '.join(TALLY_KEY)} = {', '.join(map(str, key))}): tallied "
                f"{stored.get(key, 0):,}, the finds add up to {expected.get(key, 0):,}"))
    return findings


def audit_findings(uow: UnitOfWork) -> tuple[list[Finding], int]:
    """The audit hash chain recomputed: the first broken entry, and the entries checked."""
    checked, seq, why = audit.verify(uow)
    if seq is None:
        return [], checked
    return [Finding("audit_chain", ERROR, "audit_log", f"entry {seq}",
                    f"audit chain broken at entry {seq}: {why} (checked {checked:,} entries)")
            ], checked
