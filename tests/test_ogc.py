"""OGC API - Features at /ogc through an in-process HTTP client, on both backends.

Each test gets its own copy of the small demo region per backend (built once per session).
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date

import pytest
import shapely
from fastapi.testclient import TestClient
from pyproj import Transformer
from shapely.geometry import box, mapping, shape

from demine.settings import Settings
from demine.web.app import create_app

CRS84 = "http://www.opengis.net/def/crs/OGC/1.3/CRS84"
EPSG = "http://www.opengis.net/def/crs/EPSG/0/"
GEOJSON = "application/geo+json"
COLLECTIONS = {"hazards", "activities", "land_releases", "eo_finds", "accidents",
               "eore_sessions", "admin_areas", "places", "terrain_lines"}
PART4 = "http://www.opengis.net/spec/ogcapi-features-4/1.0/conf/"


@pytest.fixture
def client(demo_url) -> Iterator[TestClient]:
    """A client of the app on a fresh copy of the demo region."""
    app = create_app(Settings(database_url=demo_url))
    with TestClient(app) as test_client:
        yield test_client
    app.state.database.dispose()


def bearer(client: TestClient, role: str) -> dict[str, str]:
    """Authorization header of a demo sign-in."""
    response = client.post("/api/v1/auth/token", json={
        "email": f"{role}@demo.demine.org", "password": f"demine-demo-{role}"})
    assert response.status_code == 200, response.text
    return {"Authorization": f"Bearer {response.json()['access_token']}"}


def all_features(client: TestClient, collection: str, headers=None, **params) -> list[dict]:
    """Every feature of a collection the caller sees (one page of up to 10,000)."""
    response = client.get(f"/ogc/collections/{collection}/items",
                          params={"limit": 10000, **params}, headers=headers)
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["numberReturned"] == body["numberMatched"] == len(body["features"])
    return body["features"]


def rel(links: list[dict], name: str, type_: str | None = None) -> dict:
    """The link with relation ``name`` (and media type)."""
    return next(lk for lk in links if lk["rel"] == name and (type_ is None
                                                             or lk.get("type") == type_))


def test_landing_conformance_and_api_definition(client):
    landing = client.get("/ogc")
    assert landing.status_code == 200 and landing.headers["content-type"] == "application/json"
    links = landing.json()["links"]
    assert rel(links, "service-desc")["type"] == "application/vnd.oai.openapi+json;version=3.0"
    assert rel(links, "service-doc")["type"] == "text/html"
    for name, path in (("conformance", "/ogc/conformance"), ("data", "/ogc/collections"),
                       ("service-desc", "/ogc/api"), ("self", "/ogc")):
        assert rel(links, name)["href"].endswith(path)
    conforms = client.get("/ogc/conformance").json()["conformsTo"]
    for suffix in ("1/1.0/conf/core", "1/1.0/conf/geojson", "1/1.0/conf/html",
                   "1/1.0/conf/oas30", "2/1.0/conf/crs"):
        assert f"http://www.opengis.net/spec/ogcapi-features-{suffix}" in conforms
    assert {PART4 + "create-replace-delete", PART4 + "update"} <= set(conforms)
    api = client.get("/ogc/api")
    assert api.headers["content-type"].startswith("application/vnd.oai.openapi+json")
    doc = api.json()
    assert doc["openapi"].startswith("3.0") and doc["servers"][0]["url"].endswith("/ogc")
    assert doc["components"]["parameters"]["limit"]["schema"]["maximum"] == 10000
    items = doc["paths"]["/collections/hazards/items"]
    assert {"get", "post", "options"} <= set(items)
    assert "status" in {p.get("name") for p in items["get"]["parameters"]}
    assert "post" not in doc["paths"]["/collections/land_releases/items"]


def test_html_pages_need_no_inline_script(client):
    for path in ("/ogc", "/ogc/conformance", "/ogc/api", "/ogc/collections",
                 "/ogc/collections/hazards", "/ogc/collections/hazards/items"):
        page = client.get(path, params={"f": "html"})
        assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
        assert "<script" not in page.text and "style=" not in page.text
        assert "unsafe-inline" not in page.headers["content-security-policy"]
    first = all_features(client, "hazards")[0]
    page = client.get(f"/ogc/collections/hazards/items/{first['id']}",
                      headers={"Accept": "text/html,application/xhtml+xml"})
    assert page.headers["content-type"].startswith("text/html")
    assert first["properties"]["code"] in page.text


def test_collections_describe_each_layer(client):
    body = client.get("/ogc/collections").json()
    found = {c["id"]: c for c in body["collections"]}
    assert set(found) == COLLECTIONS
    hazards = found["hazards"]
    assert hazards["storageCrs"] == CRS84
    assert hazards["crs"][0] == CRS84
    assert {CRS84, EPSG + "4326", EPSG + "3857", EPSG + "32635", EPSG + "32636"} <= set(
        hazards["crs"])
    assert rel(hazards["links"], "items", GEOJSON)["href"].endswith("/collections/hazards/items")
    minx, miny, maxx, maxy = hazards["extent"]["spatial"]["bbox"][0]
    assert 29 < minx < maxx < 34 and 46 < miny < maxy < 50
    start, end = hazards["extent"]["temporal"]["interval"][0]
    assert start < end and start.endswith("Z")
    assert "temporal" not in found["places"].get("extent", {})
    one = client.get("/ogc/collections/hazards").json()
    assert one["id"] == "hazards" and one["extent"] == hazards["extent"]
    assert client.get("/ogc/collections/casualties").status_code == 404
    assert client.get("/ogc/collections/nope/items").status_code == 404


def test_items_page_through_next_links(client):
    headers = bearer(client, "operator")
    first = client.get("/ogc/collections/hazards/items", headers=headers)
    assert first.status_code == 200 and first.headers["content-type"] == GEOJSON
    assert first.headers["content-crs"] == f"<{CRS84}>"
    body = first.json()
    api_total = client.get("/api/v1/hazards", params={"limit": 1}, headers=headers).json()
    assert body["numberMatched"] == api_total["total"] > 10
    assert body["numberReturned"] == 10 and body["timeStamp"].endswith("Z")
    feature = body["features"][0]
    assert isinstance(feature["id"], str) and feature["properties"]["id"] == int(feature["id"])
    assert "geometry" not in feature["properties"] and feature["properties"]["organisation"]
    seen, page = [], body
    while True:
        seen += [f["id"] for f in page["features"]]
        links = [lk for lk in page["links"] if lk["rel"] == "next"]
        if not links:
            break
        page = client.get(links[0]["href"], headers=headers).json()
    assert len(seen) == len(set(seen)) == body["numberMatched"]
    clamped = client.get("/ogc/collections/hazards/items", params={"limit": 10**6}).json()
    assert clamped["numberReturned"] == clamped["numberMatched"]
    for bad in ({"limit": 0}, {"offset": -1}, {"limit": "ten"}, {"nonsense": 1}, {"f": "xml"}):
        assert client.get("/ogc/collections/hazards/items", params=bad).status_code == 422


@pytest.mark.parametrize("collection", ["hazards", "eo_finds", "accidents", "admin_areas"])
def test_pages_carry_each_feature_as_its_own_url_does(client, collection):
    """A page in CRS84 (on PostGIS, geometry written by the database) holds, feature for
    feature, the geometry and properties its item URL gives (written in Python), every
    coordinate the same double; in EPSG:4326 the page gives them in lat/lon."""
    headers = bearer(client, "operator")
    page = client.get(f"/ogc/collections/{collection}/items", params={"limit": 25},
                      headers=headers).json()["features"]
    assert page
    flipped = client.get(f"/ogc/collections/{collection}/items", headers=headers, params={
        "limit": 25, "crs": EPSG + "4326"}).json()["features"]
    for listed, as_lat_lon in zip(page, flipped, strict=True):
        one = client.get(f"/ogc/collections/{collection}/items/{listed['id']}",
                         headers=headers).json()
        assert listed["geometry"] == one["geometry"], listed["id"]
        assert listed["properties"] == one["properties"] and listed["id"] == one["id"]
        assert [(y, x) for x, y in _coords(listed["geometry"])] == _coords(
            as_lat_lon["geometry"])


def test_bbox_selects_what_the_box_meets(client):
    finds = all_features(client, "eo_finds")
    area = (31.0, 47.6, 31.6, 48.2)
    expected = {f["id"] for f in finds if shape(f["geometry"]).intersects(box(*area))}
    assert 0 < len(expected) < len(finds)
    got = all_features(client, "eo_finds", bbox=",".join(map(str, area)))
    assert {f["id"] for f in got} == expected
    lat_lon = ",".join(map(str, (area[1], area[0], area[3], area[2])))
    got = all_features(client, "eo_finds", bbox=lat_lon, **{"bbox-crs": EPSG + "4326"})
    assert {f["id"] for f in got} == expected
    mercator = Transformer.from_crs("OGC:CRS84", "EPSG:3857", always_xy=True)
    corners = (*mercator.transform(area[0], area[1]), *mercator.transform(area[2], area[3]))
    got = all_features(client, "eo_finds", bbox=",".join(map(str, corners)),
                       **{"bbox-crs": EPSG + "3857"})
    assert {f["id"] for f in got} == expected
    for bad in ("1,2,3", "31,48,30,47", "a,b,c,d"):
        assert client.get("/ogc/collections/eo_finds/items",
                          params={"bbox": bad}).status_code == 422


def test_number_matched_is_kept_per_scope_until_a_change(client):
    """Counts are kept between pages (the same query paged, a view asked again), never across
    actors who see different rows, and never past a change."""
    def matched(headers) -> int:
        body = client.get("/ogc/collections/hazards/items", headers=headers, params={
            "bbox": "30,46,34,50", "limit": 2, "offset": 2}).json()
        assert body["numberReturned"] == 2
        return body["numberMatched"]

    admin, operator, anonymous = bearer(client, "admin"), bearer(client, "operator"), {}
    counts = client.app.state.count_cache
    truth = {}
    for name, headers in (("admin", admin), ("operator", operator), ("anonymous", anonymous)):
        truth[name] = len(all_features(client, "hazards", headers=headers, bbox="30,46,34,50"))
        hits = counts.hits
        assert matched(headers) == truth[name] and matched(headers) == truth[name]
        assert counts.hits == hits + 1  # the second page was counted once already
    assert truth["anonymous"] < truth["operator"] < truth["admin"]
    own = _own_hazard(client, operator)
    copy = {"type": "Feature", "geometry": own["geometry"], "properties": {
        "name": "counted after the change", "hazard_type": "SHA", "reported_on": "2025-05-01"}}
    created = client.post("/ogc/collections/hazards/items", json=copy,
                          headers={**operator, "Content-Type": GEOJSON})
    assert created.status_code == 201, created.text
    assert matched(operator) == truth["operator"] + 1 == len(
        all_features(client, "hazards", headers=operator, bbox="30,46,34,50"))
    assert matched(anonymous) == truth["anonymous"]  # submitted: not public


def test_datetime_filters_on_the_date_field(client):
    hazards = all_features(client, "hazards")
    days = sorted(date.fromisoformat(f["properties"]["reported_on"]) for f in hazards)
    start, end = days[len(days) // 4], days[3 * len(days) // 4]

    def ids(**params):
        return {f["id"] for f in all_features(client, "hazards", **params)}

    def between(lo, hi):
        return {f["id"] for f in hazards
                if lo <= date.fromisoformat(f["properties"]["reported_on"]) <= hi}

    assert ids(datetime=f"{start}/{end}") == between(start, end)
    assert ids(datetime=f"{start}T00:00:00Z/{end}T23:59:59Z") == between(start, end)
    assert ids(datetime=f"../{start}") == between(date.min, start)
    assert ids(datetime=f"{end}/..") == between(end, date.max)
    assert ids(datetime=str(start)) == between(start, start) != set()
    assert ids(datetime=f"{start}/{end}", f="json") < {f["id"] for f in hazards}
    assert all_features(client, "places", datetime=str(start)) == []
    for bad in ("yesterday", f"{end}/{start}", "../.."):
        assert client.get("/ogc/collections/hazards/items",
                          params={"datetime": bad}).status_code == 422


def test_property_filters_are_equalities(client):
    headers = bearer(client, "authority")
    hazards = all_features(client, "hazards", headers=headers)
    wanted = {f["id"] for f in hazards if f["properties"]["status"] == "open"
              and f["properties"]["hazard_type"] == "CHA"}
    got = all_features(client, "hazards", headers=headers, status="open", hazard_type="CHA")
    assert {f["id"] for f in got} == wanted != set()
    seds = all_features(client, "hazards", headers=headers, organisation="SEDS")
    assert seds and {f["properties"]["organisation"] for f in seds} == {"SEDS"}
    level = all_features(client, "admin_areas", level=1)
    assert level and {f["properties"]["level"] for f in level} == {1}
    for bad in ({"level": "one"}, {"level": 10**12}, {"colour": "red"}):
        assert client.get("/ogc/collections/admin_areas/items", params=bad).status_code == 422


def _coords(geometry: dict) -> list[tuple[float, float]]:
    return [tuple(c) for c in shapely.get_coordinates(shape(geometry))]


def test_features_reproject_to_every_offered_crs(client):
    feature = all_features(client, "hazards")[0]
    url = f"/ogc/collections/hazards/items/{feature['id']}"
    lonlat = _coords(client.get(url).json()["geometry"])
    for code in ("3857", "32636", "32635"):
        response = client.get(url, params={"crs": EPSG + code})
        assert response.status_code == 200 and response.headers["content-crs"] == (
            f"<{EPSG}{code}>")
        back = Transformer.from_crs(f"EPSG:{code}", "OGC:CRS84", always_xy=True)
        for (x, y), (lon, lat) in zip(_coords(response.json()["geometry"]), lonlat,
                                      strict=True):
            bx, by = back.transform(x, y)
            assert abs(bx - lon) < 1e-6 and abs(by - lat) < 1e-6
    lat_lon = client.get(url, params={"crs": EPSG + "4326"}).json()["geometry"]
    assert _coords(lat_lon) == [(lat, lon) for lon, lat in lonlat]
    page = client.get("/ogc/collections/hazards/items", params={"crs": EPSG + "4326"})
    assert page.headers["content-crs"] == f"<{EPSG}4326>"
    assert 46 < _coords(page.json()["features"][0]["geometry"])[0][0] < 50
    assert client.get(url, params={"crs": EPSG + "2056"}).status_code == 422


def _own_hazard(client, headers, *, unreleased: bool = False) -> dict:
    me = client.get("/api/v1/auth/me", headers=headers).json()
    return next(f for f in all_features(client, "hazards", headers=headers)
                if f["properties"]["organisation_id"] == me["organisation_id"] and not (
                    unreleased and f["properties"]["remaining_m2"] < f["properties"][
                        "baseline_m2"]))


def test_qgis_editing_sequence(client):
    headers = bearer(client, "operator")
    landing = client.get("/ogc", headers=headers).json()
    assert client.get(rel(landing["links"], "service-desc")["href"], headers=headers).json()
    described = client.get("/ogc/collections/hazards", headers=headers).json()
    items_url = rel(described["links"], "items", GEOJSON)["href"]
    page = client.get(items_url, params={"limit": 10}, headers=headers).json()
    allow = client.options(items_url, headers=headers).headers["allow"]
    assert "POST" in allow and "GET" in allow
    own = _own_hazard(client, headers)
    allow = client.options(f"{items_url}/{own['id']}", headers=headers).headers["allow"]
    assert {"PUT", "PATCH", "DELETE"} <= set(allow.replace(" ", "").split(","))
    assert page["numberReturned"] == 10
    other = next(f for f in all_features(client, "hazards", headers=headers)
                 if f["properties"]["organisation"] != own["properties"]["organisation"])
    allow = client.options(f"{items_url}/{other['id']}", headers=headers).headers["allow"]
    assert allow.replace(" ", "") == "GET,HEAD,OPTIONS"
    # QGIS posts what it read back, with nulls where nothing was typed, and no id.
    properties = {name: None for name in own["properties"]}
    properties.update(name="QGIS digitised field", hazard_type="SHA", reported_on="2025-05-01")
    created = client.post(items_url, headers={**headers, "Content-Type": GEOJSON}, json={
        "type": "Feature", "geometry": own["geometry"], "properties": properties})
    assert created.status_code == 201, created.text
    location, tag = created.headers["location"], created.headers["etag"]
    assert location.startswith("http") and "/collections/hazards/items/" in location
    fetched = client.get(location, headers=headers)
    assert fetched.status_code == 200 and fetched.headers["etag"] == tag
    stored = fetched.json()["properties"]
    assert stored["review_status"] == "submitted" and stored["organisation"] == "SEDS"
    assert stored["baseline_m2"] > 0 and stored["status"] == "open"
    patch = {"properties": {"name": "renamed in QGIS"}}
    merge = {**headers, "Content-Type": "application/merge-patch+json"}
    qgis_style = client.patch(location, json={"properties": {"name": "no If-Match"}},
                              headers=merge)  # QGIS sends no If-Match: accepted by default
    assert qgis_style.status_code == 200, qgis_style.text
    assert client.patch(location, json=patch, headers={**merge, "If-Match": tag}
                        ).status_code == 412  # stale: the feature changed meanwhile
    tag = qgis_style.headers["etag"]
    patched = client.patch(location, json=patch, headers={**merge, "If-Match": tag})
    assert patched.status_code == 200, patched.text
    assert patched.json()["properties"]["name"] == "renamed in QGIS"
    assert patched.headers["etag"] != tag
    assert client.patch(location, json=patch, headers={**merge, "If-Match": tag}
                        ).status_code == 412
    assert client.delete(location, headers={**headers, "If-Match": tag}).status_code == 412
    deleted = client.delete(location, headers={**headers, "If-Match": patched.headers["etag"]})
    assert deleted.status_code == 204
    assert client.get(location, headers=headers).status_code == 404
    code = stored["code"]
    actions = [e["action"] for e in client.get(
        "/api/v1/audit", params={"limit": 1000}, headers=bearer(client, "authority")
    ).json()["items"] if e.get("record_code") == code]
    assert {"hazards.create", "hazards.update", "hazards.delete"} <= set(actions)


def test_put_replaces_and_reads_geometry_in_content_crs(client):
    headers = {**bearer(client, "operator"), "Content-Type": GEOJSON}
    hazard = _own_hazard(client, headers)
    point = shape(hazard["geometry"]).representative_point()
    body = {"type": "Feature", "geometry": {"type": "Point", "coordinates": [point.y, point.x]},
            "properties": {"category": "ap_mine", "model_code": "PFM-1", "quantity": 3,
                           "found_on": "2025-06-01", "hazard_id": int(hazard["id"])}}
    created = client.post("/ogc/collections/eo_finds/items", json=body,
                          headers={**headers, "Content-Crs": f"<{EPSG}4326>"})
    assert created.status_code == 201, created.text
    assert created.json()["geometry"]["coordinates"] == pytest.approx([point.x, point.y])
    location = created.headers["location"]
    mercator = Transformer.from_crs("OGC:CRS84", "EPSG:3857", always_xy=True)
    body = {"type": "Feature", "geometry": {"type": "Point", "coordinates": list(
        mercator.transform(point.x, point.y))},
        "properties": {"category": "uxo", "quantity": 1, "found_on": "2025-06-02"}}
    replaced = client.put(location, json=body, headers={
        **headers, "If-Match": created.headers["etag"], "Content-Crs": f"<{EPSG}3857>"})
    assert replaced.status_code == 200, replaced.text
    properties = replaced.json()["properties"]
    assert properties["category"] == "uxo" and properties["model_code"] is None
    assert properties["hazard_id"] is None and properties["version"] == 2
    assert replaced.json()["geometry"]["coordinates"] == pytest.approx([point.x, point.y])
    bad = client.patch(location, json={"properties": {"quantity": None, "colour": "red"}},
                       headers={**headers, "If-Match": replaced.headers["etag"]})
    assert bad.status_code == 422 and "colour" in bad.text


def test_activity_releases_land_only_from_its_property(client):
    headers = {**bearer(client, "operator"), "Content-Type": GEOJSON}
    hazard = _own_hazard(client, headers, unreleased=True)
    hazard_id = int(hazard["id"])
    assert all_features(client, "land_releases", headers=headers, hazard_id=hazard_id) == []
    worked = shape(hazard["geometry"]).buffer(-0.0001)
    properties = {"hazard_id": hazard_id, "kind": "clearance", "status": "completed",
                  "start_date": "2025-05-01", "end_date": "2025-06-01"}
    plain = client.post("/ogc/collections/activities/items", headers=headers, json={
        "type": "Feature", "geometry": mapping(worked),
        "properties": properties})
    assert plain.status_code == 201, plain.text
    assert plain.json()["properties"]["released_m2"] == 0
    assert all_features(client, "land_releases", headers=headers, hazard_id=hazard_id) == []
    released = client.post("/ogc/collections/activities/items", headers=headers, json={
        "type": "Feature", "geometry": mapping(worked),
        "properties": {**properties, "released_geometry": mapping(worked)}})
    assert released.status_code == 201, released.text
    assert released.json()["properties"]["released_m2"] > 0
    after = all_features(client, "land_releases", headers=headers, hazard_id=hazard_id)
    assert [f["properties"]["activity_id"] for f in after] == [int(released.json()["id"])]
    ledger = client.get(f"/ogc/collections/hazards/items/{hazard_id}", headers=headers).json()
    assert ledger["properties"]["cleared_m2"] == 0  # pending until the authority approves
    authority = bearer(client, "authority")
    url = f"/api/v1/activities/{released.json()['id']}"
    etag = client.get(url, headers=authority).headers["ETag"]
    assert client.post(f"{url}/review", json={"decision": "approve"},
                       headers={**authority, "If-Match": etag}).status_code == 200
    ledger = client.get(f"/ogc/collections/hazards/items/{hazard_id}", headers=headers).json()
    assert ledger["properties"]["cleared_m2"] > 0
    refused = client.post("/ogc/collections/land_releases/items", headers=headers,
                          json={"type": "Feature", "geometry": None, "properties": {}})
    assert refused.status_code == 405


def test_anonymous_sees_public_approved_features_and_no_write_verbs(client):
    for collection in ("hazards", "activities", "eo_finds", "land_releases"):
        for f in all_features(client, collection):
            assert f["properties"]["sensitivity"] == "public"
            assert f["properties"]["review_status"] == "approved"
    anonymous = client.get("/ogc/collections/hazards/items").json()["numberMatched"]
    signed_in = client.get("/ogc/collections/hazards/items",
                           headers=bearer(client, "operator")).json()["numberMatched"]
    assert 0 < anonymous < signed_in
    assert client.options("/ogc/collections/hazards/items").headers["allow"] == (
        "GET, HEAD, OPTIONS")
    public = all_features(client, "hazards")[0]
    assert client.options(f"/ogc/collections/hazards/items/{public['id']}").headers[
        "allow"] == "GET, HEAD, OPTIONS"
    viewer = bearer(client, "viewer")
    assert "POST" not in client.options("/ogc/collections/hazards/items",
                                        headers=viewer).headers["allow"]
    posted = client.post("/ogc/collections/hazards/items", json={
        "type": "Feature", "geometry": public["geometry"], "properties": {}})
    assert posted.status_code == 401


def test_a_feature_the_caller_may_not_see_is_not_found(client):
    operator = bearer(client, "operator")
    everything = {f["id"] for f in all_features(client, "hazards",
                                                headers=bearer(client, "admin"))}
    visible = {f["id"] for f in all_features(client, "hazards", headers=operator)}
    hidden = sorted(everything - visible, key=int)[0]
    url = f"/ogc/collections/hazards/items/{hidden}"
    assert client.get(url, headers=operator).status_code == 404
    assert client.options(url, headers=operator).status_code == 404
    assert client.patch(url, json={"properties": {"name": "x"}},
                        headers={**operator, "If-Match": "*"}).status_code == 404
    assert client.delete(url, headers={**operator, "If-Match": "*"}).status_code == 404
    shared = next(i for i in visible if i not in {
        f["id"] for f in all_features(client, "hazards")})
    assert client.get(f"/ogc/collections/hazards/items/{shared}").status_code == 404
    for bad in ("abc", "0", "99999999999999999999"):
        assert client.get(f"/ogc/collections/hazards/items/{bad}").status_code == 404


def test_if_match_is_one_rule_with_each_api_s_policy(demo_url):
    """web.preconditions, for both APIs: where If-Match is required and missing, 428 before
    the record is looked up (a hidden record and a missing one answer alike); a stale ETag is
    a 412. The REST API always requires it and compares strongly; OGC API Features requires it
    only when DEMINE_OGC_REQUIRE_IF_MATCH is set, and a weak form of the current ETag counts
    (GIS clients and proxies weaken them)."""
    app = create_app(Settings(database_url=demo_url, ogc_require_if_match=True))
    try:
        with TestClient(app) as client:
            operator = bearer(client, "operator")
            merge = {**operator, "Content-Type": "application/merge-patch+json"}
            own = _own_hazard(client, operator)
            everything = {f["id"] for f in all_features(client, "hazards",
                                                        headers=bearer(client, "admin"))}
            seen = {f["id"] for f in all_features(client, "hazards", headers=operator)}
            hidden = sorted(everything - seen, key=int)[0]
            for rid in (own["id"], hidden, "2000000000"):
                for url, body in ((f"/ogc/collections/hazards/items/{rid}",
                                   {"properties": {"name": "x"}}),
                                  (f"/api/v1/hazards/{rid}", {"name": "x"})):
                    missing = client.patch(url, json=body, headers=merge)
                    assert missing.status_code == 428, (url, missing.text)
                    assert missing.json()["error"]["code"] == "precondition_required"
                    assert client.delete(url, headers=operator).status_code == 428
            ogc = f"/ogc/collections/hazards/items/{own['id']}"
            rest = f"/api/v1/hazards/{own['id']}"
            weak = f"W/{client.get(ogc, headers=operator).headers['etag']}"
            stale = client.patch(rest, json={"name": "x"}, headers={**merge, "If-Match": weak})
            assert stale.status_code == 412 and \
                stale.json()["error"]["code"] == "precondition_failed"
            taken = client.patch(ogc, json={"properties": {"name": "weak tag"}},
                                 headers={**merge, "If-Match": weak})
            assert taken.status_code == 200, taken.text
            assert client.patch(ogc, json={"properties": {"name": "again"}},
                                headers={**merge, "If-Match": weak}).status_code == 412
    finally:
        app.state.database.dispose()
