"""Resolving references (ids or codes) and locating records in the gazetteer."""

from __future__ import annotations

from typing import Any

import shapely
from shapely.geometry.base import BaseGeometry
from sqlalchemy import func, select

from demine.domain.actors import Actor
from demine.domain.entities import REGISTRY, Entity
from demine.domain.errors import Problem
from demine.domain.geometry_rules import Extent
from demine.services.access.permissions import visible
from demine.storage.database import UnitOfWork
from demine.storage.tables import admin_areas, table


class Resolver:
    """Looks up referenced records once per unit of work and remembers the answers."""

    def __init__(self, uow: UnitOfWork, actor: Actor | None = None):
        self.uow = uow
        self.actor = actor
        self._ids: dict[str, dict[Any, int | str | None]] = {}
        self._gazetteer = None
        self._extent: Extent | None | bool = False

    def resolve(self, entity: Entity, values: dict[str, Any], *, record: str) -> list[Problem]:
        """Replace codes with ids in ``values``; report references that do not exist."""
        problems = []
        for f in entity.ref_fields:
            value = values.get(f.name)
            if value is None:
                continue
            found = self.lookup(f.ref, value)
            if found is None:
                noun = REGISTRY[f.ref].label
                problems.append(Problem(record, f.name, f"unknown {noun} {value!r}"))
            else:
                values[f.name] = found
        return problems

    def lookup(self, target: str, value: int | str) -> int | str | None:
        """The id of the ``target`` record with this id or code (eo_models: the code)."""
        memo = self._ids.setdefault(target, {})
        if value not in memo:
            memo[value] = self._query(target, value)
        return memo[value]

    def remember(self, target: str, code: str, record_id: int) -> None:
        """Make a record created in this unit of work resolvable by its code."""
        self._ids.setdefault(target, {})[code] = record_id
        self._ids[target][record_id] = record_id
        if target == "admin_areas":  # the gazetteer grew: recompute extent and lookup
            self._gazetteer, self._extent = None, False

    def _query(self, target: str, value: int | str):
        t = table(target)
        if target == "eo_models":
            row = self.uow.conn.execute(
                select(t.c.code).where(func.lower(t.c.code) == str(value).lower())
            ).first()
            return row.code if row else None
        if isinstance(value, int) and not 0 < value < 2**31:
            return None  # no such id can exist; never hand the database an overflowing integer
        column = t.c.id if isinstance(value, int) else t.c.code
        query = select(t.c.id).where(column == value)
        if self.actor is not None:  # a record one may not see does not exist for one
            query = query.where(visible(self.actor, t))
        row = self.uow.conn.execute(query).first()
        return row.id if row else None

    def extent(self) -> Extent | None:
        """The gazetteer's extent with the configured margin, or None without a gazetteer."""
        if self._extent is False:
            areas = self._areas()
            if not areas[0]:
                self._extent = None
            else:
                margin = self.uow.settings.extent_margin_deg
                x0, y0, x1, y1 = shapely.total_bounds(areas[1])
                self._extent = Extent(x0 - margin, y0 - margin, x1 + margin, y1 + margin)
        return self._extent

    def admin_area_of(self, geom: BaseGeometry) -> int | None:
        """The deepest admin area containing the geometry's representative point."""
        ids, geoms, levels, tree = self._areas()
        if not ids:
            return None
        point = geom.representative_point()
        best = None
        for i in tree.query(point, predicate="intersects"):
            if best is None or levels[i] > levels[best]:
                best = i
        return ids[best] if best is not None else None

    def _areas(self):
        if self._gazetteer is None:
            rows = self.uow.conn.execute(
                select(admin_areas.c.id, admin_areas.c.level, admin_areas.c.geom)
            ).all()
            geoms = [r.geom for r in rows]
            self._gazetteer = (
                [r.id for r in rows],
                geoms,
                [r.level for r in rows],
                shapely.STRtree(geoms),
            )
        return self._gazetteer
