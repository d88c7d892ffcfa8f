"""Read paths by need-to-know: items, search, lists and counts, stats, checks, vector tiles,
OGC API Features, health."""

from __future__ import annotations

import itertools
import math
from collections import Counter
from datetime import datetime
from typing import Any

import mapbox_vector_tile
import pytest
from sqlalchemy import text

from .checking import Report, check_personal, leaks
from .rules import (
    ALL_LAYERS,
    CHILD_LAYERS,
    DERIVED_LAYERS,
    LEDGER,
    POINT_LAYERS,
    RECORD_LAYERS,
    ROLES,
    layers_with,
)
from .stores import Env

# --- Reads: item, search, list, counts ----------------------------------------------------

@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("layer", layers_with("read"))
def test_read_item(demo, layer, role):
    """GET item: 200 iff visible, else the same 404 as a record that does not exist."""
    report, oracle, client = Report(), demo.oracle, demo.client
    missing = client.get(f"/api/v1/{layer}/987654321", headers=demo.auth(role))
    for rec in oracle.targets(role, layer):
        report.cases += 1
        response = client.get(rec.url, headers=demo.auth(role))
        expected = 200 if oracle.sees(role, rec) else 404
        if response.status_code != expected:
            report.add(f"GET {rec.url} as {role}: {response.status_code}, expected {expected}")
        elif expected == 404:
            if leaks(response, rec):
                report.add(f"GET {rec.url} as {role}: 404 body names {rec.code}")
            if response.json() != _renumbered(missing.json(), 987654321, rec.id):
                report.add(f"GET {rec.url} as {role}: 404 differs from a missing record's")
        else:
            check_personal(report, oracle, role, rec, response.json(), f"GET {rec.url}")
    report.check()


def _renumbered(body: Any, old: int, new: int) -> Any:
    if isinstance(body, dict):
        return {k: _renumbered(v, old, new) for k, v in body.items()}
    return body.replace(str(old), str(new)) if isinstance(body, str) else body


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("layer", layers_with("list"))
def test_search(demo, layer, role):
    """List with q=<code> (and q=<name>): exactly the visible matches, and their total."""
    report, oracle = Report(), demo.oracle
    targets = oracle.targets(role, layer)
    names = [r.row["name"] for r in targets if r.row.get("name")]
    queries = [r.code for r in targets] + names[:3]  # every code, a few names
    for q in queries:
        report.cases += 1
        response = demo.client.get(f"/api/v1/{layer}", params={"q": q, "limit": 1000},
                                   headers=demo.auth(role))
        body = response.json()
        got, expected = {i["id"] for i in body["items"]}, oracle.search(role, layer, q)
        if got != expected or body["total"] != len(expected):
            report.add(f"GET /api/v1/{layer}?q={q} as {role}: ids {sorted(got - expected)} "
                       f"extra, {sorted(expected - got)} missing, total {body['total']} "
                       f"vs {len(expected)}")
    report.check()


def _all_pages(env: Env, layer: str, role: str, limit: int) -> tuple[list[dict], set[int]]:
    items, totals = [], set()
    url: str | None = f"/api/v1/{layer}?limit={limit}"
    while url:
        body = env.client.get(url, headers=env.auth(role)).json()
        items += body["items"]
        totals.add(body["total"])
        url = body["next"]
    return items, totals


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("layer", layers_with("list"))
def test_list_and_counts(demo, layer, role):
    """Paging a list yields exactly the visible records; totals (also per organisation) agree."""
    report, oracle = Report(), demo.oracle
    expected = {r.id: r for r in oracle.visible(role, layer)}
    items, totals = _all_pages(demo, layer, role, limit=400)
    report.cases += 1
    got = [i["id"] for i in items]
    if set(got) != set(expected) or len(got) != len(set(got)) or totals != {len(expected)}:
        report.add(f"GET /api/v1/{layer} as {role}: {sorted(set(got) - set(expected))[:20]} "
                   f"extra, {sorted(set(expected) - set(got))[:20]} missing, totals {totals} "
                   f"vs {len(expected)}")
    for item in items:
        if item["id"] in expected:
            check_personal(report, oracle, role, expected[item["id"]], item, f"list {layer}")
    if oracle.has_column(layer, "organisation_id"):
        for org, (code, _) in oracle.orgs.items():
            report.cases += 1
            body = demo.client.get(f"/api/v1/{layer}", params={"organisation": code, "limit": 1},
                                   headers=demo.auth(role)).json()
            want = sum(1 for r in expected.values() if r.org == org)
            if body["total"] != want:
                report.add(f"GET /api/v1/{layer}?organisation={code} as {role}: total "
                           f"{body['total']}, expected {want}")
    report.check()


# --- Counts and statistics ----------------------------------------------------------------

@pytest.mark.parametrize("role", ROLES)
def test_stats_match_the_oracle(demo, role):
    """/api/v1/stats equals the figures of the visible, approved hazards and finds."""
    for by_org in (False, True):
        params = {"by": "org"} if by_org else {}
        response = demo.client.get("/api/v1/stats", params=params, headers=demo.auth(role))
        assert response.status_code == 200, response.text
        body = response.json()
        expected = demo.oracle.stats(role, by_org=by_org)
        got = {g["group"]: g for g in body["groups"]} if by_org else {"all": body}
        if not by_org:
            expected.setdefault("all", {"ledger": dict.fromkeys(LEDGER, 0.0), "eo": Counter()})
        assert set(got) == set(expected), (role, sorted(got), sorted(expected))
        for name, want in expected.items():
            for c in LEDGER:
                assert got[name][c] == pytest.approx(want["ledger"][c], abs=0.05), (role, name, c)
            eo = {k: v for k, v in got[name]["eo_destroyed"].items() if v}
            assert eo == dict(want["eo"]), (role, name)


@pytest.mark.parametrize("role", ROLES)
def test_check_findings_cover_only_what_the_role_sees(demo, role):
    """/api/v1/checks: signed-in roles only; what is checked and named is what they see."""
    response = demo.client.get("/api/v1/checks", headers=demo.auth(role))
    if role == "anonymous":
        assert response.status_code == 401, response.text
        return
    assert response.status_code == 200, response.text
    body = response.json()
    for layer in ("hazards", "activities", "land_releases"):
        visible = [r for r in demo.oracle.records[layer].values() if demo.oracle.sees(role, r)]
        assert body["checked"][layer] == len(visible), (role, layer)
    for finding in body["findings"]:
        codes = {r.code for r in demo.oracle.records[finding["layer"]].values()
                 if demo.oracle.sees(role, r)}
        assert finding["record"] is None or finding["record"] in codes, (role, finding)


# --- Other read paths: vector tiles, OGC API Features, health ------------------------------

def _tile_xy(lon: float, lat: float, z: int) -> tuple[int, int]:
    n = 2 ** z
    y = (1 - math.asinh(math.tan(math.radians(lat))) / math.pi) / 2 * n
    return int((lon + 180) / 360 * n), int(y)


def _tile_layers(env: Env) -> list[str]:
    """The layers the tile routes serve (a 404 TileJSON means none)."""
    layers = (*ALL_LAYERS, *DERIVED_LAYERS)
    return [layer for layer in layers
            if env.client.get(f"/tiles/{layer}.json", headers=env.auth("admin")).status_code
            == 200]


@pytest.mark.parametrize("role", ROLES)
def test_tiles_show_only_what_one_may_see(demo, role):
    """Tiles covering the region at zoom 8 hold only features visible to ``role`` (and, for
    points, all of them)."""
    report = Report()
    for layer in _tile_layers(demo):
        report.cases += 1
        meta = demo.client.get(f"/tiles/{layer}.json", headers=demo.auth("admin")).json()
        z = max(meta["minzoom"], 8)
        west, south, east, north = meta["bounds"]
        (x0, y0), (x1, y1) = _tile_xy(west, north, z), _tile_xy(east, south, z)
        seen: set[int] = set()
        for x, y in itertools.product(range(x0, x1 + 1), range(y0, y1 + 1)):
            response = demo.client.get(f"/tiles/{layer}/{z}/{x}/{y}.pbf", headers=demo.auth(role))
            if response.status_code == 200:
                decoded = mapbox_vector_tile.decode(response.content)
                seen |= {f["id"] for v in decoded.values() for f in v["features"]}
            elif response.status_code != 204:
                report.add(f"tile {layer}/{z}/{x}/{y} as {role}: {response.status_code}")
        expected = {r.id for r in demo.oracle.visible(role, layer)}
        # Polygons and lines smaller than a cell of the tile grid may vanish at this zoom.
        missing = expected - seen if layer in POINT_LAYERS else set()
        if seen - expected or missing:
            report.add(f"tiles of {layer} as {role}: {sorted(seen - expected)[:20]} not visible, "
                       f"{sorted(missing)[:20]} missing")
    report.check()


def _ogc_ids(env: Env, role: str, collection: str) -> list[int]:
    ids: list[int] = []
    url: str | None = f"/ogc/collections/{collection}/items?limit=1000"
    while url:
        body = env.client.get(url, headers=env.auth(role)).json()
        ids += [int(f["id"]) for f in body["features"]]
        url = next((link["href"] for link in body.get("links", [])
                    if link.get("rel") == "next"), None)
    return ids


@pytest.mark.parametrize("role", ROLES)
def test_ogc_features_show_only_what_one_may_see(demo, role):
    """OGC API Features (not in the /api/v1 OpenAPI): items and single features by need-to-know."""
    report, oracle = Report(), demo.oracle
    listed = demo.client.get("/ogc/collections", headers=demo.auth("admin")).json()
    for collection in (c["id"] for c in listed["collections"]):
        assert collection in oracle.records, f"OGC collection {collection!r} has no rule"
        report.cases += 1
        got = _ogc_ids(demo, role, collection)
        expected = {r.id for r in oracle.visible(role, collection)}
        if set(got) != expected or len(got) != len(set(got)):
            report.add(f"/ogc/collections/{collection}/items as {role}: "
                       f"{sorted(set(got) - expected)[:20]} extra, "
                       f"{sorted(expected - set(got))[:20]} missing")
    for rec in oracle.targets(role, "hazards"):
        report.cases += 1
        response = demo.client.get(f"/ogc/collections/hazards/items/{rec.id}",
                                   headers=demo.auth(role))
        expected = 200 if oracle.sees(role, rec) else 404
        if response.status_code != expected or (expected == 404 and leaks(response, rec)):
            report.add(f"/ogc/collections/hazards/items/{rec.id} as {role}: "
                       f"{response.status_code}, expected {expected}")
    report.check()


@pytest.mark.parametrize("role", ROLES)
def test_review_queue_holds_what_one_may_see_and_review(demo, role):
    """GET /review-queue: exactly the submitted records (and changes proposed to approved
    ones) of the reviewed layers that the role sees and may review; nothing for others."""
    oracle = demo.oracle
    with oracle.engine.connect() as conn:
        proposed = {(t, rid) for t, rid in conn.execute(text(
            "SELECT table_name, record_id FROM pending_changes"))}
    expected = {(layer, rec.id) for layer in RECORD_LAYERS if layer not in CHILD_LAYERS
                for rec in oracle.records[layer].values()
                if (rec.status == "submitted" or (rec.status == "approved"
                                                  and (layer, rec.id) in proposed))
                and oracle.sees(role, rec) and oracle.may_write(role, "review", layer, rec)}
    found, offset = [], 0
    while True:
        body = demo.client.get("/api/v1/review-queue", params={"offset": offset, "limit": 500},
                               headers=demo.auth(role)).json()
        found += body["items"]
        offset += 500
        if offset >= body["total"]:
            break
    assert body["total"] == len(found) == len(expected)
    assert {(item["layer"], item["id"]) for item in found} == expected
    if role in ("admin", "authority"):
        assert expected, "the demo has submitted records for the reviewers"
    at = [datetime.fromisoformat(item["at"]) for item in found]
    assert at == sorted(at), "oldest first"


def test_health_answers_anyone(demo):
    """/healthz: up for anyone."""
    response = demo.client.get("/healthz")
    assert response.status_code == 200 and response.json()["status"] == "ok"
