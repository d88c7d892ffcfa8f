"""What waits for a reviewer: records submitted and changes proposed to approved records, in
every reviewed layer, among the records the reviewer may see (the one predicate), oldest
first. Those who may not review get an empty queue (the top bar's "Review (n)" is its total).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import and_, func, literal, select, union_all

from demine.domain.actors import Actor
from demine.domain.entities import ENTITIES, RECORD
from demine.domain.errors import Invalid, Problem
from demine.services.access.permissions import visible
from demine.services.access.require import allowed
from demine.storage.database import UnitOfWork
from demine.storage.tables import organisations, pending_changes, table

# What an item asks of the reviewer: a new record, or a change proposed to an approved one.
KINDS = {"submitted": "submitted", "update": "proposed change", "delete": "proposed deletion"}
MAX_LIMIT = 1000


def reviewed_layers() -> tuple[str, ...]:
    """The layers whose records are reviewed (versioned need-to-know records)."""
    return tuple(n for n, e in ENTITIES.items() if e.group == RECORD and e.versioned)


def waiting(uow: UnitOfWork, *, actor: Actor, layer: str | None = None, offset: int = 0,
            limit: int = 100) -> dict[str, Any]:
    """The page of items waiting for ``actor``'s decision, oldest first, and their total."""
    if layer is not None and layer not in reviewed_layers():
        raise Invalid(Problem("request", "layer", f"{layer!r} is not reviewed (reviewed: "
                                                  f"{', '.join(reviewed_layers())})"))
    parts = []
    for name in reviewed_layers():
        if layer not in (None, name) or not allowed(actor, "record.review", layer=name):
            continue
        t = table(name)
        parts.append(select(
            literal(name).label("layer"), t.c.id, t.c.code, t.c.organisation_id,
            literal("submitted").label("kind"), t.c.recorded_by.label("by"),
            t.c.recorded_at.label("at"), t.c.version,
        ).where(t.c.review_status == "submitted", visible(actor, t)))
        parts.append(select(
            literal(name).label("layer"), t.c.id, t.c.code, t.c.organisation_id,
            pending_changes.c.action.label("kind"), pending_changes.c.proposed_by.label("by"),
            pending_changes.c.proposed_at.label("at"), t.c.version,
        ).select_from(t.join(pending_changes, and_(pending_changes.c.table_name == name,
                                                   pending_changes.c.record_id == t.c.id)))
            .where(t.c.review_status == "approved", visible(actor, t)))
    if not parts:
        return {"items": [], "total": 0}
    queue = union_all(*parts).subquery("queue")
    total = uow.conn.execute(select(func.count()).select_from(queue)).scalar_one()
    rows = uow.conn.execute(
        select(queue, organisations.c.code.label("organisation"))
        .join(organisations, organisations.c.id == queue.c.organisation_id, isouter=True)
        .order_by(queue.c.at, queue.c.layer, queue.c.id)
        .offset(offset).limit(min(limit, MAX_LIMIT))).mappings()
    items = [{"layer": r["layer"], "id": r["id"], "code": r["code"],
              "label": ENTITIES[r["layer"]].label, "kind": KINDS[r["kind"]],
              "organisation": r["organisation"], "by": r["by"], "at": r["at"],
              "version": r["version"]} for r in rows]
    return {"items": items, "total": total}
