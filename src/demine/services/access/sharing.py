"""Need-to-know grants: sharing agreements between organisations and names on a record."""

from __future__ import annotations

from sqlalchemy import insert, select

from demine.domain.actors import Actor
from demine.domain.errors import Conflict, Invalid, Problem
from demine.services import audit
from demine.services.access.require import require
from demine.storage.database import UnitOfWork
from demine.storage.tables import organisations, record_grants, sharing_agreements, users


def _org_id(uow: UnitOfWork, code: str, record: str) -> int:
    found = uow.conn.execute(
        select(organisations.c.id).where(organisations.c.code == code)).scalar()
    if found is None:
        raise Invalid(Problem(record, "organisation", f"unknown organisation {code!r}"))
    return found


def add_sharing_agreement(uow: UnitOfWork, *, actor: Actor, owner: str, partner: str) -> None:
    """The owner's ``shared`` records become visible to the partner."""
    record = f"sharing agreement {owner}→{partner}"
    owner_id, partner_id = _org_id(uow, owner, record), _org_id(uow, partner, record)
    require(actor, "sharing.manage")
    if owner_id == partner_id:
        raise Invalid(Problem(record, "partner", "an organisation cannot share with itself"))
    if uow.conn.execute(select(sharing_agreements.c.id).where(
            sharing_agreements.c.owner_id == owner_id,
            sharing_agreements.c.partner_id == partner_id)).first():
        raise Conflict(f"{record} already exists")
    values = {"owner_id": owner_id, "partner_id": partner_id, "created_at": uow.now}
    new_id = uow.conn.execute(insert(sharing_agreements).returning(sharing_agreements.c.id),
                              values).scalar_one()
    audit.append(uow, actor=actor, action="sharing_agreements.create",
                 table="sharing_agreements", record_id=new_id, code=f"{owner}>{partner}",
                 after=values)


def grant_record(
    uow: UnitOfWork, *, actor: Actor, layer: str, record_id: int,
    organisation: str | None = None, user_email: str | None = None,
) -> None:
    """Name an organisation (restricted records) or a user (confidential) on a record."""
    require(actor, "record.grant", record_id, layer=layer, uow=uow)
    record = f"{layer} {record_id}"
    values = {"table_name": layer, "record_id": record_id, "organisation_id": None,
              "user_id": None}
    if organisation is not None:
        values["organisation_id"] = _org_id(uow, organisation, record)
    elif user_email is not None:
        values["user_id"] = uow.conn.execute(select(users.c.id).where(
            users.c.email == user_email.lower())).scalar()
        if values["user_id"] is None:
            raise Invalid(Problem(record, "user", f"unknown user {user_email!r}"))
    else:
        raise Invalid(Problem(record, "grantee", "name an organisation or a user"))
    new_id = uow.conn.execute(insert(record_grants).returning(record_grants.c.id),
                              values).scalar_one()
    audit.append(uow, actor=actor, action="record_grants.create", table="record_grants",
                 record_id=new_id, code=f"{layer}:{record_id}", after=values)
