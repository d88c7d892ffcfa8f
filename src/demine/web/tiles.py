"""Vector tiles: ``/tiles/{layer}/{z}/{x}/{y}.pbf`` (Mapbox Vector Tile) and
``/tiles/{layer}.json`` (TileJSON 3.0.0).

An empty tile is ``204 No Content``. Tiles carry a strong ETag (content + the actor's
visibility scope) and answer ``304`` to a matching ``If-None-Match``; anonymous tiles are
publicly cacheable for a minute, signed-in ones ``private, no-cache`` (revalidate each time).
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Header, Request, Response

from demine.domain.actors import Actor
from demine.services.tiles import service as tile_service
from demine.web.deps import ActorDep, DatabaseDep

router = APIRouter(prefix="/tiles", tags=["tiles"])
_TILE_RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {"content": {tile_service.MEDIA_TYPE: {}}, "description": "Mapbox Vector Tile"},
    204: {"description": "Empty tile: nothing here that you may see"},
    304: {"description": "Not modified (If-None-Match)"},
    404: {"description": "Unknown layer, or z/x/y outside the tile matrix"},
}


def _cache_headers(actor: Actor) -> dict[str, str]:
    control = "public, max-age=60" if actor.is_anonymous else "private, no-cache"
    return {"Cache-Control": control, "Vary": "Authorization, Cookie"}


@router.get("/{layer}.json", summary="TileJSON 3.0.0 of a layer")
def tilejson(layer: str, request: Request, actor: ActorDep,
             database: DatabaseDep) -> dict[str, Any]:
    """URL template, zoom range, bounds of what you may see and the fields of a layer."""
    url = str(request.url_for("tile", layer=layer, z="{z}", x="{x}", y="{y}"))
    url = url.replace("%7B", "{").replace("%7D", "}")
    with database.read() as uow:
        return tile_service.tilejson(uow, actor=actor, layer=layer, tiles_url=url)


@router.get("/{layer}/{z}/{x}/{y}.pbf", name="tile", response_class=Response,
            responses=_TILE_RESPONSES, summary="A vector tile of a layer")
def tile(layer: str, z: int, x: int, y: int, request: Request, actor: ActorDep,
         database: DatabaseDep, if_none_match: Annotated[str | None, Header()] = None) -> Response:
    """The features of ``layer`` in tile z/x/y that you may see."""
    with database.read() as uow:
        found = tile_service.get_tile(uow, actor=actor, layer=layer, z=z, x=x, y=y,
                                      cache=request.app.state.tile_cache)
    headers = _cache_headers(actor)
    if not found.content:
        return Response(status_code=204, headers=headers)
    headers["ETag"] = found.etag
    if if_none_match and (if_none_match.strip() == "*" or found.etag in
                          [tag.strip().removeprefix("W/") for tag in if_none_match.split(",")]):
        return Response(status_code=304, headers=headers)
    return Response(found.content, media_type=tile_service.MEDIA_TYPE, headers=headers)
