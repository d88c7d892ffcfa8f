"""Is the store reachable and initialised?"""

from __future__ import annotations

from sqlalchemy import func, select

from demine.storage.database import Database
from demine.storage.tables import hazards


def health(database: Database) -> dict:
    """Status of the store for /healthz."""
    try:
        with database.read() as uow:
            count = uow.conn.execute(select(func.count()).select_from(hazards)).scalar_one()
    except Exception as exc:  # noqa: BLE001 - any failure means unhealthy; no details leak
        return {"status": "unavailable", "reason": type(exc).__name__}
    return {"status": "ok", "backend": "geopackage" if database.is_sqlite else "postgis",
            "hazards": count}
