"""Which tiles the changes after one head of the audit chain touched (read from
``tile_changes``, which database triggers keep: migration 0007).

Every insert, update (old and new row) or delete on a tile layer logs the row's bounds, and a
change to grants or sharing agreements logs every layer ('*'), whatever wrote it; the next
audit entry stamps the rows with its seq. A tile holds the rows whose bounds meet the tile
grown by the MVT buffer (``service._make_tile``), so a change can have altered a tile only if
one of its logged bounds meets that area. A cache valid at head ``since`` that moves to
``head`` drops the tiles ``between(uow, since, head)`` touches and keeps the rest.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import and_, delete, func, insert, or_, select

from demine.services.tiles.grid import BUFFER, EXTENT, Bounds, tile_range
from demine.storage.database import UnitOfWork
from demine.storage.tables import audit_log, tile_changes

RETAINED = 100_000  # audit entries whose change rows the stamping trigger keeps (0007)
# change rows read one by one; more (a bulk load, an import) drop every cached tile
MAX_CHANGE_ROWS = 2_000
MARGIN = (BUFFER + 1) / EXTENT  # the buffer of a tile, and a cell for rounding, in tiles


@dataclass
class Changes:
    """What changed between two heads: everything, or per layer the bounds touched (None:
    the whole layer)."""

    everything: bool = False
    layers: dict[str, list[Bounds] | None] = field(default_factory=dict)
    head_hash: str | None = None  # the audit entry hash at the head moved to
    _ranges: dict[tuple[str, int], list[tuple[int, int, int, int]]] = field(
        default_factory=dict, repr=False)

    def touches(self, layer: str, z: int, x: int, y: int) -> bool:
        """Whether tile z/x/y of ``layer`` may hold something that changed."""
        if self.everything:
            return True
        if layer not in self.layers:
            return False
        if self.layers[layer] is None:
            return True
        return any(x0 <= x <= x1 and y0 <= y <= y1 for x0, x1, y0, y1 in self.ranges(layer, z))

    def ranges(self, layer: str, z: int) -> list[tuple[int, int, int, int]]:
        """(x0, x1, y0, y1): the tiles of zoom ``z`` each logged bounds of ``layer`` meets."""
        key = (layer, z)
        if key not in self._ranges:
            self._ranges[key] = [tile_range(b, z, MARGIN) for b in self.layers.get(layer) or ()]
        return self._ranges[key]


EVERYTHING = Changes(everything=True)


def between(uow: UnitOfWork, since: int | None, head: int,
            since_hash: str | None = None) -> Changes:
    """The changes stamped after ``since`` up to ``head`` (and any not yet stamped: committed
    by a transaction that appended no audit entry after them). With ``since_hash`` (a cache
    kept in a file, from another run perhaps), everything changed unless the chain still
    holds that entry at ``since``: the file may be of another store or a restored backup."""
    changes = _between(uow, since, head, since_hash)
    changes.head_hash = _hash_at(uow, head)
    return changes


def _between(uow: UnitOfWork, since: int | None, head: int, since_hash: str | None) -> Changes:
    if since is None or since < 0 or head - since > RETAINED:
        return Changes(everything=True)
    if since_hash is not None and _hash_at(uow, since) != since_hash:
        return Changes(everything=True)
    t = tile_changes
    rows = uow.conn.execute(
        select(t.c.layer, t.c.minx, t.c.miny, t.c.maxx, t.c.maxy)
        .where(or_(and_(t.c.head > since, t.c.head <= head), t.c.head.is_(None)))
        .limit(MAX_CHANGE_ROWS + 1)).all()
    newest = uow.conn.execute(select(func.max(audit_log.c.seq))).scalar() or 0
    if len(rows) > MAX_CHANGE_ROWS or newest - since > RETAINED:  # too many, or some already pruned
        return Changes(everything=True)
    changes = Changes()
    for layer, *bounds in rows:
        if layer == "*":
            return Changes(everything=True)
        if bounds[0] is None:
            changes.layers[layer] = None
        elif changes.layers.get(layer, []) is not None:
            changes.layers.setdefault(layer, []).append(tuple(bounds))
    return changes


def _hash_at(uow: UnitOfWork, seq: int) -> str:
    """The hash of the audit entry ``seq`` ('' for none: an empty chain)."""
    return uow.conn.execute(select(audit_log.c.entry_hash).where(
        audit_log.c.seq == seq)).scalar() or ""


def whole_layer(uow: UnitOfWork, layer: str) -> None:
    """After a bulk write to ``layer``: its unstamped change rows (one per row written) become
    one row for the whole layer, which any reader would have made of them anyway."""
    t = tile_changes
    if uow.conn.execute(delete(t).where(t.c.layer == layer, t.c.head.is_(None))).rowcount:
        uow.conn.execute(insert(t).values(layer=layer))
