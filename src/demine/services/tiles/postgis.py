"""A tile made by PostGIS in one statement: ST_AsMVT over ST_AsMVTGeom, with what
``geopackage`` does in Python (simplify, clip, snap, thin dense point tiles) done in SQL."""

from __future__ import annotations

from sqlalchemy import Table, case, func, literal_column, or_, select

from demine.services.tiles.grid import BUFFER, EXTENT, PIXELS, tile_size
from demine.storage import dialect
from demine.storage.database import UnitOfWork


def tile(uow: UnitOfWork, rows, t: Table, *, z: int, x: int, y: int,
         thin_above: int | None) -> bytes:
    """Tile ``z/x/y`` of the rows ``rows`` selects from ``t`` (their properties, already
    filtered). Geometries are simplified by one pixel (in Web Mercator metres), keeping the
    small ones. With ``thin_above``, a tile of more features keeps the first (lowest id) of
    each pixel's square of the extent's grid, with ``represents``: how many it stands for.

    Planned without JIT (ST_AsMVTGeom's cost estimate set it off, and compiling took longer
    than the query: about a second at zoom 8-11), and fenced by OFFSET 0, so that the planner
    cannot test ``mvt_geom IS NOT NULL`` (clipping every candidate) before the cheaper
    permission predicate."""
    dialect.without_jit(uow.conn)
    rows = rows.offset(0)
    tile_geom = func.ST_AsMVTGeom(
        func.ST_Simplify(func.ST_Transform(t.c.geom, 3857), tile_size(z) / PIXELS, True),
        func.ST_TileEnvelope(z, x, y), EXTENT, BUFFER, True)
    found = rows.add_columns(t.c.id.label("mvt_fid"), tile_geom.label("mvt_geom"))
    if thin_above is None:
        candidates = found.subquery("mvt_rows")
        source = candidates
        where = [candidates.c.mvt_geom.is_not(None)]
    else:
        source, where = _thinned(found, thin_above, EXTENT // PIXELS), []
    # Features in id order, as on GeoPackage: the same rows give the same bytes (and ETag)
    # whatever plan PostgreSQL picks. The name is a layer name of ours, never user input.
    name = t.name
    if not name.isidentifier():
        raise ValueError(f"not a tile layer name: {name!r}")
    mvt = literal_column(f"ST_AsMVT(mvt_rows, '{name}', {int(EXTENT)}, 'mvt_geom', 'mvt_fid' "
                         f"ORDER BY mvt_rows.mvt_fid)")
    query = select(mvt).select_from(source).where(*where)
    return bytes(uow.conn.execute(query).scalar_one() or b"")


def _thinned(found, limit: int, cell: int):
    """The rows of ``found`` in the tile, thinned to one per grid cell when over ``limit``."""
    inner = found.subquery("candidates")
    names = [c.name for c in inner.c if c.name not in ("mvt_fid", "mvt_geom")]
    square = (func.floor(func.ST_XMin(inner.c.mvt_geom) / cell),
              func.floor(func.ST_YMin(inner.c.mvt_geom) / cell))
    ranked = select(*inner.c, func.count().over().label("mvt_total"),
                    func.count().over(partition_by=square).label("mvt_represents"),
                    func.row_number().over(partition_by=square, order_by=inner.c.mvt_fid)
                    .label("mvt_rank")).where(inner.c.mvt_geom.is_not(None)).subquery("ranked")
    many = ranked.c.mvt_total > limit
    return select(*(ranked.c[n] for n in names), ranked.c.mvt_fid, ranked.c.mvt_geom,
                  case((many, ranked.c.mvt_represents)).label("represents")).where(
        or_(~many, ranked.c.mvt_rank == 1)).subquery("mvt_rows")
