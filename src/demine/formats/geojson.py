"""GeoJSON: one layer per file, strictly UTF-8 (RFC 8259), coordinates in WGS84."""

from __future__ import annotations

from pathlib import Path

from demine.formats.base import (
    Feature,
    LayerData,
    ReadLimits,
    check_file,
    file_problem,
    find_bad_utf8,
    remove_existing,
    single_layer,
)
from demine.formats.ogr import read_table, write_layer
from demine.formats.registry import register

_WHAT = "GeoJSON"


class GeoJSON:
    """GeoJSON FeatureCollection through GDAL; the layer is named after the file."""

    name = "geojson"
    extensions = (".geojson", ".json")

    def read(
        self, path: Path, *, layer: str | None, limits: ReadLimits
    ) -> dict[str, list[Feature]]:
        """The file's one layer, keyed by ``layer`` or the file stem."""
        check_file(path, limits)
        if path.stat().st_size == 0:
            raise file_problem("empty file")
        # GDAL would decode bad bytes somewhere deep and fail vaguely; name the byte instead.
        bad = find_bad_utf8(path)
        if bad:
            raise file_problem(f"not valid UTF-8 at byte {bad[0]} (line {bad[1]})")
        table = read_table(path, None, limits, what=_WHAT)
        return {layer or path.stem: table.features()}

    def write(self, path: Path, layers: list[LayerData]) -> None:
        """One FeatureCollection; properties keep their JSON types, dates as ISO 8601 text."""
        data = single_layer(_WHAT, layers)
        remove_existing(path)
        # 17 significant figures round-trip every float64 coordinate exactly.
        options = {"RFC7946": "NO", "SIGNIFICANT_FIGURES": "17", "WRITE_BBOX": "NO"}
        write_layer(path, data, "GeoJSON", layer_options=options)


register(GeoJSON())
