"""Vector tiles and TileJSON per layer, filtered by the one permission predicate in SQL.

A tile is ``/tiles/{layer}/{z}/{x}/{y}.pbf`` on the Web Mercator XYZ grid. Its one MVT layer is
named after the collection and carries the same properties on both stores: id, code, status and
type fields, sensitivity and review status, never personal data. Geometries are simplified by
one pixel of a 256-pixel tile at that zoom (keeping shapes it would collapse, so small hazards
stay visible), clipped to the tile plus a buffer of 64/4096 and snapped to the 4096 grid; only
features smaller than one cell of that grid vanish. PostGIS makes the
tile in one SQL statement (see ``dialect.database_tile``); GeoPackage rows, found through the
RTree, are encoded in Python (``mvt.encode``). A tile with no feature is empty (b"").
"""

from __future__ import annotations

import hashlib
import math
from dataclasses import dataclass
from typing import Any

import shapely
from sqlalchemy import Boolean, Float, Integer, select

from demine.domain.actors import Actor
from demine.domain.errors import NotFound
from demine.services import audit
from demine.services.access.permissions import named_on_records, scope_key, visible
from demine.services.reads.features import without_jit
from demine.services.tiles import changes as tile_changes
from demine.services.tiles.cache import Tile, TileCache
from demine.services.tiles.mvt.encode import (
    BUFFER,
    EXTENT,
    HALF_WORLD,
    MAX_LATITUDE,
    encode_layer,
    thin,
    tile_geometries,
    tile_points,
)
from demine.storage import dialect
from demine.storage.database import UnitOfWork
from demine.storage.tables import table

MAX_ZOOM = 22
PIXELS = 256  # simplification tolerance: one pixel of a tile drawn this many pixels wide
MEDIA_TYPE = "application/vnd.mapbox-vector-tile"
_RECORD = ("sensitivity", "review_status")


@dataclass(frozen=True)
class TileLayer:
    """What one layer's tiles carry."""

    name: str
    properties: tuple[str, ...]
    description: str
    minzoom: int = 0


TILE_LAYERS: dict[str, TileLayer] = {layer.name: layer for layer in (
    TileLayer("hazards", ("id", "code", "name", "hazard_type", "status", *_RECORD),
              "Hazardous areas: suspected (SHA) and confirmed (CHA), by status"),
    TileLayer("activities", ("id", "code", "kind", "status", "release_kind", *_RECORD),
              "Land release activities: NTS, TS, clearance, BAC, EOD spot tasks, PCI"),
    TileLayer("land_releases", ("id", "release_kind", "area_m2", *_RECORD),
              "Land released: cancelled, reduced or cleared"),
    # Up to a million finds nationally: at zoom 8 a tile of the region demo already holds
    # 49,000 points (1.4 MB), unreadable on a map and slow to make; zoom 10 holds ~250 kB.
    TileLayer("eo_finds", ("id", "code", "category", "model_code", "disposal", *_RECORD),
              "Explosive ordnance found, by category", minzoom=10),
    TileLayer("accidents", ("id", "code", "kind", *_RECORD),
              "Accidents and incidents (no casualty data)"),
    TileLayer("eore_sessions", ("id", "code", "audience", *_RECORD),
              "Explosive ordnance risk education sessions"),
    TileLayer("admin_areas", ("id", "code", "name", "level"), "Administrative areas"),
    TileLayer("places", ("id", "code", "name", "kind"), "Places"),
    TileLayer("terrain_lines", ("id", "code", "kind"), "Roads, rivers and front lines"),
)}


EMPTY = Tile(b"", None)


def get_tile(uow: UnitOfWork, *, actor: Actor, layer: str, z: int, x: int, y: int,
             cache: TileCache | None = None) -> Tile:
    """The tile ``z/x/y`` of ``layer`` holding what ``actor`` may see (from ``cache`` when no
    change since it was made touched it; see ``cache``)."""
    spec = tile_layer(layer)
    _check_tile(z, x, y)
    if z < spec.minzoom:
        return EMPTY
    scope = scope_key(actor, named_on_records(uow, actor))
    if cache is None or not cache.enabled:
        return _make_tile(uow, actor, spec, z, x, y, scope)
    head = audit.head(uow)
    key = (layer, z, x, y, scope)
    cache.remember(scope, actor)
    def changes(since: int | None, since_hash: str | None) -> tile_changes.Changes:
        return tile_changes.between(uow, since, head, since_hash)

    found = cache.get(head, key, changes)
    if found is None:
        with cache.making(head, key) as first:
            if not first:  # another request or the reseeder was making it: made meanwhile?
                found = cache.get(head, key, changes)
            if found is None:
                found = _make_tile(uow, actor, spec, z, x, y, scope)
                cache.put(head, key, found)
    return found


def _make_tile(uow: UnitOfWork, actor: Actor, spec: TileLayer, z: int, x: int, y: int,
               scope: str) -> Tile:
    layer = spec.name
    t = table(layer)
    near = tile_bounds(z, x, y, margin=BUFFER / EXTENT)
    rows = select(*(t.c[p] for p in spec.properties)).where(
        dialect.not_for_indexing(uow.conn, visible(actor, t)),
        dialect.spatial_clause(uow.conn, t, near))
    if not uow.is_sqlite:
        rows = _postgis_tile_rows(uow, rows)
    limit = uow.settings.tile_point_limit if _points(t) else None
    content = dialect.database_tile(
        uow.conn, rows, t.c.geom, t.c.id, name=layer, z=z, x=x, y=y, extent=EXTENT,
        buffer=BUFFER, tolerance=2 * HALF_WORLD / 2**z / PIXELS, thin_above=limit,
        cell=EXTENT // PIXELS)
    if content is None and limit is not None:
        content = _point_tile(uow, spec, t, rows, z, x, y, limit)
    if content is None:
        found = uow.conn.execute(rows.add_columns(dialect.raw_geometry(t.c.geom))
                                 .order_by(t.c.id)).all()
        if not found:
            return EMPTY
        *values, blobs = (list(column) for column in zip(*found, strict=True))
        geoms = tile_geometries(dialect.decode_geometries(uow.conn, blobs), z, x, y,
                                EXTENT / PIXELS)
        columns = dict(zip(spec.properties, values, strict=True))
        if limit is not None:
            kept, represents = thin(geoms, limit=limit, cell=EXTENT // PIXELS)
            if represents is not None:
                columns = {name: [column[i] for i in kept] for name, column in columns.items()}
                columns["represents"] = [represents[i] for i in kept]
                geoms = [geoms[i] for i in kept]
        content = encode_layer(layer, columns["id"], columns, geoms)
    return Tile(content, _etag(scope, content)) if content else EMPTY


def _point_tile(uow: UnitOfWork, spec: TileLayer, t, rows, z: int, x: int, y: int,
                limit: int) -> bytes:
    """A point layer's tile on GeoPackage: ids and coordinates of every point first, read
    from the blobs with numpy; properties then for the points kept (one per pixel in dense
    tiles: at zoom 10 a national tile holds 74,000 finds, of which some 7,000 are kept)."""
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
    columns = {name: [values[i][j] for i in wanted] for j, name in enumerate(spec.properties)}
    if represents is not None:
        columns["represents"] = represents.tolist()
    return encode_layer(spec.name, wanted, columns, list(shapely.points(coords)))


def _postgis_tile_rows(uow: UnitOfWork, rows):
    """The tile's rows planned for PostgreSQL: without JIT (ST_AsMVTGeom's cost estimate
    set it off, and compiling took longer than the query: about a second at zoom 8-11), and
    fenced by OFFSET 0, so that the planner cannot test ``mvt_geom IS NOT NULL`` (clipping
    every candidate) before the cheaper permission predicate."""
    without_jit(uow)
    return rows.offset(0)


def tilejson(uow: UnitOfWork, *, actor: Actor, layer: str, tiles_url: str) -> dict[str, Any]:
    """TileJSON 3.0.0 for ``layer``: URL template, zooms, the bounds of what ``actor`` sees."""
    spec = tile_layer(layer)
    t = table(layer)
    west, south, east, north = dialect.envelope(uow.conn, t, visible(actor, t)) or (
        -180.0, -MAX_LATITUDE, 180.0, MAX_LATITUDE)
    south, north = max(south, -MAX_LATITUDE), min(north, MAX_LATITUDE)
    span = max(east - west, north - south, 1e-6)
    zoom = max(spec.minzoom, min(MAX_ZOOM, int(math.log2(360 / span))))
    fields = {p: _field_type(t.c[p].type) for p in spec.properties}
    if _points(t):  # only in tiles thinned to one feature per pixel
        fields["represents"] = "Number"
    return {
        "tilejson": "3.0.0", "name": layer, "description": spec.description,
        "version": "1.0.0", "scheme": "xyz", "tiles": [tiles_url],
        "minzoom": spec.minzoom, "maxzoom": MAX_ZOOM, "bounds": [west, south, east, north],
        "center": [(west + east) / 2, (south + north) / 2, zoom],
        "vector_layers": [{"id": layer, "description": spec.description, "fields": fields,
                           "minzoom": spec.minzoom, "maxzoom": MAX_ZOOM}],
    }


def tile_bounds(z: int, x: int, y: int, margin: float = 0.0) -> tuple[float, float, float, float]:
    """(west, south, east, north) in degrees of tile ``z/x/y``, grown by ``margin`` tiles."""
    size = 2 * HALF_WORLD / 2**z

    def lon(mx: float) -> float:
        return math.degrees(mx / 6378137.0)

    def lat(my: float) -> float:
        return math.degrees(2 * math.atan(math.exp(my / 6378137.0)) - math.pi / 2)

    left, top = -HALF_WORLD + x * size, HALF_WORLD - y * size
    west, east = lon(left - margin * size), lon(left + (1 + margin) * size)
    south, north = lat(top - (1 + margin) * size), lat(top + margin * size)
    # The grid's edge rows reach the poles as far as the store is concerned.
    return (max(west, -180.0), -90.0 if y == 2**z - 1 else south,
            min(east, 180.0), 90.0 if y == 0 else north)


def covering(bounds: tuple[float, float, float, float], z: int) -> list[tuple[int, int]]:
    """x, y of the tiles of zoom ``z`` that (west, south, east, north) in degrees meets."""
    west, south, east, north = bounds
    n = 2**z

    def column(lon: float) -> int:
        return max(0, min(n - 1, int((lon + 180) / 360 * n)))

    def row(lat: float) -> int:
        lat = math.radians(max(-MAX_LATITUDE, min(MAX_LATITUDE, lat)))
        return max(0, min(n - 1, int((1 - math.asinh(math.tan(lat)) / math.pi) / 2 * n)))

    return [(x, y) for x in range(column(west), column(east) + 1)
            for y in range(row(north), row(south) + 1)]


def _points(t) -> bool:
    """Whether a layer's features are points (those are thinned in dense tiles)."""
    return getattr(t.c.geom.type, "type_name", "") == "POINT"


def tile_layer(layer: str) -> TileLayer:
    """What a tile layer carries (NotFound naming the layers there are)."""
    spec = TILE_LAYERS.get(layer)
    if spec is None:
        raise NotFound(f"no tile layer {layer!r} (layers: {', '.join(TILE_LAYERS)})")
    return spec


def _check_tile(z: int, x: int, y: int) -> None:
    if not 0 <= z <= MAX_ZOOM:
        raise NotFound(f"no tile {z}/{x}/{y}: zoom runs from 0 to {MAX_ZOOM}")
    if not (0 <= x < 2**z and 0 <= y < 2**z):
        raise NotFound(f"no tile {z}/{x}/{y}: x and y run from 0 to {2**z - 1} at zoom {z}")


def _etag(scope: str, content: bytes) -> str:
    """A strong validator of the bytes, tied to the actor's visibility scope."""
    return f'"{hashlib.sha256(scope.encode() + b"|" + content).hexdigest()[:32]}"'


def _field_type(sql_type) -> str:
    if isinstance(sql_type, Boolean):
        return "Boolean"
    return "Number" if isinstance(sql_type, Integer | Float) else "String"
