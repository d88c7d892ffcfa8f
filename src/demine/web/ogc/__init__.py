"""OGC API - Features at /ogc: Part 1 (core, GeoJSON, HTML, OpenAPI 3.0), Part 2 (CRS by
reference) and Part 4 (create, replace, update, delete), over the same services and the one
permission predicate as the JSON API."""

from __future__ import annotations

from fastapi import APIRouter

from demine.web.ogc import items, landing, transactions

router = APIRouter(include_in_schema=False)
for _part in (landing, items, transactions):
    router.include_router(_part.router, prefix="/ogc", tags=["ogc"])

__all__ = ["router"]
