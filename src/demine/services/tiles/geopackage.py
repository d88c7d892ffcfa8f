"""A tile made on GeoPackage: the rows found through the RTree, encoded in Python (``mvt``) the
way PostGIS makes it (``postgis``)."""

from __future__ import annotations

import shapely
from sqlalchemy import Table

from demine.services.tiles.grid import EXTENT, PIXELS
from demine.services.tiles.mvt.encode import encode_layer, tile_geometries, tile_points
from demine.storage import dialect
from demine.storage.database import UnitOfWork


def tile(uow: UnitOfWork, rows, t: Table, *, z: int, x: int, y: int,
         thin_above: int | None) -> bytes:
    """Tile ``z/x/y`` of the rows ``rows`` selects from ``t`` (their properties, already
    filtered), b"" when empty. Geometries are simplified by one pixel, keeping the small
    ones. With ``thin_above`` (a point layer), a tile of more features keeps the first
    (lowest id) of each pixel's square, with ``represents``: how many it stands for."""
    if thin_above is not None:
        return _point_tile(uow, rows, t, z, x, y, thin_above)
    found = uow.conn.execute(rows.add_columns(dialect.raw_geometry(t.c.geom))
                             .order_by(t.c.id)).all()
    if not found:
        return b""
    *values, blobs = (list(column) for column in zip(*found, strict=True))
    geoms = tile_geometries(dialect.decode_geometries(uow.conn, blobs), z, x, y,
                            EXTENT / PIXELS)
    columns = dict(zip(rows.selected_columns.keys(), values, strict=True))
    return encode_layer(t.name, columns["id"], columns, geoms)


def _point_tile(uow: UnitOfWork, rows, t: Table, z: int, x: int, y: int, limit: int) -> bytes:
    """A point layer's tile: ids and coordinates of every point first, read from the blobs
    with numpy; properties then for the points kept (one per pixel in dense tiles: at zoom
    10 a national tile holds 74,000 finds, of which some 7,000 are kept)."""
    found = uow.conn.execute(rows.with_only_columns(t.c.id, dialect.raw_geometry(t.c.geom))
                             .order_by(t.c.id)).all()
    if not found:
        return b""
    ids, blobs = zip(*found, strict=True)
    kept, coords, represents = tile_points(
        dialect.point_coordinates(uow.conn, list(blobs)), z, x, y, limit=limit,
        cell=EXTENT // PIXELS)
    if not len(kept):
        return b""
    wanted = [ids[i] for i in kept.tolist()]
    values = {}
    for start in range(0, len(wanted), 10_000):  # (SQLite's limit on bound values)
        chunk = wanted[start:start + 10_000]
        values.update((row[0], row) for row in uow.conn.execute(rows.where(
            t.c.id.in_(chunk))))
    columns = {name: [values[i][j] for i in wanted]
               for j, name in enumerate(rows.selected_columns.keys())}
    if represents is not None:
        columns["represents"] = represents.tolist()
    return encode_layer(t.name, wanted, columns, list(shapely.points(coords)))
