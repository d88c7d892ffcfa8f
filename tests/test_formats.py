"""demine.formats: round trips through every format, and what bad files get."""

from __future__ import annotations

import json
import sqlite3
import struct
import time
import zipfile
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

import numpy as np
import pyogrio
import pytest
import shapely
from pyogrio import raw

from demine import formats
from demine.domain.errors import Invalid
from demine.formats import Feature, LayerData, ReadLimits, base
from demine.formats.geometry import vertex_count
from demine.formats.shapefile import shorten_names

COLUMNS = [
    ("id", "int"),
    ("code", "text"),
    ("name", "text"),
    ("baseline_m2", "float"),
    ("reported_on", "date"),
    ("recorded_at", "datetime"),
    ("evidence_direct", "text"),
    ("evidence_indirect", "text"),
    ("cleared", "bool"),
]
ROWS = [
    {"id": 3, "code": "HZ-000003", "name": "Pole é <&> \"north\"", "baseline_m2": 1234.5,
     "reported_on": date(2024, 1, 2), "evidence_direct": "PFM-1 seen", "cleared": True,
     "recorded_at": datetime(2024, 1, 2, 3, 4, 5, tzinfo=timezone(timedelta(hours=2))),
     "evidence_indirect": "villager report, 2023"},
    {"id": 17, "code": "HZ-000017", "name": None, "baseline_m2": None, "reported_on": None,
     "recorded_at": datetime(2024, 5, 6, 7, 8, 9), "evidence_direct": None,
     "evidence_indirect": "", "cleared": False},
]
GEOMETRIES = [
    shapely.MultiPolygon([shapely.box(30.123456789012, 50.0, 30.2, 50.1)]),
    shapely.MultiPolygon([
        shapely.box(31.0, 51.0, 31.2, 51.3),
        shapely.Polygon(
            [(32, 51), (32.4, 51), (32.4, 51.4), (32, 51.4), (32, 51)],
            [[(32.1, 51.1), (32.1, 51.2), (32.2, 51.2), (32.2, 51.1), (32.1, 51.1)]],
        ),
    ]),
]
# (file name, whether values come back typed); KML keeps little more than text.
FILES = [
    ("hazards.gpkg", True),
    ("hazards.geojson", True),
    ("hazards.shp", True),
    ("hazards.zip", True),
    ("hazards.kml", False),
    ("hazards.csv", True),
]


def hazards() -> LayerData:
    return LayerData("hazards", COLUMNS, [dict(r) for r in ROWS], list(GEOMETRIES), "MultiPolygon")


def as_text(value):
    """What KML gives back, as text: booleans are 0/1, dates ISO 8601."""
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        return str(int(value))
    if isinstance(value, date | datetime):
        return value.isoformat()
    return repr(value) if isinstance(value, float) else str(value)


def blank_is_none(value):
    return None if value == "" else value


def as_multi(geom):
    """Shapefiles and KML do not tell a one-part MultiPolygon from a Polygon."""
    return shapely.MultiPolygon([geom]) if geom.geom_type == "Polygon" else geom


def only_layer(result: dict[str, list[Feature]]) -> list[Feature]:
    assert len(result) == 1
    return next(iter(result.values()))


def problems(exc: pytest.ExceptionInfo) -> list[tuple[str, str, str]]:
    return [(p.record, p.field, p.reason) for p in exc.value.problems]


@pytest.mark.parametrize(("filename", "typed"), FILES)
def test_round_trip(tmp_path: Path, filename: str, typed: bool) -> None:
    path = tmp_path / filename
    formats.write(path, [hazards()])
    features = only_layer(formats.read(path))
    assert len(features) == len(ROWS)
    for feature, row, geom in zip(features, ROWS, GEOMETRIES, strict=True):
        assert feature.geometry_error is None
        assert as_multi(feature.geometry).equals_exact(geom, 1e-9), filename
        for name, _ in COLUMNS:
            got = feature.properties.get(name)
            if typed:  # dBase and CSV cannot tell "" from null, so neither does the test
                assert blank_is_none(got) == blank_is_none(row[name]), (filename, name)
            else:
                assert as_text(got) == as_text(row[name]), (filename, name)
        assert feature.ref.endswith(f"({row['code']})")


def test_formats_registered_and_found_by_extension() -> None:
    assert set(formats.FORMATS) == {"gpkg", "geojson", "shp", "kml", "csv", "xlsx"}
    assert formats.for_path("A.GPKG").name == "gpkg"
    assert formats.for_path("x.shp.zip").name == "shp"
    assert formats.by_name("GeoJSON").name == "geojson"
    with pytest.raises(Invalid):
        formats.by_name("dxf")


def test_geopackage_is_a_real_geopackage(tmp_path: Path) -> None:
    path = tmp_path / "export.gpkg"
    finds = LayerData("eo_finds", [("id", "int"), ("code", "text"), ("quantity", "int")],
                      [{"id": 5, "code": "EO-5", "quantity": 2}], [shapely.Point(30.5, 50.5)])
    organisations = LayerData("organisations", [("id", "int"), ("code", "text")],
                              [{"id": 41, "code": "HALO"}, {"id": 42, "code": "FSD"}])
    formats.write(path, [hazards(), finds, organisations])

    layers = {str(n): t for n, t in pyogrio.list_layers(path)}
    assert layers == {"hazards": "MultiPolygon", "eo_finds": "Point", "organisations": None,
                      "layer_styles": None}
    with sqlite3.connect(path) as db:
        assert db.execute("PRAGMA application_id").fetchone()[0] == 0x47504B47
        tables = {r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type='table'")}
        assert {"rtree_hazards_geom", "rtree_eo_finds_geom"} <= tables
        contents = dict(db.execute("SELECT table_name, data_type FROM gpkg_contents"))
        assert contents["organisations"] == "attributes"
        # Our ids are the FIDs: the primary key column is "id" and holds our values.
        assert [r[0] for r in db.execute("SELECT id FROM hazards ORDER BY id")] == [3, 17]
        assert [r[0] for r in db.execute("SELECT id FROM organisations ORDER BY id")] == [41, 42]

    result = formats.read(path)
    assert [f.properties for f in result["organisations"]] == [
        {"id": 41, "code": "HALO"}, {"id": 42, "code": "FSD"}]
    assert all(f.geometry is None for f in result["organisations"])
    assert result["eo_finds"][0].geometry.equals_exact(shapely.Point(30.5, 50.5), 1e-12)
    assert list(formats.read(path, layer="eo_finds")) == ["eo_finds"]
    with pytest.raises(Invalid, match="no layer 'casualties'"):
        formats.read(path, layer="casualties")


def test_zip_of_shapefiles_holds_several_layers(tmp_path: Path) -> None:
    path = tmp_path / "export.zip"
    finds = LayerData("eo_finds", [("code", "text"), ("found_on", "date")],
                      [{"code": "EO-1", "found_on": date(2024, 3, 1)}], [shapely.Point(30, 50)])
    formats.write(path, [hazards(), finds])
    result = formats.read(path)
    assert sorted(result) == ["eo_finds", "hazards"]
    assert result["eo_finds"][0].properties == {"code": "EO-1", "found_on": date(2024, 3, 1)}
    assert "hazards.columns.csv" in zipfile.ZipFile(path).namelist()


def test_attribute_table_in_a_shapefile_is_a_dbf(tmp_path: Path) -> None:
    organisations = LayerData("organisations", [("id", "int"), ("code", "text")],
                              [{"id": 41, "code": "HALO"}])
    formats.write(tmp_path / "organisations.shp", [organisations])
    assert not (tmp_path / "organisations.shp").exists()
    for name in ("organisations.shp", "organisations.dbf"):
        [feature] = only_layer(formats.read(tmp_path / name))
        assert feature.properties == {"id": 41, "code": "HALO"} and feature.geometry is None


def test_single_layer_formats_refuse_several_layers(tmp_path: Path) -> None:
    with pytest.raises(Invalid, match="exactly one layer"):
        formats.write(tmp_path / "x.geojson", [hazards(), hazards()])


def test_shorten_names_is_short_unique_and_order_free() -> None:
    names = ["id", "evidence_direct", "evidence_indirect", "evidence_d", "Evidence_d1",
             "organisation_id", "organisation_code", "baseline_m2", "nom_de_la_région"]
    short = shorten_names(names)
    assert set(short) == set(names)
    assert all(len(s.encode()) <= 10 for s in short.values())
    assert len({s.lower() for s in short.values()}) == len(names)
    assert short["id"] == "id" and short["evidence_d"] == "evidence_d"
    assert shorten_names(reversed(names)) == short
    assert shorten_names(names) == short


def test_shapefile_without_its_sidecar_gives_short_names(tmp_path: Path) -> None:
    path = tmp_path / "h.shp"
    formats.write(path, [hazards()])
    path.with_suffix(".columns.csv").unlink()
    props = only_layer(formats.read(path))[0].properties
    assert "evidence_d" in props and "evidence_i" in props and "evidence_direct" not in props


def test_point_layer_csv_has_lat_lon_and_hxl_row(tmp_path: Path) -> None:
    path = tmp_path / "finds.csv"
    layer = LayerData("eo_finds", [("code", "text"), ("quantity", "int"), ("found_on", "date")],
                      [{"code": "EO-1", "quantity": 3, "found_on": date(2024, 3, 1)}],
                      [shapely.Point(30.123456789, 50.987654321)])
    formats.write(path, [layer])
    lines = path.read_text("utf-8").splitlines()
    assert lines[0] == "code,quantity,found_on,lat,lon"
    assert lines[1] == "#meta+code,#indicator+num+quantity,#date+found,#geo+lat,#geo+lon"
    feature = only_layer(formats.read(path))[0]
    assert feature.properties == {"code": "EO-1", "quantity": 3, "found_on": date(2024, 3, 1)}
    assert feature.geometry.equals_exact(shapely.Point(30.123456789, 50.987654321), 1e-12)
    assert feature.ref == "row 3 (EO-1)"


def test_csv_without_hxl_row_is_text_and_may_use_semicolons(tmp_path: Path) -> None:
    path = tmp_path / "finds.csv"
    path.write_text("\ufeffcode;quantity;Latitude;Longitude\nEO-1;3;50.5;30.25\n", "utf-8")
    feature = only_layer(formats.read(path))[0]
    assert feature.properties == {"code": "EO-1", "quantity": "3"}
    assert feature.geometry.equals(shapely.Point(30.25, 50.5))


def test_reprojects_to_wgs84(tmp_path: Path) -> None:
    path = tmp_path / "utm.gpkg"
    point = shapely.Point(500000, 5540000)  # on UTM zone 36N's central meridian, 33° E
    raw.write(str(path), np.array([shapely.to_wkb(point)], dtype=object), [np.array(["A"])],
              ["code"], layer="places", geometry_type="Point", crs="EPSG:32636")
    lon_lat = only_layer(formats.read(path))[0].geometry
    assert lon_lat.x == pytest.approx(33.0, abs=1e-6) and 49.9 < lon_lat.y < 50.1


# --- bad input ---------------------------------------------------------------------------


def test_geojson_not_utf8_names_the_byte(tmp_path: Path) -> None:
    path = tmp_path / "bad.geojson"
    text = json.dumps({"type": "FeatureCollection", "features": [{
        "type": "Feature", "properties": {"name": "Café"},
        "geometry": {"type": "Point", "coordinates": [30, 50]}}]}, ensure_ascii=False)
    data = text.encode("latin-1")  # é is one byte, 0xE9, which UTF-8 never has alone
    path.write_bytes(data)
    with pytest.raises(Invalid) as exc:
        formats.read(path)
    assert problems(exc) == [("file", "-", f"not valid UTF-8 at byte {data.index(0xE9)} (line 1)")]


def test_csv_not_utf8_names_row_and_byte(tmp_path: Path) -> None:
    path = tmp_path / "bad.csv"
    data = b"id,name\n#meta+id,#meta+name\n1,Kyiv\n2,Caf\xe9\n"
    path.write_bytes(data)
    with pytest.raises(Invalid) as exc:
        formats.read(path)
    assert problems(exc) == [("row 4", "-", f"not valid UTF-8 at byte {data.index(0xE9)}")]


@pytest.mark.parametrize("chunk", [1, 2, 3, 5, 1 << 22])
def test_utf8_check_finds_the_byte_across_read_slices(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, chunk: int
) -> None:
    monkeypatch.setattr(base, "_CHUNK", chunk)
    path = tmp_path / "x.csv"
    good = "né,\u20ac\n€€\n".encode()
    path.write_bytes(good + b"ok\xe2\x82")  # a euro sign cut short at the end
    assert base.find_bad_utf8(path) == (len(good) + 2, 3)
    path.write_bytes(good + b"a\xffb")
    assert base.find_bad_utf8(path) == (len(good) + 1, 3)
    path.write_bytes(good)
    assert base.find_bad_utf8(path) is None


def test_truncated_geojson_is_a_problem_not_a_traceback(tmp_path: Path) -> None:
    path = tmp_path / "cut.geojson"
    formats.write(path, [hazards()])
    path.write_bytes(path.read_bytes()[:300])
    with pytest.raises(Invalid) as exc:
        formats.read(path)
    [(record, _, reason)] = problems(exc)
    assert record == "file" and reason.startswith("could not read GeoJSON")


def _geojson(tmp_path: Path, rings: dict[str, list]) -> Path:
    features = [{"type": "Feature", "properties": {"code": code},
                 "geometry": {"type": "Polygon", "coordinates": [ring]}}
                for code, ring in rings.items()]
    path = tmp_path / "rings.geojson"
    path.write_text(json.dumps({"type": "FeatureCollection", "features": features}))
    return path


def test_unclosed_ring_is_that_features_error_only(tmp_path: Path) -> None:
    # GDAL does not close rings in GeoJSON (it warns and passes them on); GEOS refuses them.
    path = _geojson(tmp_path, {
        "ok": [[30, 50], [31, 50], [31, 51], [30, 50]],
        "open": [[30, 50], [31, 50], [31, 51], [30, 51]],
        "short": [[30, 50], [31, 50], [30, 50]],
        "bowtie": [[30, 50], [31, 51], [31, 50], [30, 51], [30, 50]],
    })
    by_code = {f.properties["code"]: f for f in only_layer(formats.read(path))}
    assert by_code["ok"].geometry is not None and by_code["ok"].geometry_error is None
    assert by_code["open"].geometry is None
    assert by_code["open"].geometry_error == "unclosed ring"
    assert by_code["open"].ref == "feature 2 (open)"
    assert by_code["short"].geometry_error.startswith("not enough points in a ring")
    # A self-intersecting polygon is read as it is; validity is the caller's check.
    assert by_code["bowtie"].geometry_error is None
    assert not by_code["bowtie"].geometry.is_valid


def test_bad_wkt_in_csv_is_that_rows_error(tmp_path: Path) -> None:
    path = tmp_path / "wkt.csv"
    path.write_text(
        "code,wkt\n#meta+code,#geo+wkt\n"
        'A,"POLYGON ((0 0, 1 0, 1 1, 0 0))"\n'
        'B,"POLYGON ((0 0, 1 0"\n'
        'C,"POLYGON ((0 0, 1 0, 1 1, 0 1))"\n'
        "D,not wkt at all\n", "utf-8")
    features = only_layer(formats.read(path))
    errors = {f.properties["code"]: f.geometry_error for f in features}
    assert errors["A"] is None
    assert errors["B"].startswith("could not parse WKT")
    assert errors["C"] == "unclosed ring"
    assert errors["D"].startswith("could not parse WKT")
    assert [f.ref for f in features] == ["row 3 (A)", "row 4 (B)", "row 5 (C)", "row 6 (D)"]


def test_ragged_csv_names_every_long_row(tmp_path: Path) -> None:
    path = tmp_path / "ragged.csv"
    path.write_text("code,name\nA,one\nB,two,extra\nC\nD,four,x,y\n", "utf-8")
    with pytest.raises(Invalid) as exc:
        formats.read(path)
    assert problems(exc) == [("row 3", "-", "3 cells but the header has 2"),
                             ("row 5", "-", "4 cells but the header has 2")]


def test_csv_without_header_row(tmp_path: Path) -> None:
    path = tmp_path / "noheader.csv"
    path.write_text("1,HZ-1,2024-01-01\n2,HZ-2,2024-01-02\n", "utf-8")
    with pytest.raises(Invalid, match="no header row"):
        formats.read(path)
    path.write_text("", "utf-8")
    with pytest.raises(Invalid, match="empty file"):
        formats.read(path)


def test_unknown_extension(tmp_path: Path) -> None:
    path = tmp_path / "hazards.xyz"
    path.write_text("whatever")
    with pytest.raises(Invalid) as exc:
        formats.read(path)
    [(record, field, reason)] = problems(exc)
    assert (record, field) == ("file", "-")
    assert reason.startswith("unsupported file type '.xyz' (supported: ")
    assert ".gpkg" in reason and ".csv" in reason


def test_file_over_the_size_limit_is_refused_before_parsing(tmp_path: Path) -> None:
    path = tmp_path / "big.geojson"
    path.write_bytes(b"{" * 5000)  # not even JSON: the limit answers first
    with pytest.raises(Invalid) as exc:
        formats.read(path, limits=ReadLimits(max_bytes=4096))
    assert problems(exc) == [("file", "-", "5000 bytes exceeds the import limit of 4096 bytes")]


def test_vertex_count_reads_headers_only() -> None:
    shapes = [
        shapely.Point(1, 2),
        shapely.LineString([(0, 0), (1, 1), (2, 0)]),
        GEOMETRIES[1],
        shapely.GeometryCollection([shapely.Point(0, 0), GEOMETRIES[0]]),
        shapely.Polygon([(0, 0, 1), (1, 0, 1), (1, 1, 1), (0, 0, 1)]),
    ]
    for shape in shapes:
        expected = shapely.get_num_coordinates(shape)
        assert vertex_count(shapely.to_wkb(shape)) == expected
        assert vertex_count(shapely.to_wkb(shape, byte_order=0, flavor="iso")) == expected
        assert vertex_count(shapely.to_wkb(shape, include_srid=True, flavor="extended")) == expected


@pytest.mark.parametrize("filename", [name for name, _ in FILES])
def test_vertex_limit_in_every_format(tmp_path: Path, filename: str) -> None:
    path = tmp_path / filename
    ring = [(30 + 0.1 * np.cos(a), 50 + 0.1 * np.sin(a)) for a in np.linspace(0, 6, 49)]
    many = shapely.Polygon(ring)  # 50 vertices with the closing one
    layer = LayerData("hazards", [("code", "text")], [{"code": "A"}, {"code": "B"}],
                      [GEOMETRIES[0], shapely.MultiPolygon([many])], "MultiPolygon")
    formats.write(path, [layer])
    small, big = only_layer(formats.read(path, limits=ReadLimits(max_vertices=10)))
    assert small.geometry_error is None and small.properties["code"] == "A"
    assert big.geometry is None and big.properties["code"] == "B"
    assert big.geometry_error == "50 vertices exceed the limit of 10"


def _polygon_wkb(vertices: int) -> bytes:
    """A Polygon of ``vertices`` points (last = first) as little-endian WKB, built by numpy."""
    xy = np.empty((vertices, 2))
    xy[:, 0] = 30 + np.arange(vertices) * 1e-8
    xy[:, 1] = 50 + (np.arange(vertices) % 2) * 1e-3
    xy[-1] = xy[0]
    return struct.pack("<BIII", 1, 3, 1, vertices) + xy.tobytes()


@pytest.mark.parametrize("filename", ["huge.gpkg", "huge.shp"])
def test_ten_million_vertices_are_refused_quickly(tmp_path: Path, filename: str) -> None:
    path = tmp_path / filename
    small = shapely.to_wkb(shapely.box(30, 50, 30.1, 50.1))
    raw.write(str(path), np.array([small, _polygon_wkb(10_000_000)], dtype=object),
              [np.array(["HZ-1", "HZ-2"], dtype=object)], ["code"], layer="hazards",
              geometry_type="Polygon", crs="EPSG:4326")
    started = time.perf_counter()
    ok, huge = only_layer(formats.read(path))
    assert time.perf_counter() - started < 5
    assert ok.geometry is not None and ok.geometry_error is None
    assert huge.geometry is None
    assert huge.geometry_error == "10000000 vertices exceed the limit of 200000"
    assert huge.ref == "feature 2 (HZ-2)"
