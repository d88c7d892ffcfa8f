"""The embedded store is a GeoPackage that GDAL opens as is, and that other tools cannot edit."""

from __future__ import annotations

import sqlite3

import numpy as np
import pyogrio
import pytest
import shapely
from conftest import copy_gpkg
from typer.testing import CliRunner

from demine.cli.app import app
from demine.storage.gpkg import APPLICATION_ID
from demine.storage.tables import LAYERS

LAYER_TYPES = {"hazards": "MultiPolygon", "activities": "MultiPolygon",
               "land_releases": "MultiPolygon", "eo_finds": "Point", "accidents": "Point",
               "eore_sessions": "Point", "admin_areas": "MultiPolygon"}


@pytest.fixture(scope="module")
def demo_file(gpkg_demo, tmp_path_factory):
    """A copy of the small demo region built into a GeoPackage through the CLI (conftest.py)."""
    path = tmp_path_factory.mktemp("gpkg") / "demo.gpkg"
    copy_gpkg(gpkg_demo.source, path)
    return path


def _count(path, table: str) -> int:
    with sqlite3.connect(path) as conn:
        return conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0]


def test_gdal_lists_every_layer_with_its_geometry(demo_file):
    layers = dict(pyogrio.list_layers(demo_file))
    for name, geometry_type in LAYER_TYPES.items():
        assert layers[name] == geometry_type
    for name in ("organisations", "teams", "casualties", "eore_beneficiaries"):
        assert name in layers and layers[name] is None


def test_feature_counts_and_ledger_attributes_match(demo_file):
    for name in LAYERS:
        info = pyogrio.read_info(demo_file, layer=name)
        assert info["features"] == _count(demo_file, name) > 0
        assert info["crs"] == "EPSG:4326"
    fields = set(pyogrio.read_info(demo_file, layer="hazards")["fields"])
    assert {"code", "baseline_m2", "cancelled_m2", "reduced_m2", "cleared_m2",
            "remaining_m2", "status", "hazard_type"} <= fields


def test_file_is_a_valid_geopackage(demo_file):
    with sqlite3.connect(demo_file) as conn:
        assert conn.execute("PRAGMA application_id").fetchone()[0] == APPLICATION_ID
        assert conn.execute("PRAGMA user_version").fetchone()[0] >= 10300
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        extensions = {r[0] for r in conn.execute(
            "SELECT table_name FROM gpkg_extensions WHERE extension_name='gpkg_rtree_index'")}
    assert set(LAYERS) <= extensions


def test_bbox_query_uses_the_spatial_index_and_returns_the_right_features(demo_file):
    info = pyogrio.read_info(demo_file, layer="eo_finds")
    assert info["capabilities"]["fast_spatial_filter"]
    assert _count(demo_file, "rtree_eo_finds_geom") == info["features"]
    x0, y0, x1, y1 = info["total_bounds"]
    bbox = (x0, y0, (x0 + x1) / 2, (y0 + y1) / 2)
    _meta, _fids, inside, _fields = pyogrio.raw.read(demo_file, layer="eo_finds", bbox=bbox)
    _meta, _fids, everything, _fields = pyogrio.raw.read(demo_file, layer="eo_finds")
    points = shapely.from_wkb(everything)
    expected = shapely.intersects(points, shapely.box(*bbox))
    assert len(inside) == int(np.sum(expected)) > 0


def test_gdal_cannot_write_past_the_ledger(demo_file, tmp_path):
    """Layers are read-only to other tools: a GDAL append fails and nothing changes."""
    before = _count(demo_file, "hazards"), _count(demo_file, "audit_log")
    square = shapely.box(31.0, 48.0, 31.001, 48.001)
    with pytest.raises(Exception, match="demine_only__edit_through_demine_api"):
        pyogrio.raw.write(demo_file, np.array([shapely.to_wkb(square)], dtype=object),
                          [np.array(["GIS-1"], dtype=object)], ["code"], layer="hazards",
                          driver="GPKG", geometry_type="MultiPolygon", crs="EPSG:4326",
                          append=True)
    with sqlite3.connect(demo_file) as conn, pytest.raises(sqlite3.OperationalError):
        conn.execute("UPDATE hazards SET remaining_m2 = 0")
    assert (_count(demo_file, "hazards"), _count(demo_file, "audit_log")) == before
    result = CliRunner().invoke(app, ["stats", "--db", str(demo_file), "--json"])
    assert result.exit_code == 0
