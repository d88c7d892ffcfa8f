"""Statistics and the audit log over HTTP, through the same services and predicate."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query

from demine.services import audit as audit_service
from demine.services.stats import land_release_stats
from demine.web.deps import ActorDep, DatabaseDep

router = APIRouter(prefix="/api/v1")


@router.get("/stats", tags=["stats"])
def stats(actor: ActorDep, database: DatabaseDep,
          by: Literal["region", "org", "year", "month"] | None = None,
          as_of: dt.date | None = None) -> dict[str, Any]:
    """Land-release statistics of the records the caller may see."""
    with database.read() as uow:
        return land_release_stats(uow, actor=actor, by=by, as_of=as_of)


@router.get("/audit", tags=["audit"])
def audit(actor: ActorDep, database: DatabaseDep,
          offset: Annotated[int, Query(ge=0)] = 0,
          limit: Annotated[int, Query(ge=1, le=1000)] = 100) -> dict[str, Any]:
    """Audit entries (authority and administrators)."""
    with database.read() as uow:
        entries = list(audit_service.entries(uow, actor=actor))
    return {"items": entries[offset: offset + limit], "total": len(entries)}
