"""Reading a layer for the checks: one query, geometries decoded in one vectorised call."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import numpy as np
import shapely
from sqlalchemy import func, select

from demine.domain.actors import Actor
from demine.services.access.permissions import visible
from demine.storage import dialect
from demine.storage.database import UnitOfWork
from demine.storage.tables import activities, organisations, table


@dataclass(eq=False)
class Features:
    """The visible rows of one layer as arrays: ids, codes, organisation codes, geometries."""

    layer: str
    ids: np.ndarray
    codes: np.ndarray
    orgs: np.ndarray
    geoms: np.ndarray
    columns: dict[str, np.ndarray]

    def __len__(self) -> int:
        return len(self.ids)

    @cached_property
    def valid(self) -> np.ndarray:
        """Whether each geometry is valid (False where missing)."""
        return shapely.is_valid(self.geoms)

    @cached_property
    def sound(self) -> np.ndarray:
        """Geometries safe for overlay: invalid ones repaired (they are reported apart)."""
        bad = ~self.valid & ~shapely.is_missing(self.geoms)
        if not bad.any():
            return self.geoms
        fixed = self.geoms.copy()
        fixed[bad] = shapely.make_valid(self.geoms[bad])
        return fixed


def load(uow: UnitOfWork, actor: Actor, layer: str, *columns: str, where=None) -> Features:
    """The rows of ``layer`` that ``actor`` may see (and ``where`` keeps), with the named
    extra columns."""
    t = table(layer)
    code, source = _code_of(t)
    query = (
        select(t.c.id, code.label("code"), organisations.c.code.label("org"),
               dialect.wkb_geometry(uow.conn, t.c.geom).label("geom"),
               *[t.c[c] for c in columns])
        .select_from(source.outerjoin(organisations,
                                      organisations.c.id == t.c.organisation_id))
        .where(visible(actor, t), *([] if where is None else [where]))
        .order_by(t.c.id)
    )
    rows = uow.conn.execute(query).all()
    values = list(zip(*rows, strict=True)) if rows else [()] * (4 + len(columns))
    return Features(
        layer=layer,
        ids=np.asarray(values[0], dtype=np.int64),
        codes=np.asarray(values[1], dtype=object),
        orgs=np.asarray(values[2], dtype=object),
        geoms=dialect.decode_leniently(uow.conn, values[3]),
        columns={c: np.asarray(v) for c, v in zip(columns, values[4:], strict=True)},
    )


def combine(parts: list[Features]) -> Features:
    """One layer's rows from several reads, each row once, in id order."""
    ids = np.concatenate([p.ids for p in parts])
    _, first = np.unique(ids, return_index=True)

    def joined(arrays):
        """The arrays end to end, each row once."""
        return np.concatenate(arrays)[first]

    return Features(
        layer=parts[0].layer, ids=ids[first], codes=joined([p.codes for p in parts]),
        orgs=joined([p.orgs for p in parts]), geoms=joined([p.geoms for p in parts]),
        columns={c: joined([p.columns[c] for p in parts]) for c in parts[0].columns},
    )


def count(uow: UnitOfWork, actor: Actor, layer: str) -> int:
    """How many rows of ``layer`` the actor may see."""
    t = table(layer)
    return uow.conn.execute(select(func.count()).select_from(t).where(visible(actor, t))).scalar()


def _code_of(t):
    """The column naming a record; land releases are named by their activity."""
    if "code" in t.c:
        return t.c.code, t
    return activities.c.code, t.outerjoin(activities, activities.c.id == t.c.activity_id)
