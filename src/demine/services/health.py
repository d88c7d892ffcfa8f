"""Is the store reachable and initialised?"""

from __future__ import annotations

from sqlalchemy import select

from demine.storage.database import Database
from demine.storage.tables import hazards


def health(database: Database) -> dict:
    """Status of the store for /healthz."""
    try:
        with database.read() as uow:  # reachable and initialised; counts nothing (need-to-know)
            uow.conn.execute(select(hazards.c.id).limit(1)).all()
    except Exception as exc:  # noqa: BLE001 - any failure means unhealthy; no details leak
        return {"status": "unavailable", "reason": type(exc).__name__}
    return {"status": "ok", "backend": database.backend}
