"""Taskings: which organisations may work a hazard that is not theirs.

Seeing a hazard does not entitle an organisation to release its land or record finds on it:
besides the hazard's owner, only the authority, administrators and the organisations the
authority tasked on it may. A tasking is added and removed by the authority (or an
administrator), each with its audit entry. A tasking grants no reading: an organisation
records work only on a hazard it may also see (a sharing agreement or a name on it).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import delete, insert, select

from demine.domain.actors import Actor
from demine.domain.errors import Conflict, Invalid, NotFound, Problem
from demine.services import audit
from demine.services.access.permissions import require_visible
from demine.services.access.require import allowed, require
from demine.services.records.resolver import Resolver
from demine.storage import dialect
from demine.storage.database import UnitOfWork
from demine.storage.tables import hazards, organisations, taskings


def may_work_on(uow: UnitOfWork, actor: Actor, hazard_id: int, organisation_id: int) -> bool:
    """Whether records of ``organisation_id`` may be made on the hazard."""
    if allowed(actor, "hazard.work_untasked"):
        return True
    owner = uow.conn.execute(select(hazards.c.organisation_id).where(
        hazards.c.id == hazard_id)).scalar()
    if owner == organisation_id:
        return True
    return uow.conn.execute(select(taskings.c.id).where(
        taskings.c.hazard_id == hazard_id,
        taskings.c.organisation_id == organisation_id)).first() is not None


def problems(uow: UnitOfWork, actor: Actor, values: dict[str, Any], *, record: str,
             old: dict[str, Any] | None = None) -> list[Problem]:
    """A problem when a record names a hazard its organisation is not tasked on.

    Asked when the record is made and whenever its hazard or organisation changes: work
    recorded under a tasking stays editable after the tasking ends."""
    hazard_id, org = values.get("hazard_id"), values.get("organisation_id")
    if old is not None and (old.get("hazard_id"), old.get("organisation_id")) == (hazard_id, org):
        return []
    if hazard_id is None or org is None or may_work_on(uow, actor, hazard_id, org):
        return []
    return [Problem(record, "hazard_id", "the hazard belongs to another organisation and "
                    "yours is not tasked on it (the authority tasks organisations)")]


def task(uow: UnitOfWork, *, actor: Actor, hazard_id: int, organisation: str) -> dict[str, Any]:
    """Task an organisation on a hazard."""
    _may_task(uow, actor, hazard_id)
    org_id = _organisation(uow, hazard_id, organisation)
    if uow.conn.execute(select(taskings.c.id).where(
            taskings.c.hazard_id == hazard_id,
            taskings.c.organisation_id == org_id)).first():
        raise Conflict(f"{organisation} is already tasked on hazard {hazard_id}")
    values = {"hazard_id": hazard_id, "organisation_id": org_id, "created_at": uow.now,
              "created_by": actor.name, **dialect.new_id_values(uow.conn, "taskings")}
    tasking_id = uow.conn.execute(insert(taskings).returning(taskings.c.id),
                                  values).scalar_one()
    audit.append(uow, actor=actor, action="taskings.create", table="taskings",
                 record_id=tasking_id, code=f"{hazard_id}>{organisation}", after=values)
    return {"hazard_id": hazard_id, "organisation": organisation, "created_at": uow.now,
            "created_by": actor.name}


def untask(uow: UnitOfWork, *, actor: Actor, hazard_id: int, organisation: str) -> None:
    """End an organisation's tasking on a hazard (what it recorded stays)."""
    _may_task(uow, actor, hazard_id)
    org_id = _organisation(uow, hazard_id, organisation)
    row = uow.conn.execute(select(taskings).where(
        taskings.c.hazard_id == hazard_id,
        taskings.c.organisation_id == org_id)).mappings().first()
    if row is None:
        raise NotFound(f"{organisation} is not tasked on hazard {hazard_id}")
    uow.conn.execute(delete(taskings).where(taskings.c.id == row["id"]))
    audit.append(uow, actor=actor, action="taskings.delete", table="taskings",
                 record_id=row["id"], code=f"{hazard_id}>{organisation}", before=dict(row))


def list_taskings(uow: UnitOfWork, *, actor: Actor, hazard_id: int) -> list[dict[str, Any]]:
    """The organisations tasked on a hazard the actor may see."""
    require_visible(uow, actor, "hazards", hazard_id)
    rows = uow.conn.execute(
        select(organisations.c.code, taskings.c.created_at, taskings.c.created_by)
        .join(organisations, organisations.c.id == taskings.c.organisation_id)
        .where(taskings.c.hazard_id == hazard_id).order_by(organisations.c.code)).all()
    return [{"hazard_id": hazard_id, "organisation": r.code, "created_at": r.created_at,
             "created_by": r.created_by} for r in rows]


def _may_task(uow: UnitOfWork, actor: Actor, hazard_id: int) -> None:
    require(actor, "tasking.manage", hazard_id, layer="hazards", uow=uow)


def _organisation(uow: UnitOfWork, hazard_id: int, code: str) -> int:
    org_id = Resolver(uow).lookup("organisations", code)
    if org_id is None:
        raise Invalid(Problem(f"tasking on hazard {hazard_id}", "organisation",
                              f"unknown organisation {code!r}"))
    return org_id
