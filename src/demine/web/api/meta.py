"""Statistics, data quality findings and the audit log over HTTP, through the same services
and predicate."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query

from demine.services import audit as audit_service
from demine.services.checks import CHECKS, ERROR, WARNING, run_checks
from demine.services.reads.stats import land_release_stats
from demine.services.records import review_queue
from demine.web.deps import ActorDep, DatabaseDep

router = APIRouter(prefix="/api/v1")


@router.get("/stats", tags=["stats"])
def stats(actor: ActorDep, database: DatabaseDep,
          by: Literal["region", "org", "year", "month"] | None = None,
          as_of: dt.date | None = None) -> dict[str, Any]:
    """Land-release statistics of the records the caller may see."""
    with database.read() as uow:
        return land_release_stats(uow, actor=actor, by=by, as_of=as_of)


@router.get("/checks", tags=["checks"])
def checks(actor: ActorDep, database: DatabaseDep,
           check: Annotated[list[Literal[CHECKS]] | None, Query()] = None,
           layer: str | None = None,
           severity: Literal[ERROR, WARNING] | None = None,
           offset: Annotated[int, Query(ge=0)] = 0,
           limit: Annotated[int, Query(ge=1, le=10_000)] = 1000) -> dict[str, Any]:
    """Data quality findings (`demine check`: invalid geometry, ledger, overlaps and
    duplicates, slivers, gaps between a hazard and its releases, …) over the records the
    caller may see. ``counts`` and ``checked`` cover every check; ``findings`` (errors first)
    are those the filters keep, a page at a time."""
    with database.read() as uow:
        report = run_checks(uow, actor=actor)
    return report.page(checks=check, layer=layer, severity=severity, offset=offset,
                       limit=limit)


@router.get("/review-queue", tags=["review"])
def review(actor: ActorDep, database: DatabaseDep, layer: str | None = None,
           offset: Annotated[int, Query(ge=0)] = 0,
           limit: Annotated[int, Query(ge=1, le=review_queue.MAX_LIMIT)] = 100
           ) -> dict[str, Any]:
    """What waits for the caller's decision, oldest first: records submitted and changes
    proposed to approved records that the caller may see and review (the authority and
    administrators; an empty queue for others). Decide with ``POST /{layer}/{id}/review``."""
    with database.read() as uow:
        return review_queue.waiting(uow, actor=actor, layer=layer, offset=offset, limit=limit)


@router.get("/audit", tags=["audit"])
def audit(actor: ActorDep, database: DatabaseDep,
          offset: Annotated[int, Query(ge=0)] = 0,
          limit: Annotated[int, Query(ge=1, le=1000)] = 100) -> dict[str, Any]:
    """Audit entries (authority and administrators)."""
    with database.read() as uow:
        items = list(audit_service.entries(uow, actor=actor, offset=offset, limit=limit))
        total = audit_service.count(uow)
    return {"items": items, "total": total}
