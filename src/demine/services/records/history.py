"""Versioning: no update or delete destroys the previous version of a record, so any past
instant can be read again (``versions_at``: what ``stats --as-of`` reads)."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlalchemy import insert, select, union_all

from demine.domain.actors import Actor
from demine.services.access.permissions import redact, require_visible, visible
from demine.storage.database import UnitOfWork
from demine.storage.tables import HISTORY, table


def archive(uow: UnitOfWork, table_name: str, row: dict[str, Any], *, actor: Actor) -> None:
    """Keep ``row`` (the version being replaced) in the table's history."""
    values = {k: v for k, v in row.items() if k in HISTORY[table_name].c}
    values.update(valid_to=uow.now, superseded_by=actor.name)
    uow.conn.execute(insert(HISTORY[table_name]).values(**values))


def versions(uow: UnitOfWork, table_name: str, record_id: int) -> list[dict[str, Any]]:
    """Every version of one record, oldest first, the current one last."""
    hist = HISTORY[table_name]
    old = uow.conn.execute(
        select(hist).where(hist.c.id == record_id).order_by(hist.c.version)
    ).mappings()
    current = uow.conn.execute(
        select(table(table_name)).where(table(table_name).c.id == record_id)
    ).mappings()
    return [dict(r) for r in old] + [dict(r) for r in current]


def end_of_day(day: date | None) -> datetime | None:
    """The instant a figure "as of" ``day`` is read at: the end of that day (UTC); None, now."""
    if day is None:
        return None
    return datetime.combine(day + timedelta(days=1), time(), tzinfo=UTC)


def versions_at(uow: UnitOfWork, actor: Actor, name: str, at: datetime | None, columns,
                *, approved_only: bool = True):
    """A selectable of the rows of ``name`` as they stood at ``at`` (now when None), as
    ``actor`` sees them: the current rows recorded before ``at``, and the past versions
    valid then."""
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


# What a version records about the record itself, not its bookkeeping.
BOOKKEEPING = frozenset({"history_id", "id", "version", "recorded_at", "recorded_by",
                         "valid_to", "superseded_by", "review_note"})


def record_history(uow: UnitOfWork, *, actor: Actor, layer: str,
                   record_id: int) -> list[dict[str, Any]]:
    """The versions of one record that ``actor`` may see, newest first, each with what
    changed from the version before it that ``actor`` saw: ``{"version", "recorded_at",
    "recorded_by", "review_status", "review_note", "changes": [(field, old, new)]}``.

    Not found when the record itself is hidden from ``actor`` (as when there is none). Each
    past version goes through the one predicate on its own (a version restricted then is
    left out for whoever may not see it) and personal fields are redacted as they are now."""
    require_visible(uow, actor, layer, record_id)
    hist, current = HISTORY[layer], table(layer)
    past = uow.conn.execute(select(hist).where(hist.c.id == record_id, visible(actor, hist))
                            .order_by(hist.c.version)).mappings()
    now = uow.conn.execute(select(current).where(current.c.id == record_id)).mappings()
    seen = [redact(actor, layer, dict(r)) for r in [*past, *now]]
    out, before = [], None
    for row in seen:
        fields = [k for k in row if k not in BOOKKEEPING]
        changes = [(k, None if before is None else before.get(k), row.get(k)) for k in fields
                   if before is None or _differs(before.get(k), row.get(k))]
        out.append({"version": row["version"], "recorded_at": row["recorded_at"],
                    "recorded_by": row["recorded_by"],
                    "review_status": row.get("review_status"),
                    "review_note": row.get("review_note"), "first": before is None,
                    "changes": changes})
        before = row
    return out[::-1]


def _differs(old: Any, new: Any) -> bool:
    if hasattr(old, "equals") and hasattr(new, "equals"):  # geometries: the same shape?
        return not old.equals(new)
    return old != new
