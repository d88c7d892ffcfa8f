"""File formats for import and export: one registry, one module per format.

``read(path)`` → {layer: [Feature]}; ``write(path, [LayerData])``. Importing this package
registers GeoPackage, GeoJSON, Shapefile, KML, CSV+HXL and XLSX.
"""

from demine.formats import csv_hxl, geojson, gpkg, kml, shapefile, xlsx  # noqa: F401  (registers)
from demine.formats.base import Feature, Format, LayerData, ReadLimits
from demine.formats.registry import (
    FORMATS,
    by_name,
    for_path,
    read,
    register,
    write,
    write_layers,
)

__all__ = [
    "FORMATS",
    "Feature",
    "Format",
    "LayerData",
    "ReadLimits",
    "by_name",
    "for_path",
    "read",
    "register",
    "write",
    "write_layers",
]
