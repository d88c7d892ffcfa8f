"""The demo generator: deterministic, and every row obeys the schema and the land-release rules."""

from __future__ import annotations

import hashlib
from collections import defaultdict
from datetime import UTC, date, datetime
from itertools import combinations

import numpy as np
import pytest
import shapely
from shapely.geometry.base import BaseGeometry

from demine.demo import DemoDataset, generate, summary
from demine.domain.geodesy import geodesic_area
from demine.storage.tables import LAYERS, VERSIONED, metadata

GEOMETRY_CLASS = {"MULTIPOLYGON": "MultiPolygon", "POINT": "Point", "LINESTRING": "LineString"}


@pytest.fixture(scope="module")
def small() -> DemoDataset:
    return generate("small", seed=1)


@pytest.fixture(scope="module")
def region() -> DemoDataset:
    return generate("region", seed=3)


@pytest.fixture(params=["small", "region"])
def dataset(request) -> DemoDataset:
    return request.getfixturevalue(request.param)


def _digest(ds: DemoDataset) -> str:
    h = hashlib.sha256()
    for name, rows in ds.rows.items():
        h.update(name.encode())
        for row in rows:
            for key in sorted(row):
                value = row[key]
                h.update(key.encode())
                h.update(value.wkb if isinstance(value, BaseGeometry) else repr(value).encode())
    return h.hexdigest()


def _by_id(ds: DemoDataset, table: str) -> dict[int, dict]:
    return {row["id"]: row for row in ds.rows[table]}


def test_same_seed_gives_identical_rows_and_another_seed_differs(small):
    assert _digest(generate("small", seed=1)) == _digest(small)
    assert _digest(generate("small", seed=2)) != _digest(small)


def test_unknown_scale_is_refused():
    with pytest.raises(ValueError, match="unknown demo scale"):
        generate("galactic")


def test_small_counts_are_in_range(small):
    counts = summary(small)
    assert list(counts) == [
        "organisations", "admin_areas", "places", "terrain_lines", "teams", "eo_models",
        "hazards", "activities", "land_releases", "eo_finds", "accidents", "casualties",
        "eore_sessions", "eore_beneficiaries", "qa_inspections", "non_conformities",
    ]
    assert counts["organisations"] == 6
    assert counts["hazards"] == 200
    assert 60 <= counts["places"] <= 120
    assert 20 <= counts["teams"] <= 40
    assert 80 <= counts["activities"] <= 180
    assert 60 <= counts["land_releases"] <= 130
    assert 500 <= counts["eo_finds"] <= 8_000
    assert 3 <= counts["accidents"] <= 10
    assert counts["eore_beneficiaries"] == 12 * counts["eore_sessions"]
    assert counts["qa_inspections"] >= 1


def test_rows_match_the_schema(dataset):
    for name, rows in dataset.rows.items():
        table = metadata.tables[name]
        columns = {c.name: c for c in table.columns}
        required = {c.name for c in table.columns if not c.nullable and c.server_default is None}
        assert [r["id"] for r in rows] == list(range(1, len(rows) + 1)), name
        for row in rows:
            assert set(row) <= set(columns), (name, set(row) - set(columns))
            missing = {k for k in required if row.get(k) is None}
            assert not missing, (name, row["id"], missing)
        if name in LAYERS:
            expected = GEOMETRY_CLASS[LAYERS[name]]
            assert {r["geom"].geom_type for r in rows} == {expected}, name
        if name in VERSIONED:
            for row in rows:
                assert row["version"] == 1 and row["recorded_by"].startswith("demo@")
                assert row["recorded_at"].tzinfo is UTC


def test_every_foreign_key_points_to_an_existing_row(dataset):
    for name, rows in dataset.rows.items():
        for fk in metadata.tables[name].foreign_keys:
            target = fk.column
            known = {r[target.name] for r in dataset.rows[target.table.name]}
            values = {r.get(fk.parent.name) for r in rows} - {None}
            assert values <= known, (name, fk.parent.name, sorted(values - known)[:5])


def test_six_core_organisations_of_every_kind(small):
    kinds = [o["kind"] for o in small.rows["organisations"]]
    assert sorted(kinds) == ["authority", "military", "ngo", "ngo", "operator", "operator"]
    codes = [o["code"] for o in small.rows["organisations"]]
    assert all(c.isupper() and len(c) <= 6 for c in codes)
    assert all(len(o["country"]) == 3 for o in small.rows["organisations"])


def test_hazards_are_valid_and_do_not_overlap(dataset):
    hazards = dataset.rows["hazards"]
    geoms = np.array([h["geom"] for h in hazards], dtype=object)
    assert shapely.is_valid(geoms).all()
    vertices = shapely.get_num_coordinates(geoms) - 1
    assert vertices.min() >= 10 and vertices.max() <= 50
    first, second = shapely.STRtree(geoms).query(geoms, predicate="intersects")
    assert (first == second).all()
    for h in hazards:
        assert h["baseline_m2"] == pytest.approx(geodesic_area(h["geom"]), abs=1e-6)
        assert h["remaining_m2"] == h["baseline_m2"] and h["status"] == "open"
        lon, lat = h["geom"].centroid.coords[0]
        assert 30 <= lon <= 33 and 47 <= lat <= 49


def test_releases_lie_within_their_hazard_and_do_not_overlap(dataset):
    hazards = _by_id(dataset, "hazards")
    per_hazard = defaultdict(list)
    for r in dataset.rows["land_releases"]:
        hazard = hazards[r["hazard_id"]]["geom"]
        assert r["geom"].is_valid and r["geom"].geom_type == "MultiPolygon"
        assert r["geom"].within(hazard)
        assert r["area_m2"] == pytest.approx(geodesic_area(r["geom"]), abs=1e-6)
        per_hazard[r["hazard_id"]].append(r)
    for hazard_id, releases in per_hazard.items():
        for a, b in combinations(releases, 2):
            assert geodesic_area(a["geom"].intersection(b["geom"])) < 0.01, hazard_id
        released = sum(r["area_m2"] for r in releases)
        assert released <= hazards[hazard_id]["baseline_m2"] + 0.01


def test_release_shares_are_plausible(region):
    hazards = _by_id(region, "hazards")
    released = defaultdict(float)
    for r in region.rows["land_releases"]:
        released[r["hazard_id"]] += r["area_m2"]
    full = [h for h, area in released.items() if area >= hazards[h]["baseline_m2"] - 0.01]
    assert 0.35 <= len(released) / len(hazards) <= 0.65
    assert 0.12 <= len(full) / len(hazards) <= 0.30


def test_activities_follow_their_hazard_and_team(dataset):
    hazards, teams = _by_id(dataset, "hazards"), _by_id(dataset, "teams")
    releases = {r["activity_id"]: r for r in dataset.rows["land_releases"]}
    assert len(releases) == len(dataset.rows["land_releases"])
    for a in dataset.rows["activities"]:
        hazard = hazards[a["hazard_id"]]
        assert a["start_date"] >= hazard["reported_on"]
        assert a["end_date"] is None or a["end_date"] >= a["start_date"]
        assert teams[a["team_id"]]["organisation_id"] == a["organisation_id"]
        assert a["geom"].within(hazard["geom"]) or a["geom"].equals(hazard["geom"])
        release = releases.get(a["id"])
        if release is None:
            assert a["released_m2"] == 0.0
            continue
        assert a["status"] == "completed" and a["release_kind"] == release["release_kind"]
        assert release["released_on"] == a["end_date"]
        assert release["recorded_at"].date() >= a["end_date"]
        assert release["organisation_id"] == a["organisation_id"]
        assert a["released_m2"] == release["area_m2"]


def test_finds_lie_inside_their_hazard_and_fit_its_contamination(dataset):
    hazards, activities = _by_id(dataset, "hazards"), _by_id(dataset, "activities")
    models = {m["code"]: m["category"] for m in dataset.rows["eo_models"]}
    finds = dataset.rows["eo_finds"]
    geoms = np.array([hazards[f["hazard_id"]]["geom"] for f in finds], dtype=object)
    xy = shapely.get_coordinates(np.array([f["geom"] for f in finds], dtype=object))
    assert shapely.contains_xy(geoms, xy[:, 0], xy[:, 1]).all()
    for f in finds[:: max(1, len(finds) // 5000)]:
        activity = activities[f["activity_id"]]
        assert activity["hazard_id"] == f["hazard_id"]
        assert f["category"] in hazards[f["hazard_id"]]["contamination"].split(",")
        assert models[f["model_code"]] == f["category"]
        assert activity["start_date"] <= f["found_on"] <= (activity["end_date"] or date.max)
        assert f["quantity"] >= 1


def test_events_are_consistent(dataset):
    sessions = _by_id(dataset, "eore_sessions")
    totals = defaultdict(int)
    for b in dataset.rows["eore_beneficiaries"]:
        totals[b["session_id"]] += b["count"]
    assert all(totals[i] == s["beneficiaries"] for i, s in sessions.items())
    accidents = _by_id(dataset, "accidents")
    for c in dataset.rows["casualties"]:
        assert accidents[c["accident_id"]]["kind"] == "accident"
    activities = _by_id(dataset, "activities")
    for q in dataset.rows["qa_inspections"]:
        activity = activities[q["activity_id"]]
        assert activity["kind"] in ("clearance", "bac") and activity["status"] == "completed"
    end = datetime(2026, 11, 1, tzinfo=UTC)
    for table in ("hazards", "activities", "eo_finds", "accidents", "qa_inspections"):
        assert max(r["recorded_at"] for r in dataset.rows[table]) < end
