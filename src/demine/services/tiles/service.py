"""Vector tiles and TileJSON per layer, filtered by the one permission predicate in SQL.

A tile is ``/tiles/{layer}/{z}/{x}/{y}.pbf`` on the Web Mercator XYZ grid. Its one MVT layer is
named after the collection and carries the same properties on both stores: id, code, status and
type fields, sensitivity and review status, never personal data. Geometries are simplified by
one pixel of a 256-pixel tile at that zoom (keeping shapes it would collapse, so small hazards
stay visible), clipped to the tile plus a buffer of 64/4096 and snapped to the 4096 grid; only
features smaller than one cell of that grid vanish. PostGIS makes the tile in one SQL
statement (``postgis``); GeoPackage rows, found through the RTree, are encoded in Python
(``geopackage``). A tile with no feature is empty (b"").
"""

from __future__ import annotations

import hashlib
import math
from typing import Any

from sqlalchemy import Boolean, Float, Integer, select

from demine.domain.actors import Actor
from demine.services import audit
from demine.services.access.permissions import named_on_records, scope_key, visible
from demine.services.tiles import changes as tile_changes
from demine.services.tiles import geopackage, postgis
from demine.services.tiles.cache import Tile, TileCache
from demine.services.tiles.grid import (
    BUFFER,
    EXTENT,
    MAX_LATITUDE,
    MAX_ZOOM,
    check_tile,
    tile_bounds,
)
from demine.services.tiles.layers import TileLayer, tile_layer
from demine.storage import dialect
from demine.storage.database import UnitOfWork
from demine.storage.tables import table

MEDIA_TYPE = "application/vnd.mapbox-vector-tile"
EMPTY = Tile(b"", None)


def get_tile(uow: UnitOfWork, *, actor: Actor, layer: str, z: int, x: int, y: int,
             cache: TileCache | None = None) -> Tile:
    """The tile ``z/x/y`` of ``layer`` holding what ``actor`` may see (from ``cache`` when no
    change since it was made touched it; see ``cache``)."""
    spec = tile_layer(layer)
    check_tile(z, x, y)
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
    t = table(spec.name)
    near = tile_bounds(z, x, y, margin=BUFFER / EXTENT)
    rows = select(*(t.c[p] for p in spec.properties)).where(
        dialect.not_for_indexing(uow.conn, visible(actor, t)),
        dialect.spatial_clause(uow.conn, t, near))
    limit = uow.settings.tile_point_limit if _points(t) else None
    make = geopackage.tile if uow.is_sqlite else postgis.tile
    content = make(uow, rows, t, z=z, x=x, y=y, thin_above=limit)
    return Tile(content, _etag(scope, content)) if content else EMPTY


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


def _points(t) -> bool:
    """Whether a layer's features are points (those are thinned in dense tiles)."""
    return getattr(t.c.geom.type, "type_name", "") == "POINT"


def _etag(scope: str, content: bytes) -> str:
    """A strong validator of the bytes, tied to the actor's visibility scope."""
    return f'"{hashlib.sha256(scope.encode() + b"|" + content).hexdigest()[:32]}"'


def _field_type(sql_type) -> str:
    if isinstance(sql_type, Boolean):
        return "Boolean"
    return "Number" if isinstance(sql_type, Integer | Float) else "String"
