"""Export → import keeps ids, attributes and geometry, in every exchange format."""

from __future__ import annotations

import json

import pyogrio
import pytest
import shapely

SYSTEM = {"recorded_at", "recorded_by", "version", "created_at"}


@pytest.fixture
def region(demo_cli):
    """The CLI on a private copy of the small demo region (tests/conftest.py)."""
    return demo_cli


def _layer(path, name):
    meta, fids, geoms, fields = pyogrio.raw.read(path, layer=name, return_fids=True)
    columns = list(meta["fields"])
    rows = {}
    for i, fid in enumerate(fids):
        record = {c: fields[j][i] for j, c in enumerate(columns) if c not in SYSTEM}
        record["geometry"] = shapely.normalize(shapely.from_wkb(geoms[i])) if geoms is not None \
            else None
        rows[int(fid)] = record
    return rows


def test_geopackage_round_trip_into_a_fresh_store(region, tmp_path):
    """Everything exported from one store and imported into an empty one comes back equal."""
    first, second = tmp_path / "first.gpkg", tmp_path / "second.gpkg"
    assert region("export", "--out", str(first)).exit_code == 0
    fresh = tmp_path / "fresh.gpkg"
    assert region.raw("init", "--db", str(fresh)).exit_code == 0
    result = region.raw("import", str(first), "--db", str(fresh), "--json")
    assert result.exit_code == 0, result.output
    assert region.raw("export", "--db", str(fresh), "--out", str(second)).exit_code == 0
    for name, _type in pyogrio.list_layers(first):
        before, after = _layer(first, name), _layer(second, name)
        assert before.keys() == after.keys(), name  # ids kept
        for fid, record in before.items():
            other = after[fid]
            for column, value in record.items():
                if column == "geometry":
                    assert (value is None and other[column] is None) or value.equals_exact(
                        other[column], 1e-9), (name, fid)
                else:
                    assert other[column] == value or (value != value and other[column] !=
                                                      other[column]), (name, fid, column)
    assert region("stats", "--json").stdout == region.raw(
        "stats", "--db", str(fresh), "--json").stdout


@pytest.mark.parametrize("fmt,ext", [("geojson", "geojson"), ("shp", "shp"), ("kml", "kml"),
                                     ("csv", "csv"), ("gpkg", "gpkg")])
@pytest.mark.parametrize("layer", ["hazards", "eo_finds", "activities"])
def test_each_format_round_trips_exactly(region, tmp_path, fmt, ext, layer):
    """Re-importing an export finds every record unchanged: attributes and geometry equal."""
    path = tmp_path / f"{layer}.{ext}"
    result = region("export", "--format", fmt, "--out", str(path), "--layer", layer, "--json")
    assert result.exit_code == 0, result.output
    count = json.loads(result.stdout)["layers"][layer]
    assert count > 0
    result = region("import", str(path), "--layer", layer, "--json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["layers"][layer] == {
        "created": 0, "updated": 0, "unchanged": count}
