"""The JSON API over HTTP: CRUD with ETags, land release, lists and filters, review, hardening.

Every test runs on a copy of the small demo region (GeoPackage, and PostGIS when
DEMINE_TEST_DATABASE_URL is set), built once per session (``demo_url`` in conftest.py).
"""

from __future__ import annotations

import httpx
import pytest
import shapely
from fastapi.testclient import TestClient
from pyproj import Geod
from shapely.geometry import box, mapping, shape
from sqlalchemy import select

from demine.settings import Settings
from demine.storage.database import Database
from demine.storage.tables import HISTORY
from demine.web.app import create_app

ROLES = ("admin", "authority", "operator", "reporter", "viewer")
FORBIDDEN = ("Traceback", "sqlalchemy", "SELECT", "sqlite")
MERGE_PATCH = {"Content-Type": "application/merge-patch+json"}


# --- stores: a private copy of the session's demo template per test (tests/conftest.py) -----

def _no_internals(response: httpx.Response) -> None:
    """Checked on every response: no server error, no stack trace or SQL leaks."""
    response.read()
    for word in FORBIDDEN:
        assert word not in response.text, f"{response.request.url} leaks {word!r}"
    assert response.status_code < 500, f"{response.request.url}: {response.text[:300]}"


def _client(settings: Settings):
    app = create_app(settings)
    client = TestClient(app, raise_server_exceptions=False)
    client.event_hooks["response"] = [_no_internals]
    return app, client


@pytest.fixture
def api(demo_url):
    """An in-process HTTP client of the app serving the test's store."""
    app, client = _client(Settings(database_url=demo_url))
    with client:
        yield client
    app.state.database.dispose()


@pytest.fixture
def as_role(demo_template):
    """Bearer headers of a demo user, by role."""
    return demo_template.bearer


@pytest.fixture
def operator(as_role):
    return as_role("operator")


# --- geometry and record helpers ------------------------------------------------------------

def geodesic_m2(geom) -> float:
    """Independent area: pyproj.Geod over edges densified to ~1 m."""
    area, _ = Geod(ellps="WGS84").geometry_area_perimeter(shapely.segmentize(geom, 1e-5))
    return abs(area)


def site(api: TestClient, headers, n: int = 0) -> tuple[float, float]:
    """A point well inside one of the gazetteer's districts (a different one per n)."""
    areas = api.get("/api/v1/admin_areas", params={"limit": 1000}, headers=headers).json()
    districts = sorted((a for a in areas["items"] if a["level"] == 2), key=lambda a: a["id"])
    point = shape(districts[n % len(districts)]["geometry"]).representative_point()
    return point.x, point.y


def square(x: float, y: float, size: float = 0.002):
    return box(x, y, x + size, y + size)


def new_hazard(api, headers, n: int = 0, **fields) -> dict:
    x, y = site(api, headers, n)
    body = {"name": "Orchard north of the dam", "hazard_type": "SHA",
            "reported_on": "2025-05-02", "geometry": mapping(square(x, y)), **fields}
    response = api.post("/api/v1/hazards", json=body, headers=headers)
    assert response.status_code == 201, response.text
    return response.json()


def new_activity(hazard: dict, **fields) -> dict:
    return {"hazard_id": hazard["id"], "kind": "nts", "status": "planned",
            "start_date": "2025-06-01", "geometry": hazard["geometry"], **fields}


def new_find(hazard: dict, **fields) -> dict:
    point = shape(hazard["geometry"]).representative_point()
    return {"hazard_id": hazard["id"], "category": "ap_mine", "quantity": 2, "depth_cm": 5,
            "found_on": "2025-06-03", "geometry": mapping(point), **fields}


def walk(api, layer: str, headers, limit: int = 1000, **params) -> list[dict]:
    """Every item of a list, following `next` links."""
    items, url = [], f"/api/v1/{layer}"
    query = {"limit": limit, **params}
    while url:
        response = api.get(url, params=query, headers=headers)
        assert response.status_code == 200, response.text
        page = response.json()
        items += page["items"]
        url, query = page["next"], None
    return items


def history(url: str, layer: str, record_id: int) -> list[dict]:
    """The archived versions of a record, oldest first (read from the store)."""
    database = Database(Settings(database_url=url))
    try:
        hist = HISTORY[layer]
        with database.read() as uow:
            rows = uow.conn.execute(select(hist).where(hist.c.id == record_id)
                                    .order_by(hist.c.version)).mappings().all()
            return [dict(r) for r in rows]
    finally:
        database.dispose()


# --- CRUD with ETag / If-Match --------------------------------------------------------------

def _hazard_body(api, headers):
    x, y = site(api, headers, 1)
    return {"name": "Ridge trench", "hazard_type": "CHA", "reported_on": "2025-04-01",
            "contamination": "ap_mine,at_mine", "geometry": mapping(square(x, y))}


def _activity_body(api, headers):
    return new_activity(new_hazard(api, headers, 2))


def _find_body(api, headers):
    return new_find(new_hazard(api, headers, 3))


BODIES = {"hazards": (_hazard_body, {"name": "Ridge trench (resurveyed)"}),
          "activities": (_activity_body, {"depth_cm": 20, "status": "ongoing"}),
          "eo_finds": (_find_body, {"quantity": 3, "disposal": "destroyed_in_situ"})}


@pytest.mark.parametrize("layer", BODIES)
def test_crud_with_etags(api, operator, layer):
    make_body, changes = BODIES[layer]
    created = api.post(f"/api/v1/{layer}", json=make_body(api, operator), headers=operator)
    assert created.status_code == 201, created.text
    location, etag = created.headers["Location"], created.headers["ETag"]
    assert location == f"/api/v1/{layer}/{created.json()['id']}" and etag

    fetched = api.get(location, headers=operator)
    assert fetched.status_code == 200
    assert fetched.json() == created.json() and fetched.headers["ETag"] == etag
    assert fetched.json()["version"] == 1 and fetched.json()["organisation"] == "SEDS"

    assert api.patch(location, json=changes, headers={**operator, **MERGE_PATCH}).status_code \
        == 428
    patched = api.patch(location, json=changes, headers={**operator, **MERGE_PATCH,
                                                         "If-Match": etag})
    assert patched.status_code == 200, patched.text
    assert patched.json()["version"] == 2 and patched.headers["ETag"] != etag
    assert {k: patched.json()[k] for k in changes} == changes
    assert api.get(location, headers=operator).headers["ETag"] == patched.headers["ETag"]

    stale = api.patch(location, json=changes, headers={**operator, **MERGE_PATCH,
                                                       "If-Match": etag})
    assert stale.status_code == 412
    assert api.delete(location, headers={**operator, "If-Match": etag}).status_code == 412
    assert api.delete(location, headers=operator).status_code == 428

    deleted = api.delete(location, headers={**operator, "If-Match": patched.headers["ETag"]})
    assert deleted.status_code == 204
    assert api.get(location, headers=operator).status_code == 404


def test_merge_patch_null_clears_a_field_and_keeps_the_others(api, operator):
    hazard = new_hazard(api, operator, evidence_direct="Tripwire seen")
    location = f"/api/v1/hazards/{hazard['id']}"
    etag = api.get(location, headers=operator).headers["ETag"]
    patched = api.patch(location, json={"evidence_direct": None},
                        headers={**operator, **MERGE_PATCH, "If-Match": etag})
    assert patched.status_code == 200, patched.text
    assert patched.json()["evidence_direct"] is None
    assert patched.json()["name"] == hazard["name"]
    assert patched.json()["geometry"] == hazard["geometry"]


def test_unknown_fields_are_refused_naming_the_field(api, operator):
    """Bodies are closed (additionalProperties: false): a misspelt field is an error, not a
    silently dropped value."""
    created = api.post("/api/v1/hazards", json={**_hazard_body(api, operator), "colour": "red"},
                       headers=operator)
    assert _error(created)["field"] == "colour"
    hazard = new_hazard(api, operator)
    location = f"/api/v1/hazards/{hazard['id']}"
    etag = api.get(location, headers=operator).headers["ETag"]
    patched = api.patch(location, json={"nmae": "typo"},
                        headers={**operator, **MERGE_PATCH, "If-Match": etag})
    assert _error(patched)["field"] == "nmae"
    assert api.get(location, headers=operator).headers["ETag"] == etag  # nothing stored
    document = api.get("/api/v1/openapi.json").json()["components"]["schemas"]
    assert document["HazardCreate"]["additionalProperties"] is False
    assert document["HazardUpdate"]["additionalProperties"] is False


def test_deleting_a_referenced_hazard_is_a_conflict(api, operator):
    hazard = new_hazard(api, operator, n=10)
    location = f"/api/v1/hazards/{hazard['id']}"
    assert api.post("/api/v1/activities", json=new_activity(hazard),
                    headers=operator).status_code == 201
    etag = api.get(location, headers=operator).headers["ETag"]
    response = api.delete(location, headers={**operator, "If-Match": etag})
    assert response.status_code == 409 and response.json()["error"]["code"] == "conflict"
    assert api.get(location, headers=operator).headers["ETag"] == etag


def test_operators_cannot_approve_or_give_away_their_records(api, operator, as_role):
    hazard = new_hazard(api, operator, n=11, review_status="approved")
    assert hazard["review_status"] == "submitted"
    location = f"/api/v1/hazards/{hazard['id']}"
    etag = api.get(location, headers=operator).headers["ETag"]
    patched = api.patch(location, json={"review_status": "approved"},
                        headers={**operator, **MERGE_PATCH, "If-Match": etag})
    assert patched.status_code == 200 and patched.json()["review_status"] == "submitted"
    moved = api.patch(location, json={"organisation_id": "NDC"},
                      headers={**operator, **MERGE_PATCH, "If-Match": patched.headers["ETag"]})
    assert moved.status_code == 403
    viewer = as_role("viewer")
    assert api.patch(location, json={"name": "x"}, headers={**viewer, **MERGE_PATCH,
                                                             "If-Match": "*"}).status_code \
        in (403, 404)


# --- land release booked by activities ------------------------------------------------------

LEDGER = ("cancelled_m2", "reduced_m2", "cleared_m2")


def _balance(hazard: dict) -> None:
    released = sum(hazard[c] for c in LEDGER)
    assert hazard["baseline_m2"] == pytest.approx(released + hazard["remaining_m2"], abs=1e-6)


def test_activity_release_books_on_the_hazard_ledger(api, operator, as_role):
    hazard = new_hazard(api, operator, n=4)
    area = shape(hazard["geometry"])
    x0, y0, x1, y1 = area.bounds
    west, east_quarter = box(x0, y0, (x0 + x1) / 2, y1), box((x0 + x1) / 2, y0, x1, (y0 + y1) / 2)
    baseline = hazard["baseline_m2"]
    assert baseline == pytest.approx(geodesic_m2(area), rel=1e-6)

    clearance = api.post("/api/v1/activities", headers=operator, json=new_activity(
        hazard, kind="clearance", status="completed", end_date="2025-06-20", depth_cm=30,
        geometry=mapping(west), released_geometry=mapping(west)))
    assert clearance.status_code == 201, clearance.text
    assert clearance.json()["released_m2"] == pytest.approx(geodesic_m2(west), rel=1e-6)
    survey = api.post("/api/v1/activities", headers=operator, json=new_activity(
        hazard, kind="nts", status="completed", end_date="2025-06-22",
        geometry=mapping(east_quarter), released_geometry=mapping(east_quarter)))
    assert survey.status_code == 201, survey.text
    # Submitted by an operator: pending, so the hazard's ledger has not moved yet.
    pending = api.get(f"/api/v1/hazards/{hazard['id']}", headers=operator).json()
    assert pending["cleared_m2"] == 0 and pending["cancelled_m2"] == 0
    assert pending["version"] == hazard["version"]
    authority = as_role("authority")
    for activity in (clearance, survey):
        location = activity.headers["Location"]
        etag = api.get(location, headers=authority).headers["ETag"]
        approved = api.post(f"{location}/review", json={"decision": "approve"},
                            headers={**authority, "If-Match": etag})
        assert approved.status_code == 200, approved.text

    after = api.get(f"/api/v1/hazards/{hazard['id']}", headers=operator).json()
    assert after["baseline_m2"] == pytest.approx(baseline, rel=1e-9)
    assert after["cleared_m2"] == pytest.approx(geodesic_m2(west), rel=1e-6)
    assert after["cancelled_m2"] == pytest.approx(geodesic_m2(east_quarter), rel=1e-6)
    assert after["reduced_m2"] == 0
    assert after["remaining_m2"] == pytest.approx(
        baseline - geodesic_m2(west) - geodesic_m2(east_quarter), rel=1e-6)
    assert after["status"] == "worked_on" and after["version"] > hazard["version"]
    _balance(after)

    # Deleting the approved clearance waits for the authority, then undoes its release.
    location = clearance.headers["Location"]
    etag = api.get(location, headers=operator).headers["ETag"]
    assert api.delete(location, headers={**operator, "If-Match": etag}).status_code == 202
    assert api.get(f"/api/v1/hazards/{hazard['id']}", headers=operator).json() == after
    etag = api.get(location, headers=authority).headers["ETag"]
    assert api.post(f"{location}/review", json={"decision": "approve"},
                    headers={**authority, "If-Match": etag}).status_code == 200
    undone = api.get(f"/api/v1/hazards/{hazard['id']}", headers=operator).json()
    assert undone["cleared_m2"] == pytest.approx(0, abs=1e-6)
    assert undone["cancelled_m2"] == pytest.approx(after["cancelled_m2"], rel=1e-9)
    _balance(undone)


def test_release_outside_the_hazard_is_refused_and_nothing_stored(api, operator):
    hazard = new_hazard(api, operator, n=5)
    x0, y0, x1, y1 = shape(hazard["geometry"]).bounds
    outside = box(x1 + 0.001, y0, x1 + 0.003, y1)
    before = api.get(f"/api/v1/hazards/{hazard['id']}", headers=operator)
    count = api.get("/api/v1/activities", params={"limit": 1}, headers=operator).json()["total"]

    response = api.post("/api/v1/activities", headers=operator, json=new_activity(
        hazard, kind="clearance", status="completed", end_date="2025-06-20",
        released_geometry=mapping(outside)))
    assert response.status_code == 422, response.text
    error = response.json()["error"]
    assert error["field"] in ("released_geom", "released_geometry")
    assert hazard["code"] in error["message"] and "outside" in error["message"]

    after = api.get(f"/api/v1/hazards/{hazard['id']}", headers=operator)
    assert after.headers["ETag"] == before.headers["ETag"]
    assert api.get("/api/v1/activities", params={"limit": 1},
                   headers=operator).json()["total"] == count


# --- lists: paging and filters --------------------------------------------------------------

@pytest.mark.parametrize(("layer", "limit"), [("hazards", 7), ("activities", 13),
                                              ("eo_finds", 250)])
def test_paging_walks_the_whole_layer_once(api, operator, layer, limit):
    everything = walk(api, layer, operator)
    first = api.get(f"/api/v1/{layer}", params={"limit": limit}, headers=operator).json()
    assert first["total"] == len(everything) > limit and first["next"]
    pages = walk(api, layer, operator, limit=limit)
    ids = [item["id"] for item in pages]
    assert len(ids) == len(set(ids)) == first["total"]
    assert ids == [item["id"] for item in everything]
    last = api.get(f"/api/v1/{layer}", params={"limit": limit, "offset": len(ids) - 1},
                   headers=operator).json()
    assert len(last["items"]) == 1 and last["next"] is None
    offset = api.get(f"/api/v1/{layer}", params={"limit": 3, "offset": 5},
                     headers=operator).json()
    assert [i["id"] for i in offset["items"]] == ids[5:8]


@pytest.mark.parametrize("layer", ["hazards", "activities", "eo_finds"])
def test_every_item_names_its_organisation_and_sensitivity(api, operator, layer):
    codes = {o["code"] for o in walk(api, "organisations", operator)}
    for item in walk(api, layer, operator):
        assert isinstance(item["id"], int)
        assert item["organisation"] in codes
        assert item["sensitivity"] in ("public", "shared", "restricted", "confidential")


DATE_FIELD = {"hazards": "reported_on", "activities": "end_date", "eo_finds": "found_on"}
TYPE_FIELD = {"hazards": "hazard_type", "activities": "kind", "eo_finds": "category"}


def _envelope_meets(item: dict, bbox) -> bool:
    return item["geometry"] is not None and box(*shape(item["geometry"]).bounds).intersects(bbox)


def _filter_cases(layer: str, items: list[dict], areas: dict[int, str]):
    """(query, predicate) pairs whose values come from the data itself."""
    def most_common(key):
        values = [i[key] for i in items if i.get(key) is not None]
        return max(set(values), key=values.count)

    dates = sorted(i[DATE_FIELD[layer]] for i in items if i[DATE_FIELD[layer]])
    low, high = dates[len(dates) // 4], dates[len(dates) // 2]
    org = most_common("organisation")
    kind = most_common(TYPE_FIELD[layer])
    code = items[len(items) // 2]["code"][:-1]  # e.g. HZ-00012: ten codes share it
    cases = [
        ({"type": kind}, lambda i: i[TYPE_FIELD[layer]] == kind),
        ({"organisation": org}, lambda i: i["organisation"] == org),
        ({"date_from": low}, lambda i: (i[DATE_FIELD[layer]] or "") >= low),
        ({"date_to": high}, lambda i: i[DATE_FIELD[layer]] is not None
         and i[DATE_FIELD[layer]] <= high),
        ({"date_from": low, "date_to": high},
         lambda i: low <= (i[DATE_FIELD[layer]] or "") <= high),
        ({"q": code.lower()}, lambda i: code.lower() in i["code"].lower()
         or code.lower() in (i.get("name") or "").lower()),
        ({"type": kind, "organisation": org},
         lambda i: i[TYPE_FIELD[layer]] == kind and i["organisation"] == org),
    ]
    if "status" in items[0]:
        status = most_common("status")
        cases.append(({"status": status}, lambda i: i["status"] == status))
    if "admin_area_id" in items[0]:
        area = areas[most_common("admin_area_id")]
        cases.append(({"admin_area": area}, lambda i: areas.get(i["admin_area_id"]) == area))
    if "name" in items[0]:
        word = next(w for w in items[0]["name"].split() if len(w) > 4)
        cases.append(({"q": word.upper()}, lambda i: word.lower() in (i["name"] or "").lower()
                      or word.lower() in i["code"].lower()))
    return cases


@pytest.mark.parametrize("layer", ["hazards", "activities", "eo_finds"])
def test_filters_match_an_independent_computation(api, operator, layer):
    items = walk(api, layer, operator)
    areas = {a["id"]: a["code"] for a in walk(api, "admin_areas", operator)}
    for query, predicate in _filter_cases(layer, items, areas):
        got = [i["id"] for i in walk(api, layer, operator, **query)]
        expected = [i["id"] for i in items if predicate(i)]
        assert got == expected, query
        assert 0 < len(got) < len(items), f"{query} does not narrow the list"


@pytest.mark.parametrize("layer", ["hazards", "activities", "eo_finds"])
def test_bbox_keeps_what_lies_in_the_box(api, operator, layer):
    items = walk(api, layer, operator)
    x0, y0, x1, y1 = shapely.union_all([shape(i["geometry"]) for i in items]).bounds
    bbox = (x0, y0, (x0 + x1) / 2, (y0 + y1) / 2)  # the south-west quarter
    got = {i["id"] for i in walk(api, layer, operator, bbox=",".join(map(str, bbox)))}
    inside = {i["id"] for i in items if shape(i["geometry"]).intersects(box(*bbox))}
    near = {i["id"] for i in items if _envelope_meets(i, box(*bbox).buffer(1e-5))}
    assert inside <= got <= near  # geometry in the box: kept; envelope apart: dropped
    assert 0 < len(got) < len(items)


def test_q_is_a_plain_substring_not_a_like_pattern(api, operator):
    items = walk(api, "hazards", operator)
    expected = [i["id"] for i in items if "_" in i["code"] or "_" in (i["name"] or "")]
    assert [i["id"] for i in walk(api, "hazards", operator, q="_")] == expected


def test_admin_area_filter_includes_sub_areas(api, operator):
    areas = walk(api, "admin_areas", operator)
    parent = {a["id"]: a["parent_id"] for a in areas}

    def ancestors(area_id):
        while area_id is not None:
            yield area_id
            area_id = parent.get(area_id)

    items = walk(api, "hazards", operator)
    region = next(a for a in areas if a["level"] == 1
                  and any(a["id"] in ancestors(i["admin_area_id"]) for i in items))
    expected = [i["id"] for i in items if region["id"] in ancestors(i["admin_area_id"])]
    got = [i["id"] for i in walk(api, "hazards", operator, admin_area=region["code"])]
    assert got == expected


# --- review workflow ------------------------------------------------------------------------

def _review(api, headers, hazard_id: int, **decision):
    location = f"/api/v1/hazards/{hazard_id}"
    etag = api.get(location, headers=headers).headers["ETag"]
    return api.post(f"{location}/review", json=decision,
                    headers={**headers, "If-Match": etag})


def test_approval_makes_a_submitted_record_visible_and_counted(api, operator, as_role,
                                                              demo_url):
    authority, viewer = as_role("authority"), as_role("viewer")
    stats_before = api.get("/api/v1/stats", headers=viewer).json()
    hazard = new_hazard(api, operator, n=6, sensitivity="public")
    location = f"/api/v1/hazards/{hazard['id']}"
    assert hazard["review_status"] == "submitted"
    assert api.get(location, headers=viewer).status_code == 404
    assert api.get(location).status_code == 404
    assert walk(api, "hazards", viewer, q=hazard["code"]) == []
    assert api.get("/api/v1/stats", headers=viewer).json()["baseline_m2"] == \
        stats_before["baseline_m2"]

    assert api.post(f"{location}/review", json={"decision": "approve"},
                    headers=authority).status_code == 428
    assert _review(api, operator, hazard["id"], decision="approve").status_code == 403
    approved = _review(api, authority, hazard["id"], decision="approve")
    assert approved.status_code == 200, approved.text
    assert approved.json()["review_status"] == "approved" and approved.json()["version"] == 2
    assert api.get(location, headers=authority).headers["ETag"] == approved.headers["ETag"]

    assert api.get(location, headers=viewer).json()["review_status"] == "approved"
    assert [i["id"] for i in walk(api, "hazards", viewer, q=hazard["code"])] == [hazard["id"]]
    stats_after = api.get("/api/v1/stats", headers=viewer).json()
    assert stats_after["baseline_m2"] == pytest.approx(
        stats_before["baseline_m2"] + hazard["baseline_m2"], abs=0.02)
    versions = history(demo_url, "hazards", hazard["id"])
    assert [(v["version"], v["review_status"]) for v in versions] == [(1, "submitted")]


def test_rejection_needs_a_reason_and_returns_to_the_submitter(api, operator, as_role,
                                                               demo_url):
    authority, viewer = as_role("authority"), as_role("viewer")
    hazard = new_hazard(api, operator, n=7, sensitivity="public")
    location = f"/api/v1/hazards/{hazard['id']}"

    no_reason = _review(api, authority, hazard["id"], decision="reject")
    assert no_reason.status_code == 422 and no_reason.json()["error"]["field"] == "reason"
    blank = _review(api, authority, hazard["id"], decision="reject", reason="   ")
    assert blank.status_code == 422
    reason = "Polygon crosses the river; resurvey the east bank"
    rejected = _review(api, authority, hazard["id"], decision="reject", reason=reason)
    assert rejected.status_code == 200, rejected.text

    mine = api.get(location, headers=operator).json()
    assert mine["review_status"] == "rejected" and mine["review_note"] == reason
    assert api.get(location, headers=viewer).status_code == 404

    etag = api.get(location, headers=operator).headers["ETag"]
    fixed = api.patch(location, json={"name": "Orchard north of the dam (west bank)"},
                      headers={**operator, **MERGE_PATCH, "If-Match": etag})
    assert fixed.status_code == 200 and fixed.json()["review_status"] == "submitted"
    assert _review(api, authority, hazard["id"], decision="approve").status_code == 200

    versions = history(demo_url, "hazards", hazard["id"])
    assert [(v["version"], v["review_status"]) for v in versions] == [
        (1, "submitted"), (2, "rejected"), (3, "submitted")]
    assert versions[1]["review_note"] == reason
    current = api.get(location, headers=viewer).json()
    assert (current["version"], current["review_status"]) == (4, "approved")


# --- hardening ------------------------------------------------------------------------------

def _assert_hardened(response: httpx.Response) -> None:
    policy = dict(part.strip().split(" ", 1) for part in
                  response.headers["content-security-policy"].split(";") if part.strip())
    assert "'unsafe-inline'" not in policy.get("script-src", policy["default-src"])
    assert policy["frame-ancestors"] == "'none'"
    assert response.headers["x-content-type-options"] == "nosniff"


def test_security_headers_on_success_and_error_responses(api, operator):
    responses = [
        api.get("/api/v1/hazards", params={"limit": 1}, headers=operator),
        api.get("/api/v1/hazards/999999", headers=operator),
        api.get("/api/v1/no-such-thing"),
        api.post("/api/v1/hazards", json={"bogus": 1}, headers=operator),
        api.post("/api/v1/hazards", json={}),
        api.get("/api/v1/hazards", headers={"Authorization": "Bearer nope"}),
        api.get("/healthz"),
    ]
    assert [r.status_code for r in responses] == [200, 404, 404, 422, 401, 401, 200]
    for response in responses:
        _assert_hardened(response)
    for response in responses[1:-1]:
        assert set(response.json()["error"]) >= {"code", "message"}


@pytest.fixture
def small_body_api(demo_url):
    app, client = _client(Settings(database_url=demo_url, max_request_bytes=2048))
    with client:
        yield client
    app.state.database.dispose()


def test_oversized_body_is_refused_with_413(small_body_api, operator):
    headers = operator
    body = {"name": "x" * 5000, "hazard_type": "SHA", "reported_on": "2025-01-01"}
    response = small_body_api.post("/api/v1/hazards", json=body, headers=headers)
    assert response.status_code == 413
    assert response.json()["error"]["code"] == "too_large"
    _assert_hardened(response)


def test_oversized_chunked_body_is_refused_with_413(small_body_api, operator):
    headers = operator

    def chunks():
        yield b'{"name": "'
        for _ in range(10):
            yield b"x" * 500
        yield b'"}'

    response = small_body_api.post("/api/v1/hazards", content=chunks(),
                                   headers={**headers, "Content-Type": "application/json"})
    assert response.status_code == 413


def _error(response: httpx.Response) -> dict:
    assert response.status_code == 422, response.text
    error = response.json()["error"]
    assert error["code"] == "invalid" and error["message"] and error["field"]
    return error


def test_bad_bodies_get_422_naming_the_field(api, operator):
    hazard = new_hazard(api, operator, n=8)
    find = new_find(hazard)
    post = lambda body: api.post("/api/v1/eo_finds", json=body, headers=operator)  # noqa: E731
    malformed = api.post("/api/v1/eo_finds", content=b'{"category": "ap_mine",',
                         headers={**operator, "Content-Type": "application/json"})
    _error(malformed)
    assert _error(post({**find, "quantity": "several"}))["field"] == "quantity"
    assert _error(post({**find, "found_on": "yesterday"}))["field"] == "found_on"
    assert _error(post({**find, "category": "landmine"}))["field"] == "category"
    assert _error(post({**find, "quantity": 0}))["field"] == "quantity"
    assert _error(post({**find, "colour": "green"}))["field"] == "colour"
    assert _error(post({k: v for k, v in find.items() if k != "found_on"}))["field"] == \
        "found_on"
    assert _error(api.post("/api/v1/eo_finds", json=[find], headers=operator))["field"]
    total = api.get("/api/v1/eo_finds", params={"limit": 1, "q": "EO-"}, headers=operator)
    assert total.status_code == 200


def test_malformed_json_names_the_body(api, operator):
    response = api.post("/api/v1/hazards", content=b'{"name": ',
                        headers={**operator, "Content-Type": "application/json"})
    assert _error(response)["field"] == "body"


def test_invalid_geometry_gets_422_naming_the_field(api, operator):
    x, y = site(api, operator, 9)
    bow_tie = {"type": "Polygon", "coordinates": [[[x, y], [x + .002, y + .002],
                                                   [x + .002, y], [x, y + .002], [x, y]]]}
    swapped = mapping(square(y, x))
    cases = {"bow-tie": bow_tie, "swapped": swapped,
             "out of range": mapping(square(x + 400, y)),
             "point for a polygon layer": {"type": "Point", "coordinates": [x, y]},
             "not geojson": {"type": "Polygon", "coordinates": "nowhere"},
             "too few points": {"type": "Polygon", "coordinates": [[[x, y], [x, y]]]}}
    for label, geometry in cases.items():
        body = {"name": label, "hazard_type": "SHA", "reported_on": "2025-01-01",
                "geometry": geometry}
        error = _error(api.post("/api/v1/hazards", json=body, headers=operator))
        assert error["field"] == "geometry", label
    activity = new_activity(new_hazard(api, operator, n=9), kind="ts", status="completed",
                            end_date="2025-06-10", released_geometry=bow_tie)
    error = _error(api.post("/api/v1/activities", json=activity, headers=operator))
    assert error["field"] in ("released_geom", "released_geometry")


def test_odd_query_values_are_client_errors(api, operator):
    for params in ({"bbox": "a,b,c,d"}, {"bbox": "1,2,3"}, {"bbox": "5,5,1,1"},
                   {"limit": 0}, {"limit": 100000}, {"offset": -1},
                   {"date_from": "2025-13-01"}, {"q": "x" * 500}):
        response = api.get("/api/v1/hazards", params=params, headers=operator)
        assert response.status_code == 422, params
        assert response.json()["error"]["field"], params
    assert api.get("/api/v1/hazards/abc", headers=operator).status_code == 422
    assert api.get("/api/v1/hazards/-5", headers=operator).status_code in (404, 422)


def test_out_of_range_record_id_is_not_found(api, operator):
    for record_id in (2**31, 10**20):
        for method in ("GET", "PATCH", "DELETE"):
            response = api.request(method, f"/api/v1/hazards/{record_id}", json={},
                                   headers={**operator, "If-Match": "*"})
            assert response.status_code in (404, 422), (record_id, method)


def test_check_findings_over_http_follow_need_to_know(api, as_role, operator):
    """GET /api/v1/checks: the operator's restricted hazard drawn with a stray 0.2 m-wide part
    is a sliver for the operator and the administrator, absent for another organisation;
    anonymous callers are refused; filters and paging apply to the findings."""
    x, y = site(api, operator, 3)
    stray = square(x, y).union(box(x + 0.003, y, x + 0.003 + 0.2 / 74_000, y + 0.0005))
    hazard = new_hazard(api, operator, 3, geometry=mapping(stray), sensitivity="restricted")
    me = api.get("/api/v1/auth/me", headers=operator).json()
    others = [r for r in ROLES if r not in ("admin", "operator") and api.get(
        "/api/v1/auth/me", headers=as_role(r)).json()["organisation_id"] != me["organisation_id"]]
    assert others

    def slivers(headers) -> list[dict]:
        response = api.get("/api/v1/checks", params={"check": "sliver"}, headers=headers)
        assert response.status_code == 200, response.text
        body = response.json()
        assert body["total"] == len(body["findings"]) == body["counts"]["sliver"]
        return [f for f in body["findings"] if f["record"] == hazard["code"]]

    [finding] = slivers(operator)
    assert finding["layer"] == "hazards" and finding["severity"] == "warning"
    assert finding["area_m2"] == pytest.approx(
        geodesic_m2(box(x + 0.003, y, x + 0.003 + 0.2 / 74_000, y + 0.0005)), rel=0.02)
    assert slivers(as_role("admin")) == [finding]
    for role in others:
        assert slivers(as_role(role)) == [], role
    assert api.get("/api/v1/checks").status_code == 401
    page = api.get("/api/v1/checks", params={"severity": "error", "limit": 1},
                   headers=as_role("admin"))
    assert page.status_code == 200 and all(
        f["severity"] == "error" for f in page.json()["findings"])
    assert api.get("/api/v1/checks", params={"check": "nonsense"},
                   headers=operator).status_code == 422
