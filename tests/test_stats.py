"""`demine stats`: land-release figures, groupings, and history (`--as-of`)."""

from __future__ import annotations

import json
from collections import Counter
from datetime import UTC, date, datetime, time, timedelta

import pytest
from sqlalchemy import select

from demine.demo import generate
from demine.storage.tables import HISTORY

LEDGER = ("baseline_m2", "cancelled_m2", "reduced_m2", "cleared_m2", "remaining_m2")


@pytest.fixture
def region(cli):
    result = cli("demo", "--scale", "small", "--no-serve", "--json")
    assert result.exit_code == 0, result.output
    return cli


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
        if release["hazard_id"] in approved and release["recorded_at"] < end:
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


def test_bad_options_are_refused(region):
    assert region("stats", "--by", "planet").exit_code != 0
    assert region("stats", "--as-of", "2025-13-45").exit_code != 0
