"""The map page's MapLibre style and legend, drawn in the colours of the exported GeoPackage
``layer_styles`` (``formats.styles``): one palette for QGIS and the web map.

Every layer comes from demine's own vector tiles (``/tiles/{layer}.json``); there is no basemap
from the internet unless a deployment configures one (``DEMINE_UI_BASEMAP_URL``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from demine.formats.styles import OTHER, STYLES, LayerStyle
from demine.web.ui.i18n import N_, gettext

BACKGROUND = "#F4F1EA"


@dataclass(frozen=True)
class MapLayer:
    """One switchable layer of the map: its tiles, how it is drawn, its legend title."""

    name: str
    title: str
    kind: str  # "fill", "line" or "circle"
    visible: bool = True
    popup: bool = True
    note: str = ""


# Drawn bottom to top; the panel lists them top to bottom.
LAYERS = (
    MapLayer("admin_areas", N_("Administrative areas"), "line", popup=False),
    MapLayer("terrain_lines", N_("Roads, rivers and front lines"), "line", popup=False),
    MapLayer("land_releases", N_("Land released"), "fill"),
    MapLayer("hazards", N_("Hazardous areas"), "fill"),
    MapLayer("activities", N_("Land release activities"), "line"),
    MapLayer("places", N_("Places"), "circle"),
    MapLayer("eo_finds", N_("EO finds"), "circle", note=N_("shown from zoom 10")),
)
BY_NAME = {layer.name: layer for layer in LAYERS}
# The panel lists what people look for first at the top.
PANEL = tuple(BY_NAME[name] for name in ("hazards", "land_releases", "activities", "eo_finds",
                                         "places", "terrain_lines", "admin_areas"))

# The legend labels of formats.styles, marked for translation (a test keeps them in step).
LABELS = (
    N_("Confirmed hazardous area (CHA)"), N_("Suspected hazardous area (SHA)"),
    N_("Closed (released)"), N_("Non-technical survey"), N_("Technical survey"),
    N_("Clearance"), N_("Battle area clearance"), N_("EOD spot task"),
    N_("Post-clearance inspection"), N_("Cancelled (NTS)"), N_("Reduced (TS)"), N_("Cleared"),
    N_("AP mine"), N_("AT mine"), N_("UXO"), N_("AXO"), N_("Cluster submunition"), N_("IED"),
    N_("Booby trap"), N_("Road"), N_("River"), N_("Front line"), N_("Other"),
)


def colour_expression(style: LayerStyle) -> Any:
    """A MapLibre expression giving each feature its category's colour (the SLD rules)."""
    if not style.categories:
        return style.colour
    cases: list[Any] = ["case"]
    for category in style.categories:
        tests = [["==" if op == "=" else "!=", ["get", field], value]
                 for field, op, value in category.when]
        cases += [tests[0] if len(tests) == 1 else ["all", *tests], category.colour]
    return [*cases, OTHER]


def _draw(layer: MapLayer) -> list[dict[str, Any]]:
    colour = colour_expression(STYLES[layer.name])
    base = {"source": layer.name, "source-layer": layer.name, "metadata": {
        "demine:layer": layer.name, "demine:popup": layer.popup},
        "layout": {"visibility": "visible" if layer.visible else "none"}}
    if layer.name == "admin_areas":
        return [{**base, "id": "admin_areas-line", "type": "line", "paint": {
            "line-color": colour, "line-opacity": 0.7,
            "line-width": ["match", ["get", "level"], 1, 2, 0.8]}}]
    if layer.kind == "fill":
        return [{**base, "id": f"{layer.name}-fill", "type": "fill", "paint": {
                    "fill-color": colour, "fill-opacity": 0.45}},
                {**base, "id": f"{layer.name}-line", "type": "line", "paint": {
                    "line-color": colour, "line-width": 1.2}}]
    if layer.kind == "line":
        paint: dict[str, Any] = {"line-color": colour, "line-width": 1.5}
        if layer.name == "activities":
            paint.update({"line-width": 2, "line-dasharray": [2, 1]})
        return [{**base, "id": f"{layer.name}-line", "type": "line", "paint": paint}]
    return [{**base, "id": f"{layer.name}-circle", "type": "circle", "paint": {
        "circle-color": colour, "circle-radius": 4 if layer.name == "eo_finds" else 3,
        "circle-stroke-color": "#FFFFFF", "circle-stroke-width": 1}}]


def style(tilejson_url: str, basemap_url: str | None = None,
          basemap_attribution: str = "") -> dict[str, Any]:
    """The style document: background, the optional basemap, then demine's layers.

    ``tilejson_url`` has a ``{layer}`` placeholder."""
    sources: dict[str, Any] = {layer.name: {"type": "vector",
                                            "url": tilejson_url.replace("{layer}", layer.name)}
                               for layer in LAYERS}
    layers: list[dict[str, Any]] = [{"id": "background", "type": "background",
                                     "paint": {"background-color": BACKGROUND}}]
    if basemap_url:
        sources["basemap"] = {"type": "raster", "tiles": [basemap_url], "tileSize": 256,
                              "attribution": basemap_attribution}
        layers.append({"id": "basemap", "type": "raster", "source": "basemap"})
    for layer in LAYERS:
        layers += _draw(layer)
    return {"version": 8, "name": "demine", "sources": sources, "layers": layers}


@dataclass(frozen=True)
class LegendEntry:
    """One line of the legend: a colour and its label in the page's language."""

    label: str
    colour: str


def legend(layer: MapLayer) -> list[LegendEntry]:
    """The legend lines of a layer, in the current language."""
    style_ = STYLES[layer.name]
    if not style_.categories:
        return [LegendEntry(gettext(layer.title), style_.colour)]
    return [*(LegendEntry(gettext(c.label), c.colour) for c in style_.categories),
            LegendEntry(gettext("Other"), OTHER)]


def popup_labels() -> dict[str, Any]:
    """What the map's popups say, in the current language (read by map.js)."""
    fields = {"code": gettext("Code"), "name": gettext("Name"), "hazard_type": gettext("Type"),
              "status": gettext("Status"), "kind": gettext("Kind"),
              "release_kind": gettext("Released as"), "area_m2": gettext("Area (m²)"),
              "category": gettext("Category"), "model_code": gettext("Model"),
              "disposal": gettext("Disposal"), "review_status": gettext("Review")}
    values = {c.value: gettext(c.label) for layer in LAYERS
              for c in STYLES[layer.name].categories}
    return {"open": gettext("Open the record"), "fields": fields, "values": values,
            "layers": {layer.name: gettext(layer.title) for layer in LAYERS}}
