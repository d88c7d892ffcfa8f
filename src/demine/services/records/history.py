"""Versioning: no update or delete destroys the previous version of a record."""

from __future__ import annotations

from typing import Any

from sqlalchemy import insert, select

from demine.domain.actors import Actor
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
