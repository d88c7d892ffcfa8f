"""The review workflow: operator data enters as submitted; the authority approves or rejects."""

from __future__ import annotations

from typing import Any

from sqlalchemy import update

from demine.domain.actors import Actor
from demine.domain.entities import entity
from demine.domain.errors import Conflict, Invalid, PreconditionFailed, Problem
from demine.services import audit
from demine.services.access.permissions import redact
from demine.services.access.require import require
from demine.services.records import history, proposals
from demine.services.records.crud import apply_proposal, get_record
from demine.services.records.rules import hooks_for
from demine.storage.database import UnitOfWork
from demine.storage.tables import table

DECISIONS = {"approve": "approved", "reject": "rejected"}


def review_record(
    uow: UnitOfWork, *, actor: Actor, layer: str, record_id: int, decision: str,
    reason: str | None = None, expected_version: int | None = None,
) -> dict[str, Any]:
    """Approve or reject a submitted record, or the change proposed to an approved one (a
    rejection needs a reason); kept in history."""
    ent = entity(layer)
    if not ent.versioned:
        raise Invalid(Problem(layer, "layer", "reference data is not reviewed"))
    if decision not in DECISIONS:
        raise Invalid(Problem(f"{ent.label} {record_id}", "decision",
                              f"unknown decision {decision!r} (approve or reject)"))
    if decision == "reject" and not (reason or "").strip():
        raise Invalid(Problem(f"{ent.label} {record_id}", "reason", "a rejection needs a reason"))
    old = require(actor, "record.review", record_id, layer=layer, uow=uow)
    t = table(layer)
    if expected_version is not None and old["version"] != expected_version:
        raise PreconditionFailed(f"{ent.label} {old['code']} is at version {old['version']}")
    waiting = proposals.pending(uow, layer, record_id) if old["review_status"] == "approved" \
        else None
    if waiting is not None:
        return _decide_proposal(uow, actor, layer, old, waiting, decision, reason)
    if old["review_status"] != "submitted":
        raise Conflict(f"{ent.label} {old['code']} is {old['review_status']}, not submitted")
    history.archive(uow, layer, old, actor=actor)
    values = {"review_status": DECISIONS[decision], "review_note": reason,
              "version": old["version"] + 1, "recorded_at": uow.now, "recorded_by": actor.name}
    uow.conn.execute(update(t).where(t.c.id == record_id).values(**values))
    row = {**old, **values}
    effects: dict[str, Any] = {}
    hooks_for(layer).after_review(uow, actor, row, effects)
    detail = audit.canonical({"reason": reason, **effects}) if effects else reason
    audit.append(uow, actor=actor, action=f"{layer}.{decision}", table=layer,
                 record_id=record_id, code=old["code"], before=old, after=row, detail=detail)
    return redact(actor, layer, row)


def _decide_proposal(uow: UnitOfWork, actor: Actor, layer: str, old: dict[str, Any],
                     waiting: dict[str, Any], decision: str,
                     reason: str | None) -> dict[str, Any]:
    """Apply (approve) or drop (reject) the change proposed to an approved record."""
    detail = {"change": waiting["action"], "proposed_by": waiting["proposed_by"],
              "reason": reason}
    if decision == "reject":
        proposals.forget(uow, layer, old["id"])
        audit.append(uow, actor=actor, action=f"{layer}.reject", table=layer,
                     record_id=old["id"], code=old["code"], before=old,
                     detail=audit.canonical(detail))
        return get_record(uow, actor=actor, layer=layer, record_id=old["id"])
    row = apply_proposal(uow, actor=actor, layer=layer, old=old, proposal=waiting)
    audit.append(uow, actor=actor, action=f"{layer}.approve", table=layer, record_id=old["id"],
                 code=old["code"], before=old, after=row, detail=audit.canonical(detail))
    return redact(actor, layer, row if row is not None else old)
