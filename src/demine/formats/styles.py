"""Default QGIS styles for exported GeoPackages: the ``layer_styles`` table QGIS reads itself.

QGIS looks in a GeoPackage for a table ``layer_styles`` (f_table_catalog, f_table_schema,
f_table_name, f_geometry_column, styleName, styleQML, styleSLD, useAsDefault, description,
owner, ui, update_time) and applies the row marked ``useAsDefault`` when a layer is opened.
Each demine layer gets a categorized renderer in IMAS-style colours (QML, read by QGIS 3) and
the same rules as a minimal SE 1.1 SLD (for other clients). ``update_time`` is when these
styles were defined, not when the file was written, so two exports of the same data are equal.
"""

from __future__ import annotations

import sqlite3
import xml.etree.ElementTree as ET
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path

TABLE = "layer_styles"
STYLES_DEFINED = "2026-11-26T00:00:00.000Z"
OTHER = "#A0A0A0"  # values without a category of their own
_SLD, _SE, _OGC = ("http://www.opengis.net/sld", "http://www.opengis.net/se",
                   "http://www.opengis.net/ogc")
ET.register_namespace("", _SLD)
ET.register_namespace("se", _SE)
ET.register_namespace("ogc", _OGC)


@dataclass(frozen=True)
class Category:
    """One class of a layer: the value it is drawn for, its legend label and colour, and the
    conditions (field, "=" or "!=", value) that select it in SLD."""

    value: str
    label: str
    colour: str
    when: tuple[tuple[str, str, str], ...]


@dataclass(frozen=True)
class LayerStyle:
    """A categorized renderer on a field or QGIS expression; no categories: one symbol."""

    attribute: str
    categories: tuple[Category, ...]
    colour: str = OTHER
    description: str = ""
    filled: bool = True  # polygons: False draws outlines only


def _by(field: str, description: str, **colours: tuple[str, str]) -> LayerStyle:
    cats = tuple(Category(value, label, colour, ((field, "=", value),))
                 for value, (label, colour) in colours.items())
    return LayerStyle(field, cats, description=description)


_OPEN = ("status", "!=", "closed")
STYLES: dict[str, LayerStyle] = {
    "hazards": LayerStyle(
        "CASE WHEN \"status\" = 'closed' THEN 'closed' ELSE \"hazard_type\" END",
        (Category("CHA", "Confirmed hazardous area (CHA)", "#FF0000",
                  (("hazard_type", "=", "CHA"), _OPEN)),
         Category("SHA", "Suspected hazardous area (SHA)", "#F4A718",
                  (("hazard_type", "=", "SHA"), _OPEN)),
         Category("closed", "Closed (released)", "#2E8B57", (("status", "=", "closed"),))),
        description="hazards by type (CHA, SHA); closed hazards green"),
    "activities": _by(
        "kind", "land release activities by kind",
        nts=("Non-technical survey", "#9ACD32"), ts=("Technical survey", "#3CB371"),
        clearance=("Clearance", "#006400"), bac=("Battle area clearance", "#4682B4"),
        eod_spot_task=("EOD spot task", "#8B008B"), pci=("Post-clearance inspection", "#708090")),
    "land_releases": _by(
        "release_kind", "land released by kind",
        cancelled=("Cancelled (NTS)", "#9ACD32"), reduced=("Reduced (TS)", "#3CB371"),
        cleared=("Cleared", "#006400")),
    "eo_finds": _by(
        "category", "explosive ordnance found, by category",
        ap_mine=("AP mine", "#FF0000"), at_mine=("AT mine", "#8B0000"), uxo=("UXO", "#FF8C00"),
        axo=("AXO", "#FFD700"), submunition=("Cluster submunition", "#C71585"),
        ied=("IED", "#800080"), booby_trap=("Booby trap", "#A0522D")),
    "accidents": _by("kind", "accidents and incidents",
                     accident=("Accident", "#000000"), incident=("Incident", "#808080")),
    "eore_sessions": LayerStyle("", (), "#1E90FF", "EORE sessions"),
    "admin_areas": LayerStyle("", (), "#555555", "administrative areas (outline)", False),
    "places": LayerStyle("", (), "#404040", "places"),
    "terrain_lines": _by("kind", "roads, rivers and front lines",
                         road=("Road", "#7F7F7F"), river=("River", "#1F78B4"),
                         front_line=("Front line", "#E31A1C")),
}

_DDL = f"""CREATE TABLE IF NOT EXISTS {TABLE} (
    id INTEGER PRIMARY KEY AUTOINCREMENT, f_table_catalog TEXT(256), f_table_schema TEXT(256),
    f_table_name TEXT(256), f_geometry_column TEXT(256), styleName TEXT(30), styleQML TEXT,
    styleSLD TEXT, useAsDefault BOOLEAN, description TEXT, owner TEXT(30), ui TEXT(30),
    update_time DATETIME DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ','now')))"""


def add_layer_styles(path: Path) -> list[str]:
    """Write a default style for each demine layer in the GeoPackage; the layers styled."""
    with closing(sqlite3.connect(path)) as db, db:
        layers = [(t, c, g) for t, c, g in db.execute(
            "SELECT table_name, column_name, geometry_type_name FROM gpkg_geometry_columns "
            "ORDER BY table_name") if t in STYLES]
        if not layers:
            return []
        db.execute(_DDL)
        db.execute("INSERT OR IGNORE INTO gpkg_contents (table_name, data_type, identifier, "
                   "description) VALUES (?, 'attributes', ?, 'QGIS layer styles')",
                   (TABLE, TABLE))
        for name, column, geometry_type in layers:
            style, kind = STYLES[name], _symbol_kind(geometry_type)
            db.execute(
                f"INSERT INTO {TABLE} (f_table_catalog, f_table_schema, f_table_name, "
                "f_geometry_column, styleName, styleQML, styleSLD, useAsDefault, description, "
                "owner, ui, update_time) VALUES ('', '', ?, ?, ?, ?, ?, 1, ?, 'demine', NULL, ?)",
                (name, column, name, qml(style, kind), sld(name, style, kind),
                 f"demine default: {style.description}", STYLES_DEFINED))
    return [name for name, _, _ in layers]


def _symbol_kind(geometry_type: str) -> str:
    base = geometry_type.upper().removeprefix("MULTI")
    return {"POINT": "marker", "LINESTRING": "line", "CURVE": "line"}.get(base, "fill")


def qml(style: LayerStyle, kind: str) -> str:
    """A QGIS 3 layer style (QML): categorized on the style's attribute, or a single symbol."""
    root = ET.Element("qgis", version="3.28.0", styleCategories="Symbology")
    if style.categories:
        renderer = ET.SubElement(root, "renderer-v2", type="categorizedSymbol",
                                 attr=style.attribute, symbollevels="0", enableorderby="0",
                                 forceraster="0", referencescale="-1")
        cats = ET.SubElement(renderer, "categories")
        symbols = ET.SubElement(renderer, "symbols")
        classes = [(c.value, c.label, c.colour) for c in style.categories]
        for i, (value, label, colour) in enumerate([*classes, ("", "other", OTHER)]):
            ET.SubElement(cats, "category", symbol=str(i), value=value, label=label,
                          render="true")
            symbols.append(_symbol(str(i), kind, colour))
        ET.SubElement(renderer, "source-symbol").append(_symbol("0", kind, OTHER))
    else:
        renderer = ET.SubElement(root, "renderer-v2", type="singleSymbol", symbollevels="0",
                                 enableorderby="0", forceraster="0", referencescale="-1")
        ET.SubElement(renderer, "symbols").append(
            _symbol("0", kind, style.colour, filled=style.filled))
    ET.SubElement(root, "layerGeometryType").text = {"marker": "0", "line": "1",
                                                     "fill": "2"}[kind]
    ET.indent(root)
    doctype = "<!DOCTYPE qgis PUBLIC 'http://mrcc.com/qgis.dtd' 'SYSTEM'>\n"
    return doctype + ET.tostring(root, encoding="unicode")


def _rgba(colour: str, alpha: int = 255) -> str:
    return ",".join(str(int(colour[i:i + 2], 16)) for i in (1, 3, 5)) + f",{alpha}"


def _symbol(name: str, kind: str, colour: str, *, filled: bool = True) -> ET.Element:
    symbol = ET.Element("symbol", type=kind, name=name, alpha="1", clip_to_extent="1",
                        force_rhr="0")
    if kind == "fill":
        cls = "SimpleFill"
        props = {"color": _rgba(colour, 110), "outline_color": _rgba(colour),
                 "outline_width": "0.46", "outline_width_unit": "MM", "outline_style": "solid",
                 "style": "solid" if filled else "no", "joinstyle": "bevel"}
    elif kind == "line":
        cls = "SimpleLine"
        props = {"line_color": _rgba(colour), "line_width": "0.6", "line_width_unit": "MM",
                 "line_style": "solid", "capstyle": "round", "joinstyle": "round"}
    else:
        cls = "SimpleMarker"
        props = {"name": "circle", "color": _rgba(colour), "outline_color": "35,35,35,255",
                 "outline_width": "0.2", "outline_width_unit": "MM", "size": "2.4",
                 "size_unit": "MM"}
    layer = ET.SubElement(symbol, "layer", {"class": cls, "enabled": "1", "locked": "0",
                                            "pass": "0"})
    options = ET.SubElement(layer, "Option", type="Map")  # QGIS ≥ 3.26 reads these,
    for key, value in props.items():
        ET.SubElement(options, "Option", type="QString", name=key, value=value)
    for key, value in props.items():  # earlier QGIS 3 releases read these
        ET.SubElement(layer, "prop", k=key, v=value)
    return symbol


def sld(name: str, style: LayerStyle, kind: str) -> str:
    """The same classes as a minimal SLD 1.1 (Symbology Encoding) document."""
    root = ET.Element(f"{{{_SLD}}}StyledLayerDescriptor", version="1.1.0")
    layer = ET.SubElement(root, f"{{{_SLD}}}NamedLayer")
    ET.SubElement(layer, f"{{{_SE}}}Name").text = name
    user = ET.SubElement(layer, f"{{{_SLD}}}UserStyle")
    ET.SubElement(user, f"{{{_SE}}}Name").text = name
    rules = ET.SubElement(user, f"{{{_SE}}}FeatureTypeStyle")
    for cat in style.categories or (Category("", name, style.colour, ()),):
        rule = ET.SubElement(rules, f"{{{_SE}}}Rule")
        ET.SubElement(rule, f"{{{_SE}}}Name").text = cat.label
        if cat.when:
            rule.append(_filter(cat.when))
        rule.append(_symbolizer(kind, cat.colour, style.filled))
    ET.indent(root)
    return ET.tostring(root, encoding="unicode", xml_declaration=True)


def _filter(conditions: tuple[tuple[str, str, str], ...]) -> ET.Element:
    element = ET.Element(f"{{{_OGC}}}Filter")
    parent = ET.SubElement(element, f"{{{_OGC}}}And") if len(conditions) > 1 else element
    for field, op, value in conditions:
        tag = "PropertyIsEqualTo" if op == "=" else "PropertyIsNotEqualTo"
        compare = ET.SubElement(parent, f"{{{_OGC}}}{tag}")
        ET.SubElement(compare, f"{{{_OGC}}}PropertyName").text = field
        ET.SubElement(compare, f"{{{_OGC}}}Literal").text = value
    return element


def _symbolizer(kind: str, colour: str, filled: bool) -> ET.Element:
    def params(parent: ET.Element, **values: str) -> None:
        for key, value in values.items():
            ET.SubElement(parent, f"{{{_SE}}}SvgParameter", name=key.replace("_", "-")).text = \
                value

    if kind == "marker":
        element = ET.Element(f"{{{_SE}}}PointSymbolizer")
        graphic = ET.SubElement(element, f"{{{_SE}}}Graphic")
        mark = ET.SubElement(graphic, f"{{{_SE}}}Mark")
        ET.SubElement(mark, f"{{{_SE}}}WellKnownName").text = "circle"
        params(ET.SubElement(mark, f"{{{_SE}}}Fill"), fill=colour)
        params(ET.SubElement(mark, f"{{{_SE}}}Stroke"), stroke="#232323", stroke_width="0.5")
        ET.SubElement(graphic, f"{{{_SE}}}Size").text = "7"
        return element
    if kind == "line":
        element = ET.Element(f"{{{_SE}}}LineSymbolizer")
        params(ET.SubElement(element, f"{{{_SE}}}Stroke"), stroke=colour, stroke_width="2")
        return element
    element = ET.Element(f"{{{_SE}}}PolygonSymbolizer")
    if filled:
        params(ET.SubElement(element, f"{{{_SE}}}Fill"), fill=colour, fill_opacity="0.43")
    params(ET.SubElement(element, f"{{{_SE}}}Stroke"), stroke=colour, stroke_width="1.5")
    return element
