"""The tile layers: what each one's tiles carry (properties, description, first zoom), as the
layer registry says."""

from __future__ import annotations

from dataclasses import dataclass

from demine.domain.entities import REGISTRY
from demine.domain.errors import NotFound


@dataclass(frozen=True)
class TileLayer:
    """What one layer's tiles carry."""

    name: str
    properties: tuple[str, ...]
    description: str
    minzoom: int = 0


# The layers the layer registry gives tiles (``Entity.tiles``), records first.
TILE_LAYERS: dict[str, TileLayer] = {
    name: TileLayer(name, e.tiles.properties, e.tiles.description, e.tiles.minzoom)
    for name, e in REGISTRY.items() if e.tiles is not None}


def tile_layer(layer: str) -> TileLayer:
    """What a tile layer carries (NotFound naming the layers there are)."""
    spec = TILE_LAYERS.get(layer)
    if spec is None:
        raise NotFound(f"no tile layer {layer!r} (layers: {', '.join(TILE_LAYERS)})")
    return spec
