"""`demine stats`: land-release figures, groupings, and history (`--as-of`)."""

from __future__ import annotations

import json
import subprocess
import sys
from collections import Counter
from datetime import UTC, date, datetime, time, timedelta

import pytest
from sqlalchemy import select, text

from demine.demo import generate
from demine.domain.actors import Actor
from demine.services.records import crud as records
from demine.storage.tables import HISTORY, admin_areas, organisations, table

LEDGER = ("baseline_m2", "cancelled_m2", "reduced_m2", "cleared_m2", "remaining_m2")


@pytest.fixture
def region(demo_cli):
    """The CLI on a private copy of the small demo region (tests/conftest.py)."""
    return demo_cli


@pytest.fixture
def database(demo_database):
    """Services on the same copy of the demo as ``region``."""
    return demo_database


def _stats(cli, *args) -> dict:
    result = cli("stats", "--json", *args)
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def _expected_as_of(day: date) -> dict:
    """The figures recomputed from the generator's rows, apart from demine's services."""
    rows = generate("small", 1).rows
    end = datetime.combine(day + timedelta(days=1), time(), tzinfo=UTC)
    approved = {h["id"]: h for h in rows["hazards"]
                if h["review_status"] == "approved" and h["recorded_at"] < end}
    figures = dict.fromkeys(LEDGER, 0.0)
    figures["baseline_m2"] = sum(h["baseline_m2"] for h in approved.values())
    for release in rows["land_releases"]:
        # a release counts once its activity is approved (the release carries its status)
        if release["hazard_id"] in approved and release["recorded_at"] < end \
                and release["review_status"] == "approved":
            figures[f"{release['release_kind']}_m2"] += release["area_m2"]
    released = figures["cancelled_m2"] + figures["reduced_m2"] + figures["cleared_m2"]
    figures["remaining_m2"] = figures["baseline_m2"] - released
    destroyed = Counter()
    for find in rows["eo_finds"]:
        if (find["review_status"] == "approved" and find["recorded_at"] < end
                and find["disposal"] != "pending"):
            destroyed[find["category"]] += find["quantity"]
    return {**figures, "eo_destroyed": destroyed}


@pytest.mark.parametrize("day", [date(2025, 3, 31), date(2025, 12, 31), date(2026, 10, 31)])
def test_as_of_reproduces_the_figures_recorded_then(region, day):
    stats = _stats(region, "--as-of", day.isoformat())
    expected = _expected_as_of(day)
    for column in LEDGER:
        assert stats[column] == pytest.approx(expected[column], abs=0.05), column
    assert {k: v for k, v in stats["eo_destroyed"].items() if v} == dict(
        expected["eo_destroyed"])


def test_ledger_balances_in_totals_and_every_group(region):
    for by in ("region", "org", "year", "month"):
        stats = _stats(region, "--by", by)
        assert stats["by"] == by and stats["groups"]
        assert stats["baseline_m2"] == pytest.approx(
            stats["cancelled_m2"] + stats["reduced_m2"] + stats["cleared_m2"]
            + stats["remaining_m2"], abs=0.05)
        if by == "region":
            for column in LEDGER:
                assert sum(g[column] for g in stats["groups"]) == pytest.approx(
                    stats[column], abs=0.1)
                for g in stats["groups"]:
                    assert g["baseline_m2"] == pytest.approx(
                        g["cancelled_m2"] + g["reduced_m2"] + g["cleared_m2"]
                        + g["remaining_m2"], abs=0.05)
        if by in ("year", "month"):
            assert stats["groups"][-1]["remaining_m2"] == pytest.approx(
                stats["remaining_m2"], abs=0.5)
    totals = _stats(region)
    assert totals["totals"]["baseline_m2"] == totals["baseline_m2"] > 0
    assert sum(totals["eo_destroyed"].values()) > 0


def test_an_update_keeps_the_previous_version_and_past_figures(region, database, tmp_path):
    before = _stats(region)
    yesterday = (datetime.now(UTC).date() - timedelta(days=1)).isoformat()
    as_of_before = _stats(region, "--as-of", yesterday)
    export = tmp_path / "hazards.geojson"
    assert region("export", "--format", "geojson", "--out", str(export), "--layer",
                  "hazards").exit_code == 0
    data = json.loads(export.read_text())
    first = next(f for f in data["features"] if f["properties"]["baseline_m2"]
                 == f["properties"]["remaining_m2"] and f["properties"]["review_status"]
                 == "approved")
    x, y = first["geometry"]["coordinates"][0][0][0]
    first["geometry"] = {"type": "Polygon", "coordinates": [[
        [x, y], [x + 0.003, y], [x + 0.003, y + 0.003], [x, y + 0.003], [x, y]]]}
    data["features"] = [first]
    export.write_text(json.dumps(data))
    result = region("import", str(export), "--json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["layers"]["hazards"]["updated"] == 1
    after = _stats(region)
    assert after["baseline_m2"] != before["baseline_m2"]
    assert _stats(region, "--as-of", yesterday) == as_of_before
    history = HISTORY["hazards"]
    with database.read() as uow:
        old = uow.conn.execute(select(history).where(
            history.c.code == first["properties"]["code"])).mappings().all()
    assert [row["baseline_m2"] for row in old] == [first["properties"]["baseline_m2"]]


def test_the_console_script_prints_what_the_cli_prints(region):
    """The installed entry point (collector paused while loading) gives the same figures."""
    script = [sys.executable, "-c", "import sys; from demine.cli.entry import main; "
              "sys.argv[0] = 'demine'; main()"]
    for by in ("region", "month"):
        done = subprocess.run([*script, "stats", "--json", "--by", by, "--database-url",
                               region.url], capture_output=True, text=True, timeout=120)
        assert done.returncode == 0, done.stderr
        assert json.loads(done.stdout) == _stats(region, "--by", by)


def test_bad_options_are_refused(cli):
    """Options are checked before anything is read: an empty store is enough."""
    assert cli("stats", "--by", "planet").exit_code != 0
    assert cli("stats", "--as-of", "2025-13-45").exit_code != 0
    assert cli("stats", "--by", "region").exit_code == 0  # the same store takes a good option


def test_current_figures_equal_the_generators_rows(region):
    """Today's figures (EO from the tallies the database keeps) match the recomputation."""
    stats = _stats(region)
    expected = _expected_as_of(datetime.now(UTC).date())
    for column in LEDGER:
        assert stats[column] == pytest.approx(expected[column], abs=0.05), column
    assert {k: v for k, v in stats["eo_destroyed"].items() if v} == dict(
        expected["eo_destroyed"])
    by_month = _stats(region, "--by", "month")
    assert sum(sum(g["eo_destroyed"].values()) for g in by_month["groups"]) == sum(
        expected["eo_destroyed"].values())


def _eo_by_region(database) -> dict[str, int]:
    """Approved EO destroyed per region, straight from the finds (not the tallies)."""
    with database.read() as uow:
        areas = {r.id: r for r in uow.conn.execute(
            text("SELECT id, name, level, parent_id FROM admin_areas"))}
        finds = uow.conn.execute(text(
            "SELECT h.admin_area_id, f.quantity FROM eo_finds f "
            "LEFT JOIN hazards h ON h.id = f.hazard_id WHERE f.review_status = 'approved' "
            "AND f.disposal IN ('destroyed_in_situ', 'removed', 'rendered_safe')")).all()
    totals: Counter = Counter()
    for area_id, quantity in finds:
        node = areas.get(area_id)
        while node is not None and node.level > 1 and node.parent_id in areas:
            node = areas[node.parent_id]
        totals[node.name if node is not None else "unassigned"] += quantity
    return {k: v for k, v in totals.items() if v}


def test_eo_tallies_follow_every_kind_of_write(region, database):
    """Create, edit, re-dispose, un-approve, move the hazard, delete: the statistics (which
    read the tallies) always equal the finds, and `demine check` finds no tally mismatch."""
    actor = Actor.system("test")
    hazards = table("hazards")
    with database.read() as uow:
        a_id, a_code, a_org, a_area, a_geom = uow.conn.execute(
            select(hazards.c.id, hazards.c.code, organisations.c.code, hazards.c.admin_area_id,
                   hazards.c.geom).join(organisations)
            .where(hazards.c.review_status == "approved").order_by(hazards.c.id).limit(1)).one()
        a_region = uow.conn.execute(select(admin_areas.c.parent_id).where(
            admin_areas.c.id == a_area)).scalar_one()
        b_area = uow.conn.execute(  # a district of another region
            select(admin_areas.c.code).where(admin_areas.c.level == 2,
                                             admin_areas.c.parent_id != a_region)
            .order_by(admin_areas.c.id).limit(1)).scalar_one()

    def agree():
        groups = _stats(region, "--by", "region")["groups"]
        seen = {g["group"]: sum(g["eo_destroyed"].values()) for g in groups}
        assert {k: v for k, v in seen.items() if v} == _eo_by_region(database)
        report = json.loads(region("check", "--json").stdout)
        assert report["counts"]["tally_mismatch"] == 0, report["findings"]

    geometry = a_geom.representative_point()
    with database.transaction() as uow:
        find = records.create_record(uow, actor=actor, layer="eo_finds", data={
            "hazard": a_code, "category": "uxo", "quantity": 3, "disposal": "destroyed_in_situ",
            "found_on": "2026-01-15", "organisation": a_org, "geometry": geometry})
    agree()
    steps = [
        ("eo_finds", find["id"], {"quantity": 5, "category": "at_mine"}),
        ("eo_finds", find["id"], {"disposal": "pending"}),
        ("eo_finds", find["id"], {"disposal": "removed", "found_on": "2024-12-31"}),
        ("eo_finds", find["id"], {"review_status": "submitted"}),
        ("eo_finds", find["id"], {"review_status": "approved", "sensitivity": "restricted"}),
        ("hazards", a_id, {"admin_area": b_area}),
    ]
    for layer, record_id, changes in steps:
        with database.transaction() as uow:
            records.update_record(uow, actor=actor, layer=layer, record_id=record_id,
                                  changes=changes)
        agree()
    with database.transaction() as uow:
        records.delete_record(uow, actor=actor, layer="eo_finds", record_id=find["id"])
    agree()
