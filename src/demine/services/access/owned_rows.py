"""Access rows that belong to a record: they go when the record goes.

A grant, tasking or sharing agreement left behind would name whatever record or organisation
came next under the same id; ids are never reused (migration 0008), and these rows are
deleted with their record in the same transaction as well.
"""

from __future__ import annotations

from sqlalchemy import delete, or_

from demine.storage.database import UnitOfWork
from demine.storage.tables import pending_changes, record_grants, sharing_agreements, taskings


def forget_record(uow: UnitOfWork, layer: str, record_id: int) -> None:
    """Delete the grants, taskings, agreements and waiting changes of a deleted record."""
    conn = uow.conn
    conn.execute(delete(record_grants).where(record_grants.c.table_name == layer,
                                             record_grants.c.record_id == record_id))
    conn.execute(delete(pending_changes).where(pending_changes.c.table_name == layer,
                                               pending_changes.c.record_id == record_id))
    if layer == "hazards":
        conn.execute(delete(taskings).where(taskings.c.hazard_id == record_id))
    if layer == "organisations":
        conn.execute(delete(record_grants).where(record_grants.c.organisation_id == record_id))
        conn.execute(delete(taskings).where(taskings.c.organisation_id == record_id))
        conn.execute(delete(sharing_agreements).where(or_(
            sharing_agreements.c.owner_id == record_id,
            sharing_agreements.c.partner_id == record_id)))
