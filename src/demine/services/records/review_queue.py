"""What waits for a reviewer: records submitted and changes proposed to approved records, in
every reviewed layer, among the records the reviewer may see (the one predicate), oldest
first. Those who may not review get an empty queue (the top bar's "Review (n)" is its total).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import and_, func, literal, select, union_all

from demine.domain.actors import Actor
from demine.domain.entities import ENTITIES, RECORD
from demine.domain.errors import Conflict, Invalid, Problem
from demine.services.access.permissions import redact, visible
from demine.services.access.require import allowed, require
from demine.services.records import proposals
from demine.services.records.crud import get_record
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


# What the reviewer compares: stored fields that describe the record, not its bookkeeping.
BOOKKEEPING = ("id", "version", "review_status", "review_note", "recorded_at", "recorded_by",
               "pending_change")


def decision(uow: UnitOfWork, *, actor: Actor, layer: str, record_id: int) -> dict[str, Any]:
    """What ``actor`` is asked to decide on one record: the version that counts now
    (``current``, None for a record never approved) beside the one proposed (``proposed``,
    None for a proposed deletion), the fields that differ, and the record's version (the
    decision names it, so that a change made meanwhile is not approved unseen).

    Not found for a record ``actor`` may not see (as for none); the rule's refusal for one it
    sees but may not review; Conflict when nothing waits on it."""
    if layer not in reviewed_layers():
        raise Invalid(Problem("request", "layer", f"{layer!r} is not reviewed"))
    row = get_record(uow, actor=actor, layer=layer, record_id=record_id)
    row.pop("pending_change", None)
    require(actor, "record.review", row, layer=layer)
    label = f"{ENTITIES[layer].label} {row['code']}"
    if row["review_status"] == "submitted":
        kind, current, proposed = "submitted", None, row
    else:
        waiting = proposals.pending(uow, layer, record_id) if \
            row["review_status"] == "approved" else None
        if waiting is None:
            raise Conflict(f"nothing waits for review on {label} ({row['review_status']})")
        kind, current = KINDS[waiting["action"]], row
        proposed = None if waiting["action"] == "delete" else \
            {**row, **redact(actor, layer, waiting["changes"])}
        row = {**row, "proposed_by": waiting["proposed_by"], "proposed_at":
               waiting["proposed_at"]}
    fields = [k for k in (proposed or current) if k not in BOOKKEEPING]
    changed = [k for k in fields if current is None or proposed is None
               or current.get(k) != proposed.get(k)]
    return {"layer": layer, "id": record_id, "code": row["code"], "label": label,
            "kind": kind, "version": row["version"], "current": current,
            "proposed": proposed, "fields": fields, "changed": changed,
            "by": row.get("proposed_by", row["recorded_by"]),
            "at": row.get("proposed_at", row["recorded_at"])}
