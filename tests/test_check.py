"""`demine check`: data quality findings on real stores, through the command line."""

from __future__ import annotations

import json
import sqlite3
from contextlib import contextmanager

import numpy as np
import pytest
import shapely
from pyproj import Geod
from shapely.geometry import box
from sqlalchemy import text

from demine.domain.actors import Actor
from demine.services.checks import CHECKS, run_checks
from demine.services.loading import reference_data as reference
from demine.services.records import crud as records
from demine.storage import gpkg

ACTOR = Actor.system("test")


def _check(cli, expected_exit: int) -> dict:
    """Run `demine check --json`, assert its exit status, return the report."""
    result = cli("check", "--json")
    assert result.exit_code == expected_exit, result.output
    return json.loads(result.stdout)


def _found(report: dict, check: str) -> list[dict]:
    return [f for f in report["findings"] if f["check"] == check]


def _independent_area(geom) -> float:
    """Geodesic m² by pyproj.Geod, edges straight in lon/lat sampled every ~1 m."""
    geod = Geod(ellps="WGS84")
    total = 0.0
    for poly in shapely.get_parts(geom):
        for sign, ring in [(1, poly.exterior), *((-1, r) for r in poly.interiors)]:
            lon, lat = [], []
            xy = list(ring.coords)
            for (x0, y0), (x1, y1) in zip(xy[:-1], xy[1:], strict=True):
                n = max(int(np.hypot(x1 - x0, y1 - y0) / 1e-5), 1)
                lon.extend(np.linspace(x0, x1, n, endpoint=False))
                lat.extend(np.linspace(y0, y1, n, endpoint=False))
            total += sign * abs(geod.polygon_area_perimeter(lon, lat)[0])
    return total


def _gpkg_only(store_url: str) -> str:
    if not store_url.startswith("sqlite"):
        pytest.skip("GeoPackage only: simulates another tool writing into the .gpkg file")
    return store_url.removeprefix("sqlite:///")


@contextmanager
def _gis_tool(path: str):
    """A connection like a GIS tool's that knows the guard function, foreign keys off."""
    conn = sqlite3.connect(path)
    gpkg.register_functions(conn)
    conn.create_function(gpkg.GUARD_FUNCTION, 0, lambda: 1)
    conn.execute("PRAGMA foreign_keys = OFF")
    try:
        yield conn
        conn.commit()
    finally:
        conn.close()


def test_a_clean_demo_has_no_findings(demo_cli):
    """The generated demo is consistent: no errors, no warnings, exit 0; counts reported."""
    cli = demo_cli
    report = _check(cli, 0)
    assert report["findings"] == []
    assert report["counts"] == dict.fromkeys(CHECKS, 0)
    assert report["checked"]["hazards"] == 200
    assert report["checked"]["eo_finds"] > 0 and report["checked"]["audit_log"] > 0
    human = cli("check")
    assert human.exit_code == 0, human.output
    assert "Findings per check" in human.stdout and "checked 200 hazards" in human.stdout


def test_overlapping_and_duplicate_hazards_are_warnings(cli, database):
    """Overlaps name both hazards, the organisations and the geodesic shared area."""
    first = box(30.50, 48.20, 30.51, 48.21)
    second = box(30.505, 48.205, 30.515, 48.215)
    with database.transaction() as uow:
        for code in ("OPA", "OPB"):
            reference.add_organisation(uow, actor=ACTOR, code=code, name=code, kind="ngo")
        for code, org, geom in (("HZ-A", "OPA", first), ("HZ-B", "OPB", second),
                                ("HZ-C", "OPB", first)):
            records.create_record(uow, actor=ACTOR, layer="hazards", data={
                "code": code, "hazard_type": "SHA", "organisation": org,
                "reported_on": "2025-01-01", "geometry": geom})
    report = _check(cli, 0)  # warnings only
    overlaps = {(f["record"], f["other"]): f for f in _found(report, "overlap")}
    assert set(overlaps) == {("HZ-A", "HZ-B"), ("HZ-B", "HZ-C")}
    expected = _independent_area(first.intersection(second))
    finding = overlaps[("HZ-A", "HZ-B")]
    assert finding["severity"] == "warning"
    assert abs(finding["area_m2"] - expected) < 0.01
    assert "HZ-B (OPB)" in finding["detail"] and "25% of the smaller" in finding["detail"]
    assert "two operators" in finding["detail"]
    [duplicate] = _found(report, "duplicate")
    assert (duplicate["record"], duplicate["other"]) == ("HZ-A", "HZ-C")
    assert abs(duplicate["area_m2"] - _independent_area(first)) < 0.01
    assert report["counts"]["overlap"] == 2 and report["counts"]["duplicate"] == 1


# Metres to degrees near 48.2° N (for drawing test polygons; areas are checked geodesically).
_DY = 1 / 111_200.0
_DX = 1 / 74_200.0


def _metres(x0: float, y0: float, x1: float, y1: float):
    """A box given in metres east/north of 30.5° E, 48.2° N."""
    return box(30.5 + x0 * _DX, 48.2 + y0 * _DY, 30.5 + x1 * _DX, 48.2 + y1 * _DY)


def _hazard_with_releases(database, code: str, hazard, releases) -> None:
    with database.transaction() as uow:
        if not uow.conn.execute(text("SELECT count(*) FROM organisations")).scalar():
            reference.add_organisation(uow, actor=ACTOR, code="OPA", name="OPA", kind="ngo")
        records.create_record(uow, actor=ACTOR, layer="hazards", data={
            "code": code, "hazard_type": "CHA", "organisation": "OPA",
            "reported_on": "2025-01-01", "geometry": hazard})
        for activity, piece in releases:
            records.create_record(uow, actor=ACTOR, layer="activities", data={
                "code": activity, "hazard": code, "kind": "clearance", "status": "completed",
                "organisation": "OPA", "end_date": "2025-06-01", "geometry": piece,
                "released_geom": piece})


def test_narrow_strips_left_between_releases_are_gaps(cli, database):
    """Clearance drawn 0.3 m short of the hazard's edge, and two releases 0.2 m apart: the
    strips are gaps naming the releases; a 5 m strip is real remaining ground, no finding."""
    _hazard_with_releases(database, "HZ-EDGE", _metres(0, 0, 100, 100),
                          [("CLR-EDGE", _metres(0, 0, 99.7, 100))])
    _hazard_with_releases(database, "HZ-PAIR", _metres(200, 0, 300, 100),
                          [("CLR-P1", _metres(200, 0, 250, 100)),
                           ("CLR-P2", _metres(250.2, 0, 300, 100))])
    _hazard_with_releases(database, "HZ-REAL", _metres(400, 0, 500, 100),
                          [("CLR-REAL", _metres(400, 0, 495, 100))])
    report = _check(cli, 0)
    gaps = {f["record"]: f for f in _found(report, "gap")}
    assert set(gaps) == {"HZ-EDGE", "HZ-PAIR"}, report["findings"]
    edge = gaps["HZ-EDGE"]
    assert edge["severity"] == "warning" and edge["other"] == "CLR-EDGE"
    strip = _metres(99.7, 0, 100, 100)
    assert edge["area_m2"] == pytest.approx(_independent_area(strip), rel=0.02)
    assert "narrower than 0.5 m against CLR-EDGE" in edge["detail"]
    assert "CLR-P1" in gaps["HZ-PAIR"]["detail"] and "CLR-P2" in gaps["HZ-PAIR"]["detail"]
    assert gaps["HZ-PAIR"]["area_m2"] == pytest.approx(
        _independent_area(_metres(250, 0, 250.2, 100)), rel=0.02)
    assert report["counts"]["gap"] == 2 and report["counts"]["sliver"] == 0


def test_the_gap_width_is_a_setting(cli, database, monkeypatch):
    _hazard_with_releases(database, "HZ-EDGE", _metres(0, 0, 100, 100),
                          [("CLR-EDGE", _metres(0, 0, 99.7, 100))])
    monkeypatch.setenv("DEMINE_SLIVER_WIDTH_M", "0.2")
    assert _found(_check(cli, 0), "gap") == []
    monkeypatch.setenv("DEMINE_SLIVER_WIDTH_M", "10")
    [gap] = _found(_check(cli, 0), "gap")
    assert "narrower than 10 m" in gap["detail"]


def test_thin_parts_are_slivers(cli, database):
    """A hazard drawn with a stray 0.2 m-wide part, and a hazard that is one thin strip."""
    stray = _metres(0, 0, 100, 100).union(_metres(150, 0, 150.2, 60))
    _hazard_with_releases(database, "HZ-STRAY", stray, [])
    _hazard_with_releases(database, "HZ-THIN", _metres(300, 0, 300.3, 80), [])
    _hazard_with_releases(database, "HZ-FINE", _metres(500, 0, 520, 30), [])
    report = _check(cli, 0)
    slivers = {f["record"]: f for f in _found(report, "sliver")}
    assert set(slivers) == {"HZ-STRAY", "HZ-THIN"}, report["findings"]
    assert slivers["HZ-STRAY"]["layer"] == "hazards"
    assert slivers["HZ-STRAY"]["area_m2"] == pytest.approx(
        _independent_area(_metres(150, 0, 150.2, 60)), rel=0.02)
    assert "a part of" in slivers["HZ-STRAY"]["detail"]


def test_an_operator_sees_findings_only_on_what_it_may_see(database):
    """Reads are filtered by the actor: another operator's shared hazards stay out."""
    with database.transaction() as uow:
        ids = {code: reference.add_organisation(uow, actor=ACTOR, code=code, name=code,
                                                kind="ngo")["id"] for code in ("OPA", "OPB")}
        for code, org in (("HZ-A", "OPA"), ("HZ-B", "OPB")):
            records.create_record(uow, actor=ACTOR, layer="hazards", data={
                "code": code, "hazard_type": "SHA", "organisation": org,
                "reported_on": "2025-01-01", "geometry": box(30.5, 48.2, 30.51, 48.21)})
    operator = Actor("ops-a", user_id=4242, organisation_id=ids["OPA"], roles=frozenset())
    with database.read() as uow:
        mine = run_checks(uow, actor=operator)
        everything = run_checks(uow, actor=ACTOR)
    assert mine.checked["hazards"] == 1 and "audit_log" not in mine.checked
    assert mine.counts["duplicate"] == 0
    assert everything.counts["duplicate"] == 1 and everything.checked["audit_log"] > 0


def _first(conn, sql: str):
    return conn.execute(sql).fetchone()


def _wrong_remaining(conn):
    code, = _first(conn, "SELECT code FROM hazards ORDER BY id LIMIT 1")
    conn.execute("UPDATE hazards SET remaining_m2 = remaining_m2 + 1234.5 WHERE code = ?",
                 (code,))
    return "ledger_imbalance", code, "off by -1,234.50 m²"


def _dangling_find(conn):
    blob, org = _first(conn, "SELECT geom, organisation_id FROM eo_finds LIMIT 1")
    conn.execute(
        "INSERT INTO eo_finds (code, hazard_id, geom, category, found_on, organisation_id, "
        "recorded_at) VALUES ('EO-ORPHAN', 999999, ?, 'uxo', '2025-05-01', ?, "
        "'2025-05-01T00:00:00.000Z')", (blob, org))
    return "orphan", "EO-ORPHAN", "hazard_id 999999 points to no hazards row"


def _release_moved_out(conn):
    rowid, blob = _first(conn, "SELECT id, geom FROM land_releases ORDER BY id LIMIT 1")
    moved = shapely.transform(gpkg.decode(blob), lambda xy: xy + 0.01)
    conn.execute("UPDATE land_releases SET geom = ? WHERE id = ?", (gpkg.encode(moved), rowid))
    code, = _first(conn, f"SELECT a.code FROM land_releases r JOIN activities a "
                         f"ON a.id = r.activity_id WHERE r.id = {rowid}")
    return "ledger_imbalance", code, "outside hazard"


def _guard_dropped(conn):
    conn.execute("DROP TRIGGER demine_guard_hazards_update")
    return "unvalidated_edit", None, "update"


def _tally_edited(conn):
    key = _first(conn, "SELECT category, admin_area_id, organisation_id, month, review_status, "
                       "sensitivity FROM eo_tallies WHERE quantity > 0 ORDER BY 1, 2, 3, 4, 5, 6")
    conn.execute("UPDATE eo_tallies SET quantity = quantity + 7 WHERE category = ? AND "
                 "admin_area_id = ? AND organisation_id = ? AND month = ? AND review_status = ? "
                 "AND sensitivity = ?", key)
    return "tally_mismatch", "/".join(map(str, key)), "the finds add up to"


def _tally_trigger_dropped(conn):
    conn.execute("DROP TRIGGER eo_tallies_update")
    return "tally_mismatch", None, "trigger eo_tallies_update is missing"


def _audit_edited(conn):
    conn.execute("UPDATE audit_log SET actor = 'mallory' WHERE seq = 2")
    return "audit_chain", "entry 2", "does not match its hash"


@pytest.mark.parametrize("tamper", [_wrong_remaining, _dangling_find, _release_moved_out,
                                    _guard_dropped, _tally_edited, _tally_trigger_dropped,
                                    _audit_edited])
def test_writes_by_another_tool_are_errors(demo_cli, tamper):
    """A GIS tool writing with foreign keys off (guard faked): check names it, exits 1."""
    cli = demo_cli
    path = _gpkg_only(cli.url)
    with _gis_tool(path) as conn:
        check, record, words = tamper(conn)
    report = _check(cli, 1)
    matches = [f for f in _found(report, check) if f["record"] == record]
    assert matches, report["findings"]
    assert all(f["severity"] == "error" for f in matches)
    assert any(words in f["detail"] for f in matches), matches
    if check == "unvalidated_edit":
        assert [f["layer"] for f in matches] == ["hazards"]
    human = cli("check")
    assert human.exit_code == 1 and check in human.stdout


def _rewrite(database, store_url, layer: str, change, postgis_expression: str) -> str:
    """Change the geometry of a layer's first record as a tool writing directly would."""
    if store_url.startswith("sqlite"):
        with _gis_tool(store_url.removeprefix("sqlite:///")) as conn:
            code, blob = _first(conn, f"SELECT code, geom FROM {layer} ORDER BY id LIMIT 1")
            conn.execute(f"UPDATE {layer} SET geom = ? WHERE code = ?",
                         (gpkg.encode(change(gpkg.decode(blob))), code))
        return code
    with database.engine.begin() as conn:
        code = conn.execute(text(f"SELECT code FROM {layer} ORDER BY id LIMIT 1")).scalar()
        conn.execute(text(f"UPDATE {layer} SET geom = {postgis_expression} WHERE code = :code"),
                     {"code": code})
    return code


def _flip(database, store_url, layer: str) -> str:
    return _rewrite(database, store_url, layer,
                    lambda g: shapely.transform(g, lambda xy: xy[:, ::-1]),
                    "ST_FlipCoordinates(geom)")


def test_swapped_coordinates_and_strays_outside_the_gazetteer(demo_cli, demo_database):
    """Swapped lat/lon is an error; a point merely outside the gazetteer a warning."""
    cli, database, store_url = demo_cli, demo_database, demo_cli.url
    hazard = _flip(database, store_url, "hazards")
    find = _flip(database, store_url, "eo_finds")
    stray = _rewrite(database, store_url, "accidents", lambda g: shapely.Point(5.0, 5.0),
                     "ST_SetSRID(ST_MakePoint(5.0, 5.0), 4326)")
    report = _check(cli, 1)
    swapped = {(f["layer"], f["record"]) for f in _found(report, "swapped_lat_lon")}
    assert swapped == {("hazards", hazard), ("eo_finds", find)}
    [outside] = _found(report, "outside_gazetteer")
    assert (outside["layer"], outside["record"], outside["severity"]) == (
        "accidents", stray, "warning")
    assert "lon 5.00000, lat 5.00000" in outside["detail"]
