"""Reference data: organisations, teams, the gazetteer (admin areas and places), EO models."""

from __future__ import annotations

from typing import Any

from sqlalchemy import insert, select

from demine.domain.actors import Actor
from demine.domain.eo_catalogue import EO_MODELS
from demine.domain.errors import Conflict, Invalid, Problem
from demine.domain.geometry_rules import as_multipolygon, check_geometry
from demine.domain.vocab import OrganisationKind, TeamMethod
from demine.services import audit
from demine.storage.database import UnitOfWork
from demine.storage.tables import admin_areas, eo_models, organisations, teams


def _exists(uow: UnitOfWork, t, code: str) -> bool:
    return uow.conn.execute(select(t.c.id).where(t.c.code == code)).first() is not None


def add_organisation(
    uow: UnitOfWork, *, actor: Actor, code: str, name: str, kind: str, country: str | None = None
) -> dict[str, Any]:
    """Register an organisation (authority, operator, NGO, military unit, commercial, donor)."""
    record = f"organisation {code}"
    if kind not in {k.value for k in OrganisationKind}:
        known = ", ".join(k.value for k in OrganisationKind)
        raise Invalid(Problem(record, "kind", f"unknown code {kind!r} (expected one of: {known})"))
    if _exists(uow, organisations, code):
        raise Conflict(f"{record} already exists")
    values = {"code": code, "name": name, "kind": kind, "country": country,
              "created_at": uow.now}
    new_id = uow.conn.execute(insert(organisations).values(**values)
                              .returning(organisations.c.id)).scalar_one()
    audit.append(uow, actor=actor, action="organisations.create", table="organisations",
                 record_id=new_id, code=code, after=values)
    return {"id": new_id, **values}


def list_organisations(uow: UnitOfWork) -> list[dict[str, Any]]:
    """All organisations, by code."""
    rows = uow.conn.execute(select(organisations).order_by(organisations.c.code)).mappings()
    return [dict(r) for r in rows]


def organisation_codes(uow: UnitOfWork) -> dict[int, str]:
    """Every organisation's id → code (public reference data)."""
    return dict(uow.conn.execute(select(organisations.c.id, organisations.c.code)).all())


def add_team(
    uow: UnitOfWork, *, actor: Actor, code: str, name: str, organisation: str, method: str,
    size: int = 8,
) -> dict[str, Any]:
    """Register a team of an organisation with its method (manual, mechanical, MDD, ...)."""
    record = f"team {code}"
    if method not in {m.value for m in TeamMethod}:
        raise Invalid(Problem(record, "method", f"unknown code {method!r}"))
    org = uow.conn.execute(select(organisations.c.id).where(organisations.c.code == organisation))
    org_id = org.scalar()
    if org_id is None:
        raise Invalid(Problem(record, "organisation", f"unknown organisation {organisation!r}"))
    if _exists(uow, teams, code):
        raise Conflict(f"{record} already exists")
    values = {"code": code, "name": name, "organisation_id": org_id, "method": method,
              "size": size}
    new_id = uow.conn.execute(insert(teams).values(**values).returning(teams.c.id)).scalar_one()
    audit.append(uow, actor=actor, action="teams.create", table="teams", record_id=new_id,
                 code=code, after=values)
    return {"id": new_id, **values}


def add_admin_area(
    uow: UnitOfWork, *, actor: Actor, code: str, name: str, level: int, geometry,
    parent: str | None = None,
) -> dict[str, Any]:
    """Add an administrative area (admin0 country … admin3) to the gazetteer."""
    record = f"admin area {code}"
    problems = check_geometry(geometry, record=record, expected=("Polygon", "MultiPolygon"),
                              max_vertices=uow.settings.max_vertices)
    if not 0 <= level <= 3:
        problems.append(Problem(record, "level", f"{level} is not an admin level 0-3"))
    parent_id = None
    if parent is not None:
        parent_id = uow.conn.execute(
            select(admin_areas.c.id).where(admin_areas.c.code == parent)).scalar()
        if parent_id is None:
            problems.append(Problem(record, "parent", f"unknown admin area {parent!r}"))
    if problems:
        raise Invalid(problems)
    if _exists(uow, admin_areas, code):
        raise Conflict(f"{record} already exists")
    values = {"code": code, "name": name, "level": level, "parent_id": parent_id,
              "geom": as_multipolygon(geometry)}
    new_id = uow.conn.execute(insert(admin_areas).values(**values)
                              .returning(admin_areas.c.id)).scalar_one()
    audit.append(uow, actor=actor, action="admin_areas.create", table="admin_areas",
                 record_id=new_id, code=code, after=values)
    return {"id": new_id, **values}


def seed_eo_models(uow: UnitOfWork, *, actor: Actor) -> int:
    """Load the reference catalogue of EO models (idempotent); returns how many were added."""
    known = set(uow.conn.execute(select(eo_models.c.code)).scalars())
    rows = [{"code": m.code, "category": m.category.value, "origin": m.origin,
             "description": m.description} for m in EO_MODELS if m.code not in known]
    if rows:
        uow.conn.execute(insert(eo_models), rows)
        audit.append(uow, actor=actor, action="eo_models.seed", table="eo_models",
                     detail=f"{len(rows)} models")
    return len(rows)
