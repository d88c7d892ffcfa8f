"""Data exchange with other tools, through the CLI: GeoPackage as GIS tools read it (QGIS
styles included), XLSX both ways, GDAL reading our exports, and foreign data via a mapping."""

from __future__ import annotations

import json
import sqlite3
import xml.etree.ElementTree as ET
from contextlib import closing

import openpyxl
import pyogrio
import pytest
import shapely
from fastapi.testclient import TestClient
from shapely.geometry import shape

from demine import formats
from demine.settings import Settings
from demine.web.app import create_app

SPATIAL = ("admin_areas", "places", "terrain_lines", "hazards", "activities", "land_releases",
           "eo_finds", "accidents", "eore_sessions")
HAZARD_COLOURS = {"CHA": "255,0,0", "SHA": "244,167,24", "closed": "46,139,87"}


@pytest.fixture
def region(demo_cli):
    """The CLI on a private copy of the small demo region (tests/conftest.py)."""
    return demo_cli


def _records(cli, layer: str, **params) -> dict[str, dict]:
    """code → record (geometry as shapely) of a layer, as the admin reads it from the API."""
    with TestClient(create_app(Settings(database_url=cli.url))) as client:
        token = client.post("/api/v1/auth/token", json={
            "email": "admin@demo.demine.org", "password": "demine-demo-admin"}).json()
        headers = {"Authorization": f"Bearer {token['access_token']}"}
        out, offset = {}, 0
        while True:
            page = client.get(f"/api/v1/{layer}", headers=headers,
                              params={"limit": 1000, "offset": offset, **params}).json()
            for item in page["items"]:
                item["geometry"] = shape(item["geometry"]) if item.get("geometry") else None
                out[item["code"]] = item
            offset += 1000
            if offset >= page["total"]:
                return out


def _same_shape(a, b) -> bool:
    def multi(g):
        kind = {"Polygon": shapely.MultiPolygon, "LineString": shapely.MultiLineString}
        return kind[g.geom_type]([g]) if g.geom_type in kind else g

    return shapely.normalize(multi(a)).equals_exact(shapely.normalize(multi(b)), 1e-9)


def test_exported_geopackage_is_valid_indexed_and_styled_for_qgis(region, tmp_path):
    path = tmp_path / "export.gpkg"
    assert region("export", "--out", str(path)).exit_code == 0
    with closing(sqlite3.connect(path)) as db:
        assert db.execute("PRAGMA application_id").fetchone()[0] == 0x47504B47
        assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        columns = dict(db.execute("SELECT table_name, column_name FROM gpkg_geometry_columns"))
        assert set(columns) == set(SPATIAL)
        for table, column in columns.items():  # an RTree per spatial layer, registered
            assert db.execute("SELECT count(*) FROM sqlite_master WHERE name = ?",
                              (f"rtree_{table}_{column}",)).fetchone()[0] == 1
            assert db.execute("SELECT count(*) FROM gpkg_extensions WHERE table_name = ? AND "
                              "extension_name = 'gpkg_rtree_index'", (table,)).fetchone()[0] == 1
        styles = db.execute("SELECT f_table_name, f_geometry_column, styleName, styleQML, "
                            "styleSLD, useAsDefault FROM layer_styles").fetchall()
    assert {row[0] for row in styles} == set(SPATIAL)
    for table, column, name, qml, sld, default in styles:
        assert column == columns[table] and name and default == 1
        root = ET.fromstring(qml)
        assert root.tag == "qgis" and root.find("renderer-v2") is not None
        assert ET.fromstring(sld.encode()).tag.endswith("StyledLayerDescriptor")
    hazards = ET.fromstring(next(row[3] for row in styles if row[0] == "hazards"))
    symbols = {s.get("name"): s for s in hazards.find("renderer-v2/symbols")}
    for category in hazards.iter("category"):
        if category.get("value") in HAZARD_COLOURS:
            colour = symbols[category.get("symbol")].find(".//prop[@k='color']").get("v")
            assert colour.startswith(HAZARD_COLOURS[category.get("value")] + ",")
    listed = {name for name, _ in pyogrio.list_layers(path)}
    assert listed >= {*SPATIAL, "layer_styles"}
    for layer in SPATIAL:
        assert pyogrio.read_info(path, layer=layer)["features"] > 0
    # The styles table is not data: importing the file back changes nothing.
    result = region("import", str(path), "--json")
    assert result.exit_code == 0, result.output
    assert all(counts["created"] == counts["updated"] == 0
               for counts in json.loads(result.stdout)["layers"].values())


def test_xlsx_round_trip_leaves_every_layer_unchanged(region, tmp_path):
    workbook = tmp_path / "all.xlsx"  # one workbook, one sheet per layer
    result = region("export", "--format", "xlsx", "--out", str(workbook), "--json")
    assert result.exit_code == 0, result.output
    exported = json.loads(result.stdout)["layers"]
    result = region("import", str(workbook), "--json")
    assert result.exit_code == 0, result.output
    imported = json.loads(result.stdout)["layers"]
    for layer, count in exported.items():
        if layer in imported:
            assert imported[layer] == {"created": 0, "updated": 0, "unchanged": count}, layer
    assert {"hazards", "activities", "eo_finds"} <= set(imported)
    read = formats.read(workbook)["hazards"]
    source = _records(region, "hazards")
    assert {f.properties["code"] for f in read} == set(source)
    for feature in read:
        record = source[feature.properties["code"]]
        assert _same_shape(feature.geometry, record["geometry"])
        for key in ("hazard_type", "status", "baseline_m2", "remaining_m2", "reported_on"):
            assert str(feature.properties[key]) == str(record[key]), key
    meta, _, _, fields = pyogrio.raw.read(workbook, layer="hazards")  # GDAL reads it too
    names = list(meta["fields"])
    by_code = dict(zip(fields[names.index("code")], fields[names.index("baseline_m2")],
                       strict=True))
    assert by_code == {code: r["baseline_m2"] for code, r in source.items()}


def test_xlsx_holds_one_sheet_per_layer_and_refuses_bad_input(region, tmp_path):
    book = tmp_path / "two.xlsx"
    point, square = shapely.Point(31.5, 48.1), shapely.box(31.0, 48.0, 31.01, 48.01)
    formats.write(book, [
        formats.LayerData("hazards", [("code", "text")], [{"code": "H1"}], [square],
                          "MultiPolygon"),
        formats.LayerData("eo_finds", [("code", "text"), ("quantity", "int")],
                          [{"code": "E1", "quantity": 3}], [point], "Point")])
    read = formats.read(book)
    assert list(read) == ["hazards", "eo_finds"]
    assert read["eo_finds"][0].geometry.equals(point)
    assert read["eo_finds"][0].properties == {"code": "E1", "quantity": 3}
    assert read["hazards"][0].geometry.equals(square)
    bad_wkt = tmp_path / "bad.xlsx"
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.title = "hazards"
    sheet.append(["code", "hazard_type", "wkt"])
    sheet.append(["XL-1", "SHA", "POLYGON((31 48, 31.1 48"])
    workbook.save(bad_wkt)
    result = region("import", str(bad_wkt))
    assert result.exit_code == 3
    assert "row 2 (XL-1): geometry: could not parse WKT" in result.stderr
    for name, content in (("text.xlsx", b"code,wkt\nX,POINT(1 2)\n"),
                          ("cut.xlsx", book.read_bytes()[:1500])):
        (tmp_path / name).write_bytes(content)
        result = region("import", str(tmp_path / name))
        assert result.exit_code == 3, name
        assert "not a readable XLSX workbook" in result.stderr, result.stderr


@pytest.mark.parametrize("fmt", ["shp", "kml", "geojson"])
def test_gdal_reads_our_exports_back_equal_to_the_source(region, tmp_path, fmt):
    for layer in ("hazards", "eo_finds", "terrain_lines"):
        path = tmp_path / f"{layer}.{fmt}"
        result = region("export", "--format", fmt, "--out", str(path), "--layer", layer)
        assert result.exit_code == 0, result.output
        meta, _, geoms, fields = pyogrio.raw.read(path, return_fids=True)
        codes = list(fields[list(meta["fields"]).index("code")])
        source = _records(region, layer)
        assert len(codes) == len(source) and set(codes) == set(source), layer
        for code, wkb in zip(codes, geoms, strict=True):
            assert _same_shape(shapely.from_wkb(wkb), source[code]["geometry"]), code


def _mapping(tmp_path, text: str):
    path = tmp_path / "map.yaml"
    path.write_text(text)
    return str(path)


HAZARD_MAPPING = """
layer: hazards
fields:
  HAZARD_ID: code
  HAZ_TYPE: hazard_type
  ORG: organisation
  DATE_REP: reported_on
  CONTAM: contamination
values:
  hazard_type: {"Suspected": SHA, "Confirmed": CHA}
  organisation: {"Dekru NGO": SEDS}
  contamination: {"AP": ap_mine, "AV": at_mine, "ERW": uxo}
defaults: {sensitivity: shared}
"""


def _foreign_hazards(tmp_path, second_type: str = "Confirmed") -> str:
    def feature(code, kind, contamination, x):
        return {"type": "Feature", "properties": {
            "HAZARD_ID": code, "HAZ_TYPE": kind, "ORG": "Dekru NGO", "DATE_REP": "2025-03-01",
            "CONTAM": contamination, "REMARKS": "from IMSMA"},
            "geometry": {"type": "Polygon", "coordinates": [[
                [x, 48.0], [x + 0.002, 48.0], [x + 0.002, 48.002], [x, 48.002], [x, 48.0]]]}}

    path = tmp_path / "imsma.geojson"
    path.write_text(json.dumps({"type": "FeatureCollection", "features": [
        feature("IMS-1", "Suspected", "AP", 31.0),
        feature("IMS-2", second_type, "AP;ERW", 31.1)]}))
    return str(path)


def test_mapping_brings_in_another_systems_names_and_codes(region, tmp_path):
    mapping = _mapping(tmp_path, HAZARD_MAPPING)
    result = region("import", _foreign_hazards(tmp_path), "--mapping", mapping, "--json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["layers"]["hazards"]["created"] == 2
    found = _records(region, "hazards", q="IMS-")
    assert {code: (r["hazard_type"], r["organisation"], r["contamination"], r["sensitivity"])
            for code, r in found.items()} == {
        "IMS-1": ("SHA", "SEDS", "ap_mine", "shared"),
        "IMS-2": ("CHA", "SEDS", "ap_mine,uxo", "shared")}
    csv = tmp_path / "finds.csv"
    csv.write_text("FIND_NO,ITEM,QTY,FOUND,AGENCY,Y,X\n"
                   "F-1,PFM-1 mine,3,2025-05-02,Dekru NGO,48.21,31.41\n"
                   "F-2,Shell,1,2025-05-03,Dekru NGO,48.22,31.42\n")
    finds = _mapping(tmp_path, """
layer: eo_finds
fields: {FIND_NO: code, ITEM: category, QTY: quantity, FOUND: found_on, AGENCY: organisation,
         Y: lat, X: lon}
values:
  category: {"PFM-1 mine": ap_mine, "Shell": uxo}
  organisation: {"Dekru NGO": SEDS}
""")
    result = region("import", str(csv), "--mapping", finds, "--json")
    assert result.exit_code == 0, result.output
    found = _records(region, "eo_finds", q="F-")
    assert found["F-1"]["category"] == "ap_mine" and found["F-1"]["quantity"] == 3
    assert found["F-2"]["geometry"].equals(shapely.Point(31.42, 48.22))


def test_unknown_source_code_is_reported_and_nothing_is_stored(region, tmp_path):
    before = len(_records(region, "hazards"))
    path = _foreign_hazards(tmp_path, second_type="Probable")
    result = region("import", path, "--mapping", _mapping(tmp_path, HAZARD_MAPPING))
    assert result.exit_code == 3
    lines = [line for line in result.stderr.splitlines() if line.startswith("error:")]
    assert len(lines) == 1, result.stderr
    assert "feature 2 (IMS-2)" in lines[0] and "HAZ_TYPE" in lines[0]
    assert "'Probable'" in lines[0], lines[0]
    assert len(_records(region, "hazards")) == before  # not even IMS-1


def test_mapping_with_unknown_demine_fields_is_refused_up_front(region, tmp_path):
    mapping = _mapping(tmp_path, """
layer: hazards
fields: {HAZARD_ID: code, HAZ_TYPE: hazard_kind}
values: {hazard_type: {"Suspected": SHX}}
defaults: {contamination: landmine}
""")
    result = region("import", str(tmp_path / "never-read.geojson"), "--mapping", mapping)
    assert result.exit_code == 3
    assert "no such file" not in result.stderr  # the mapping is checked before the file
    assert "fields.HAZ_TYPE: hazards has no field 'hazard_kind'" in result.stderr
    assert "values.hazard_type" in result.stderr
    assert "defaults.contamination: unknown code 'landmine'" in result.stderr
    bad_layer = _mapping(tmp_path, "layer: minefields\nfields: {A: code}\n")
    result = region("import", _foreign_hazards(tmp_path), "--mapping", bad_layer)
    assert result.exit_code == 3 and "unknown layer 'minefields'" in result.stderr
