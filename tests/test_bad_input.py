"""Bad input that used to slip through or be unclear, refused by name: through the CLI and the
HTTP API, on both stores (issue 10, item 8)."""

from __future__ import annotations

import io
import json
import sqlite3
import warnings
from pathlib import Path

import numpy as np
import pytest
from conftest import Cli
from fastapi.testclient import TestClient

from demine.settings import Settings
from demine.web.app import create_app

HAZARD = {"hazard_type": "SHA", "organisation": "SEDS", "reported_on": "2025-03-01",
          "contamination": "ap_mine"}


def _square(x: float, y: float, d: float = 0.002) -> list:
    return [[[x, y], [x + d, y], [x + d, y + d], [x, y + d], [x, y]]]


def _feature(code: str, coords, **props) -> dict:
    return {"type": "Feature", "properties": {"code": code, **HAZARD, **props},
            "geometry": {"type": "Polygon", "coordinates": coords}}


def _geojson(path: Path, features) -> str:
    path.write_text(json.dumps({"type": "FeatureCollection", "features": features}))
    return str(path)


@pytest.fixture
def region(demo_cli):
    """The CLI on a copy of the small demo region (gazetteer around lon 30–33, lat 47–49)."""
    return demo_cli


@pytest.fixture
def api(region, demo_template):
    """An HTTP client of the region's store, and an operator's bearer headers."""
    app = create_app(Settings(database_url=region.url))
    with TestClient(app, raise_server_exceptions=False) as client:
        yield client, demo_template.bearer("operator")
    app.state.database.dispose()


def _count(cli, layer: str = "hazards") -> int:
    result = cli("export", "--format", "geojson", "--layer", layer, "--out", "/dev/null",
                 "--json")
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)["layers"][layer]


def _error(response) -> dict:
    assert response.status_code == 422, response.text
    return response.json()["error"]


# --- 1. the same code twice in one file -----------------------------------------------------

def test_a_code_twice_in_a_file_is_refused_naming_both_rows(region, tmp_path):
    path = _geojson(tmp_path / "twice.geojson", [
        _feature("TWICE-1", _square(31.0, 48.0)), _feature("OTHER-1", _square(31.1, 48.0)),
        _feature("TWICE-1", _square(31.2, 48.0), name="second copy")])
    before = _count(region)
    result = region("import", path, "--layer", "hazards")
    assert result.exit_code == 3
    assert "hazard TWICE-1 (features 1 and 3): code: appears twice in the file" in result.stderr
    assert _count(region) == before  # atomic: OTHER-1 not stored either


# --- 2. dates in the future -----------------------------------------------------------------

def test_future_dates_are_refused_on_import(region, tmp_path):
    path = _geojson(tmp_path / "future.geojson", [
        _feature("FUTURE-1", _square(31.0, 48.0), reported_on="2031-01-02"),
        _feature("PAST-1", _square(31.1, 48.0))])
    before = _count(region)
    result = region("import", path, "--layer", "hazards")
    assert result.exit_code == 3
    assert "FUTURE-1): reported_on: 2031-01-02 is in the future" in result.stderr
    assert _count(region) == before


def test_future_dates_are_refused_by_the_api_but_planned_work_may_be_dated_ahead(api):
    client, headers = api
    site = {"type": "Polygon", "coordinates": _square(31.55, 48.0)}
    body = {"name": "Ahead", "hazard_type": "SHA", "reported_on": "2031-01-02", "geometry": site}
    error = _error(client.post("/api/v1/hazards", json=body, headers=headers))
    assert error["field"] == "reported_on" and "2031-01-02 is in the future" in error["message"]
    hazard = client.post("/api/v1/hazards", json={**body, "reported_on": "2025-01-02"},
                         headers=headers)
    assert hazard.status_code == 201, hazard.text
    activity = {"hazard_id": hazard.json()["id"], "kind": "nts", "start_date": "2031-02-01",
                "geometry": site}
    error = _error(client.post("/api/v1/activities", json={**activity, "status": "ongoing"},
                               headers=headers))
    assert error["field"] == "start_date" and "in the future" in error["message"]
    planned = client.post("/api/v1/activities", json={**activity, "status": "planned"},
                          headers=headers)
    assert planned.status_code == 201, planned.text


# --- 3. a 2-million-vertex polygon in GeoJSON -----------------------------------------------

def test_two_million_vertex_geojson_polygon_is_refused_by_name(region, tmp_path):
    n = 2_000_000
    angle = np.linspace(0, 2 * np.pi, n, endpoint=False)
    ring = np.column_stack([31.0 + 0.01 * np.cos(angle), 48.0 + 0.01 * np.sin(angle)])
    coords = io.StringIO()
    np.savetxt(coords, np.vstack([ring, ring[:1]]), fmt="[%.7f,%.7f]", newline=",")
    small = json.dumps(_feature("SMALL-1", _square(31.5, 48.5)))
    huge = json.dumps(_feature("HUGE-2", [[]])).replace(
        '"coordinates": [[]]', f'"coordinates": [[{coords.getvalue().rstrip(",")}]]')
    path = tmp_path / "huge.geojson"
    path.write_text(f'{{"type": "FeatureCollection", "features": [{small}, {huge}]}}')
    result = region("import", str(path), "--layer", "hazards")
    assert result.exit_code == 3, result.output
    assert "feature 2 (HUGE-2): geometry: 2000001 vertices exceed the limit of 200000" in \
        result.stderr
    assert "OGR_GEOJSON_MAX_OBJ_SIZE" not in result.stderr


# --- 4. NaN and infinite coordinates --------------------------------------------------------

@pytest.mark.parametrize(("value", "reason"), [("NaN", "coordinate is not a number"),
                                               ("Infinity", "coordinate is not finite")])
@pytest.mark.parametrize("where", ["closing", "middle"])
def test_nan_and_infinite_coordinates_are_named_on_import(region, tmp_path, value, reason,
                                                         where):
    ring = [["X", 48.0], [31.002, 48.0], [31.002, 48.002], [31.0, 48.002], ["X", 48.0]]
    if where == "middle":
        ring = [[31.0, 48.0], ["X", 48.0], [31.002, 48.002], [31.0, 48.0]]
    text = json.dumps({"type": "FeatureCollection", "features": [
        _feature("ODD-1", [ring])]}).replace('"X"', value)
    path = tmp_path / "odd.geojson"
    path.write_text(text)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        result = region("import", str(path), "--layer", "hazards")
    assert result.exit_code == 3, result.output
    assert f"feature 1 (ODD-1): geometry: {reason}" in result.stderr
    assert "Warning" not in result.output


@pytest.mark.parametrize(("value", "reason"), [(float("nan"), "coordinate is not a number"),
                                               (float("inf"), "coordinate is not finite")])
def test_nan_and_infinite_coordinates_are_named_by_the_api(api, value, reason):
    client, headers = api
    for ring in ([[value, 48.0], [31.002, 48.0], [31.002, 48.002], [value, 48.0]],
                 [[31.0, 48.0], [value, 48.0], [31.002, 48.002], [31.0, 48.0]]):
        body = json.dumps({"name": "Odd", "hazard_type": "SHA", "reported_on": "2025-01-02",
                           "geometry": {"type": "Polygon", "coordinates": [ring]}})
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            response = client.post("/api/v1/hazards", content=body,
                                   headers={**headers, "Content-Type": "application/json"})
        error = _error(response)
        assert error["field"] == "geometry" and reason in error["message"], error


# --- 5. date query parameters ---------------------------------------------------------------

@pytest.mark.parametrize(("path", "name", "value"), [
    ("/api/v1/stats", "as_of", "9999-12-31"),
    ("/api/v1/stats", "as_of", "0001-01-01"),
    ("/api/v1/stats", "as_of", "2031-01-02"),
    ("/api/v1/stats", "as_of", "yesterday"),
    ("/api/v1/hazards", "date_from", "9999-12-31"),
    ("/api/v1/hazards", "date_to", "1066-10-14"),
    ("/ogc/collections/hazards/items", "datetime", "9999-12-31"),
    ("/ogc/collections/hazards/items", "datetime", "0001-01-01/.."),
    ("/ogc/collections/hazards/items", "reported_on", "9999-12-31"),
])
def test_date_parameters_out_of_range_are_client_errors(api, path, name, value):
    client, headers = api
    response = client.get(path, params={name: value}, headers=headers)
    assert 400 <= response.status_code < 500, response.text
    error = response.json()["error"]
    assert error["code"] and error["message"] and error["field"] == name, error


# --- 6. --db naming a file that is not a demine store ---------------------------------------

def _not_stores(tmp_path: Path) -> dict[str, tuple[Path, str]]:
    text = tmp_path / "notes.gpkg"
    text.write_text("hello\n")
    empty = tmp_path / "empty.gpkg"
    empty.touch()
    png = tmp_path / "map.gpkg"
    png.write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(64))
    other = tmp_path / "other.sqlite"
    with sqlite3.connect(other) as conn:
        conn.execute("CREATE TABLE notes (body TEXT)")
    return {"text": (text, "is a text file, not a SQLite database"),
            "empty": (empty, "is an empty file, not a demine store"),
            "png": (png, "is a PNG image, not a SQLite database"),
            "sqlite": (other, "is a SQLite database but not a demine store"),
            "missing": (tmp_path / "missing.gpkg", "does not exist")}


@pytest.mark.parametrize("command", [["stats"], ["check"], ["export", "--out", "x.gpkg"],
                                     ["import", "x.geojson"], ["audit", "verify"]])
def test_db_that_is_not_a_store_gets_a_clear_message(tmp_path, command):
    cli = Cli("")
    for kind, (path, message) in _not_stores(tmp_path).items():
        before = path.read_bytes() if path.exists() else None
        result = cli.raw(*command, "--db", str(path))
        assert result.exit_code == 8, (kind, result.output)
        assert result.exception is None or isinstance(result.exception, SystemExit), kind
        assert message in result.stderr and str(path) in result.stderr, (kind, result.stderr)
        assert (path.read_bytes() if path.exists() else None) == before, kind


def test_init_refuses_a_file_that_is_not_sqlite_and_creates_a_missing_one(tmp_path):
    cli = Cli("")
    stores = _not_stores(tmp_path)
    for kind in ("text", "png"):
        path, message = stores[kind]
        result = cli.raw("init", "--db", str(path))
        assert result.exit_code == 8 and message in result.stderr, (kind, result.output)
    fresh = stores["missing"][0]
    assert cli.raw("init", "--db", str(fresh)).exit_code == 0
    assert cli.raw("stats", "--db", str(fresh)).exit_code == 0


def test_positions_may_carry_an_altitude(api):
    """GeoJSON positions from GPS receivers have a third value: it is accepted, not refused."""
    client, headers = api
    ring = [[31.0, 48.0, 120.5], [31.002, 48.0, 121.0], [31.002, 48.002, 119.0],
            [31.0, 48.0, 120.5]]
    response = client.post("/api/v1/hazards", headers=headers, json={
        "name": "On the slope", "hazard_type": "SHA", "reported_on": "2025-01-02",
        "geometry": {"type": "Polygon", "coordinates": [ring]}})
    assert response.status_code == 201, response.text
