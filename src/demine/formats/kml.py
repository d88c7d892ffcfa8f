"""KML: written by GDAL's KML driver, attributes as ExtendedData, read back by LIBKML.

GDAL's plain KML reader sees only <name> and <description>, so reading needs LIBKML (part of
the pyogrio wheels); without it the reader says so instead of dropping every attribute.

KML has no column types worth the name: integers, dates and datetimes are written as text
(ISO 8601), floats as floats, booleans as 0/1, and what comes back is what the reader infers;
callers coerce by their schema. Placemarks get no <name>/<description> of their own, so the
columns ``name`` and ``description`` stay ordinary attributes.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

import pyogrio

from demine.formats.base import (
    Feature,
    LayerData,
    ReadLimits,
    check_file,
    file_problem,
    pick_layers,
    remove_existing,
    single_layer,
)
from demine.formats.ogr import Table, layer_names, read_table, write_layer
from demine.formats.registry import register

_WHAT = "KML"
# Fields GDAL's KML readers add for Placemark elements, not for ExtendedData (lower case).
_PLACEMARK_FIELDS = {
    "id", "name", "description", "timestamp", "begin", "end", "altitudemode", "tessellate",
    "extrude", "visibility", "draworder", "icon", "snippet",
}
_KEEP_WHEN_FILLED = {"name", "description"}
# Field names GDAL's KML writer takes for <name>/<description>; none of our columns is called so.
_NO_SUCH_FIELD = "-"


class Kml:
    """OGC KML 2.2; every layer (Folder) is read, one layer is written per file."""

    name = "kml"
    extensions = (".kml",)

    def read(
        self, path: Path, *, layer: str | None, limits: ReadLimits
    ) -> dict[str, list[Feature]]:
        """Every Folder as a layer (or the one named); ExtendedData as the properties."""
        check_file(path, limits)
        if not _has_libkml():
            raise file_problem("cannot read KML attributes: GDAL here has no LIBKML driver")
        names = layer_names(path, _WHAT)
        if layer is not None and len(names) == 1:
            chosen = {layer: names[0]}  # one Folder: it answers to the name asked for
        else:
            chosen = {name: name for name in pick_layers(names, layer)}
        return {
            key: _without_placemark_fields(read_table(path, name, limits, what=_WHAT)).features()
            for key, name in chosen.items()
        }

    def write(self, path: Path, layers: list[LayerData]) -> None:
        """One Folder of Placemarks with an ExtendedData schema."""
        data = single_layer(_WHAT, layers)
        remove_existing(path)
        options = {"NameField": _NO_SUCH_FIELD, "DescriptionField": _NO_SUCH_FIELD}
        write_layer(path, data, "KML", as_text=("int", "date", "datetime"),
                    dataset_options=options)


@cache
def _has_libkml() -> bool:
    return "LIBKML" in pyogrio.list_drivers()


def _without_placemark_fields(table: Table) -> Table:
    """Drop the reader's own Placemark fields; give ExtendedData fields their names back.

    LIBKML renames an ExtendedData field that clashes with one of its own (``id``, ``Name``,
    ``visibility``…) by adding "2"; GDAL's field names ignore case, so ``name`` is one of them.
    """
    kept: dict[str, int] = {}
    filled = [any(v not in (None, "") for v in column) for column in table.columns]
    for i, field in enumerate(table.names):
        low = field.lower()
        if low.endswith("2") and low[:-1] in _PLACEMARK_FIELDS:
            if filled[i]:  # GDAL's KML writer always adds Name and Description, often empty
                kept[low[:-1]] = i
        elif low not in _PLACEMARK_FIELDS:
            kept[field] = i
    for i, field in enumerate(table.names):
        low = field.lower()
        if low in _KEEP_WHEN_FILLED and low not in kept and filled[i]:
            kept[low] = i  # a <name> or <description> typed in Google Earth, say
    order = sorted(kept.items(), key=lambda item: item[1])
    return Table([name for name, _ in order], [table.columns[i] for _, i in order],
                 table.geometries, table.errors)


register(Kml())
