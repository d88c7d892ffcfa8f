"""GeoJSON: one layer per file, strictly UTF-8 (RFC 8259), coordinates in WGS84."""

from __future__ import annotations

from pathlib import Path

from demine.domain.errors import Invalid
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
from demine.formats.geojson_scan import oversized_features, without_geometries
from demine.formats.geometry import too_many
from demine.formats.ogr import Table, gdal_options, read_table, write_layer
from demine.formats.registry import register

_WHAT = "GeoJSON"
_TOO_LARGE = "GeoJSON object too complex/large"
# GDAL's estimate of a feature's size runs at about 1 kB per vertex; room for the limit.
_BYTES_PER_VERTEX = 1100


def _read_large(path: Path, limits: ReadLimits) -> Table:
    """Read past GDAL's size limit: features over demine's vertex limit (found from the bytes)
    are read without their geometry and named; GDAL's limit is raised to fit the rest."""
    oversized = oversized_features(path, limits.max_vertices)
    megabytes = max(200, -(-limits.max_vertices * _BYTES_PER_VERTEX // 2**20))
    with without_geometries(path, oversized) as copy, gdal_options(
            OGR_GEOJSON_MAX_OBJ_SIZE=str(megabytes)):
        table = read_table(copy, None, limits, what=_WHAT)
    for feature in oversized:
        if feature.index < len(table.errors):
            table.errors[feature.index] = too_many(feature.vertices, limits.max_vertices)
    return table


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
        try:
            table = read_table(path, None, limits, what=_WHAT)
        except Invalid as exc:
            if _TOO_LARGE not in str(exc):
                raise
            table = _read_large(path, limits)
        return {layer or path.stem: table.features()}

    def write(self, path: Path, layers: list[LayerData]) -> None:
        """One FeatureCollection; properties keep their JSON types, dates as ISO 8601 text."""
        data = single_layer(_WHAT, layers)
        remove_existing(path)
        # 17 significant figures round-trip every float64 coordinate exactly.
        options = {"RFC7946": "NO", "SIGNIFICANT_FIGURES": "17", "WRITE_BBOX": "NO"}
        write_layer(path, data, "GeoJSON", layer_options=options)


register(GeoJSON())
