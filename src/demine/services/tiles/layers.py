"""The tile layers: what each one's tiles carry (properties, description, first zoom)."""

from __future__ import annotations

from dataclasses import dataclass

from demine.domain.errors import NotFound

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


def tile_layer(layer: str) -> TileLayer:
    """What a tile layer carries (NotFound naming the layers there are)."""
    spec = TILE_LAYERS.get(layer)
    if spec is None:
        raise NotFound(f"no tile layer {layer!r} (layers: {', '.join(TILE_LAYERS)})")
    return spec
