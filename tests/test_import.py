"""`demine import`: atomic, idempotent, and precise about bad input (through the CLI)."""

from __future__ import annotations

import json

import numpy as np
import pytest
from shapely.geometry import box, mapping

from demine.formats import LayerData, write

HAZARD = {"hazard_type": "SHA", "organisation": "SEDS", "reported_on": "2025-03-01",
          "contamination": "ap_mine"}


def _feature(code: str, coords, **props) -> dict:
    return {"type": "Feature", "properties": {"code": code, **HAZARD, **props},
            "geometry": {"type": "Polygon", "coordinates": coords}}


def _square(x: float, y: float, d: float = 0.002) -> list:
    return [[[x, y], [x + d, y], [x + d, y + d], [x, y + d], [x, y]]]


def _geojson(path, features) -> str:
    path.write_text(json.dumps({"type": "FeatureCollection", "features": features}))
    return str(path)


@pytest.fixture
def region(demo_cli):
    """The CLI on a copy of the small demo region (gazetteer around lon 30–33, lat 47–49)."""
    return demo_cli


def _baseline(cli) -> float:
    result = cli("stats", "--json")
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)["baseline_m2"]


def test_valid_file_is_imported_and_resending_it_duplicates_nothing(region, tmp_path):
    path = _geojson(tmp_path / "new.geojson", [_feature("NEW-1", _square(31.0, 48.0)),
                                               _feature("NEW-2", _square(31.1, 48.0))])
    before = _baseline(region)
    first = region("import", path, "--layer", "hazards", "--json")
    assert first.exit_code == 0, first.output
    assert json.loads(first.stdout)["layers"]["hazards"]["created"] == 2
    grown = _baseline(region)
    assert grown > before
    again = region("import", path, "--layer", "hazards", "--json")
    assert again.exit_code == 0, again.output
    assert json.loads(again.stdout)["layers"]["hazards"] == {
        "created": 0, "updated": 0, "unchanged": 2}
    assert _baseline(region) == grown


def test_dry_run_reports_without_storing(region, tmp_path):
    path = _geojson(tmp_path / "dry.geojson", [_feature("DRY-1", _square(31.0, 48.0))])
    before = _baseline(region)
    result = region("import", path, "--layer", "hazards", "--dry-run", "--json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout) == {
        "dry_run": True, "layers": {"hazards": {"created": 1, "updated": 0, "unchanged": 0}}}
    assert _baseline(region) == before


BAD_RECORDS = [
    ("self-intersection", [[[31.0, 48.0], [31.01, 48.01], [31.01, 48.0], [31.0, 48.01],
                            [31.0, 48.0]]], {}, "geometry", "Self-intersection"),
    ("unclosed ring", [[[31.0, 48.0], [31.01, 48.0], [31.01, 48.01], [31.0, 48.01]]], {},
     "geometry", "unclosed ring"),
    ("swapped", _square(48.0, 31.0), {}, "geometry", "swapped"),
    ("out of range", _square(200.0, 48.0), {}, "geometry", "out of range"),
    ("projected CRS", _square(350000.0, 5320000.0, 100), {}, "geometry", "projected CRS"),
    ("far away", _square(-60.0, -10.0), {}, "geometry", "outside the gazetteer"),
    ("unknown code", _square(31.0, 48.0), {"hazard_type": "XHA"}, "hazard_type",
     "unknown code 'XHA'"),
    ("unknown organisation", _square(31.0, 48.0), {"organisation": "NOPE"}, "organisation",
     "unknown organisation 'NOPE'"),
    ("missing field", _square(31.0, 48.0), {"reported_on": None}, "reported_on",
     "required field is missing"),
    ("bad date", _square(31.0, 48.0), {"reported_on": "31/02/2025"}, "reported_on",
     "bad date"),
    ("closed with land left", _square(31.0, 48.0), {"status": "closed"}, "status",
     "unless closure_reason is given"),
]


@pytest.mark.parametrize(("name", "coords", "props", "field", "reason"), BAD_RECORDS,
                         ids=[b[0] for b in BAD_RECORDS])
def test_one_bad_record_refuses_the_whole_file(region, tmp_path, name, coords, props, field,
                                               reason):
    good = _feature("GOOD-1", _square(31.2, 48.2))
    bad = _feature("BAD-1", coords, **props)
    path = _geojson(tmp_path / "bad.geojson", [good, bad])
    before = _baseline(region)
    result = region("import", path, "--layer", "hazards")
    assert result.exit_code != 0
    lines = [line for line in result.stderr.splitlines() if line.startswith("error:")]
    assert len(lines) == 1, result.stderr
    assert "BAD-1" in lines[0] and field in lines[0] and reason in lines[0], lines[0]
    assert _baseline(region) == before  # nothing stored, not even the good record


def test_every_problem_is_listed_one_per_line(region, tmp_path):
    features = [_feature(f"BAD-{i}", _square(48.0 + i * 0.01, 31.0)) for i in range(3)]
    features.append(_feature("BAD-X", _square(31.0, 48.0), hazard_type="nope"))
    result = region("import", _geojson(tmp_path / "many.geojson", features), "--layer",
                    "hazards")
    assert result.exit_code != 0
    lines = [line for line in result.stderr.splitlines() if line.startswith("error:")]
    assert len(lines) == 4
    assert all(f"BAD-{i}" in " ".join(lines) for i in (0, 1, 2, "X"))


def test_wrong_geometry_type_and_empty_geometry(region, tmp_path):
    point = {"type": "Feature", "properties": {"code": "PT-1", **HAZARD},
             "geometry": {"type": "Point", "coordinates": [31.0, 48.0]}}
    empty = {"type": "Feature", "properties": {"code": "EMPTY-1", **HAZARD}, "geometry": None}
    result = region("import", _geojson(tmp_path / "types.geojson", [point, empty]),
                    "--layer", "hazards")
    assert result.exit_code != 0
    assert "PT-1" in result.stderr and "wrong geometry type Point" in result.stderr
    assert "EMPTY-1" in result.stderr and "empty geometry" in result.stderr


def test_release_outside_its_hazard_or_over_an_earlier_release_is_refused(region, tmp_path):
    hazard = _geojson(tmp_path / "hz.geojson", [_feature("HZ-T1", _square(31.3, 48.3, 0.01))])
    assert region("import", hazard, "--layer", "hazards").exit_code == 0
    activity = {"hazard": "HZ-T1", "kind": "clearance", "status": "completed",
                "organisation": "SEDS", "end_date": "2025-06-01"}
    acts = {"type": "FeatureCollection", "features": [
        {"type": "Feature", "properties": {"code": code, **activity},
         "geometry": mapping(box(31.3, 48.3, 31.31, 48.31))} for code in ("AC-T1", "AC-T2")]}
    (tmp_path / "ac.geojson").write_text(json.dumps(acts))
    assert region("import", str(tmp_path / "ac.geojson"), "--layer", "activities").exit_code == 0
    first = _geojson(tmp_path / "r1.geojson", [{"type": "Feature", "properties": {
        "activity": "AC-T1"}, "geometry": mapping(box(31.3, 48.3, 31.305, 48.31))}])
    assert region("import", first, "--layer", "land_releases").exit_code == 0
    overlap = _geojson(tmp_path / "r2.geojson", [{"type": "Feature", "properties": {
        "activity": "AC-T2"}, "geometry": mapping(box(31.303, 48.3, 31.308, 48.31))}])
    result = region("import", overlap, "--layer", "land_releases")
    assert result.exit_code != 0 and "already released" in result.stderr
    outside = _geojson(tmp_path / "r3.geojson", [{"type": "Feature", "properties": {
        "activity": "AC-T2"}, "geometry": mapping(box(31.305, 48.3, 31.32, 48.31))}])
    result = region("import", outside, "--layer", "land_releases")
    assert result.exit_code != 0 and "outside hazard HZ-T1" in result.stderr


def test_truncated_and_non_utf8_files_are_refused(region, tmp_path):
    good = json.dumps({"type": "FeatureCollection",
                       "features": [_feature("T-1", _square(31.0, 48.0))]})
    truncated = tmp_path / "truncated.geojson"
    truncated.write_text(good[: len(good) // 2])
    result = region("import", str(truncated), "--layer", "hazards")
    assert result.exit_code != 0 and "file" in result.stderr
    latin = tmp_path / "latin1.geojson"
    latin.write_bytes(good.replace("T-1", "Zoñe").encode("latin-1"))
    result = region("import", str(latin), "--layer", "hazards")
    assert result.exit_code != 0 and "UTF-8" in result.stderr
    csv = tmp_path / "bad.csv"
    csv.write_bytes(b"code,hazard_type,wkt\nC-1,SHA,POLYGON((\n")
    result = region("import", str(csv), "--layer", "hazards")
    assert result.exit_code != 0 and "C-1" in result.stderr


def test_unknown_file_type_and_missing_file(region, tmp_path):
    odd = tmp_path / "data.xyz"
    odd.write_text("x")
    result = region("import", str(odd))
    assert result.exit_code != 0 and "unsupported file type '.xyz'" in result.stderr
    result = region("import", str(tmp_path / "nope.geojson"))
    assert result.exit_code != 0 and "no such file" in result.stderr


@pytest.mark.slow
def test_ten_million_vertex_polygon_is_refused_by_the_limit(region, tmp_path):
    n = 10_000_000
    angle = np.linspace(0, 2 * np.pi, n, endpoint=False)
    ring = np.column_stack([31.0 + 0.01 * np.cos(angle), 48.0 + 0.01 * np.sin(angle)])
    from shapely import Polygon

    path = tmp_path / "huge.gpkg"
    write(path, [LayerData("hazards", [("code", "text"), ("hazard_type", "text")],
                           [{"code": "HUGE-1", "hazard_type": "SHA"}], [Polygon(ring)],
                           "Polygon")])
    result = region("import", str(path))
    assert result.exit_code != 0
    assert "HUGE-1" in result.stderr and "exceed the limit" in result.stderr
