"""The edit form over HTTP on both stores, by what an edit means: a change saved through the
form is the API's change (a new version); a value the server refuses is named next to its
field and nothing is stored; a form made from an older version changes nothing; an
operator's edit of an approved record waits for the authority; who may not edit cannot, and
a record one may not see answers as one that does not exist."""

from __future__ import annotations

import html
import json
import re

from fastapi.testclient import TestClient
from test_ui_pages import HTML, Page
from ui_clients import api as _api
from ui_clients import browser


def api(app, demo_template, role: str):
    """GET with ``role``'s API token."""
    call = _api(app, demo_template, role)
    return lambda path: call("GET", path)


def form_of(client: TestClient, path: str) -> dict[str, str]:
    """Every named input, select and textarea of the edit form, as a browser would send."""
    text = client.get(path, headers=HTML).text
    fields = dict(Page(text).inputs)
    for name, body in re.findall(r'<select id="f-[^"]+" name="([^"]+)"[^>]*>(.*?)</select>',
                                 text, re.S):
        chosen = re.search(r'<option value="([^"]*)" selected>', body)
        fields[name] = chosen.group(1) if chosen else ""
    for name, body in re.findall(r'<textarea id="f-[^"]+" name="([^"]+)"[^>]*>(.*?)</textarea>',
                                 text, re.S):
        fields[name] = html.unescape(body)  # what a browser sends: the text, not its escapes
    return fields


def first_hazard(read, **wanted) -> dict:
    items = read("/api/v1/hazards?limit=500").json()["items"]
    return next(h for h in items if all(h.get(k) == v for k, v in wanted.items()))


def test_a_saved_form_is_a_new_version(app, demo_template):
    read = api(app, demo_template, "authority")
    hazard = first_hazard(read, review_status="approved")
    page = browser(app, "authority")
    path = f"/records/hazards/{hazard['id']}/edit"
    fields = form_of(page, path)
    assert fields["name"] == (hazard["name"] or "")
    saved = page.post(path, data={**fields, "name": "Renamed through the form"},
                      headers=HTML, follow_redirects=False)
    assert saved.status_code == 303, saved.text
    assert saved.headers["location"] == f"/records/hazards/{hazard['id']}?saved=1"
    now = read(f"/api/v1/hazards/{hazard['id']}").json()
    assert now["name"] == "Renamed through the form" and now["version"] == hazard["version"] + 1
    assert now["hazard_type"] == hazard["hazard_type"]  # what the form did not change stays
    again = page.post(path, data=form_of(page, path), headers=HTML, follow_redirects=False)
    assert again.headers["location"].endswith("?unchanged=1")
    assert read(f"/api/v1/hazards/{hazard['id']}").json()["version"] == now["version"]


def test_a_refused_value_is_named_next_to_its_field_and_nothing_is_stored(app, demo_template):
    read = api(app, demo_template, "authority")
    hazard = first_hazard(read, review_status="approved")
    page = browser(app, "authority")
    path = f"/records/hazards/{hazard['id']}/edit"
    fields = form_of(page, path)
    refused = page.post(path, data={**fields, "reported_on": "2999-01-01", "name": "Other"},
                        headers=HTML)
    assert refused.status_code == 422
    field = re.search(r'<div class="field invalid" data-field="reported_on">(.*?)</div>',
                      refused.text, re.S)
    assert field and 'class="field-error"' in field.group(1)
    assert 'value="Other"' in refused.text  # what was typed is kept
    now = read(f"/api/v1/hazards/{hazard['id']}").json()
    assert (now["name"], now["version"], now["reported_on"]) == (
        hazard["name"], hazard["version"], hazard["reported_on"])


def test_a_form_from_an_older_version_changes_nothing(app, demo_template):
    read = api(app, demo_template, "authority")
    hazard = first_hazard(read, review_status="approved")
    page = browser(app, "authority")
    path = f"/records/hazards/{hazard['id']}/edit"
    old = form_of(page, path)
    assert page.post(path, data={**old, "name": "First"}, headers=HTML,
                     follow_redirects=False).status_code == 303
    late = page.post(path, data={**old, "name": "Second"}, headers=HTML)
    assert late.status_code == 409 and 'value="First"' in late.text
    assert read(f"/api/v1/hazards/{hazard['id']}").json()["name"] == "First"


def test_an_operators_edit_of_an_approved_record_waits(app, demo_template):
    read = api(app, demo_template, "operator")
    mine = read("/api/v1/auth/me").json()["organisation_id"]
    hazard = first_hazard(read, review_status="approved", organisation_id=mine)
    page = browser(app, "operator")
    path = f"/records/hazards/{hazard['id']}/edit"
    assert "your change waits" in page.get(path, headers=HTML).text
    saved = page.post(path, data={**form_of(page, path), "name": "Proposed name"},
                      headers=HTML, follow_redirects=False)
    assert saved.status_code == 303
    now = read(f"/api/v1/hazards/{hazard['id']}").json()
    assert now["name"] == hazard["name"]  # the approved version still counts
    assert now["pending_change"]["changes"] == {"name": "Proposed name"}


def test_who_may_not_edit_cannot(app, demo_template):
    authority = api(app, demo_template, "authority")
    viewer_read = api(app, demo_template, "viewer")
    seen = {h["id"] for h in viewer_read("/api/v1/hazards?limit=500").json()["items"]}
    everything = authority("/api/v1/hazards?limit=500").json()["items"]
    shown = next(h for h in everything if h["id"] in seen)
    hidden = next(h for h in everything if h["id"] not in seen)
    viewer = browser(app, "viewer")
    refused = viewer.get(f"/records/hazards/{shown['id']}/edit", headers=HTML,
                         follow_redirects=False)
    assert refused.status_code == 303  # to the record's page: nothing to edit there
    token = Page(viewer.get("/map", headers=HTML).text).inputs["csrf_token"]
    posted = viewer.post(f"/records/hazards/{shown['id']}/edit", headers=HTML, data={
        "csrf_token": token, "version": str(shown["version"]), "name": "Viewer's name"})
    assert posted.status_code == 403
    assert authority(f"/api/v1/hazards/{shown['id']}").json()["name"] == shown["name"]
    missing = viewer.get("/records/hazards/987654321/edit", headers=HTML)
    secret = viewer.get(f"/records/hazards/{hidden['id']}/edit", headers=HTML)
    assert secret.status_code == missing.status_code == 404
    assert secret.text.replace(f"/{hidden['id']}/", "/N/") == missing.text.replace(
        "/987654321/", "/N/")


def test_a_form_without_the_sessions_token_changes_nothing(app, demo_template):
    read = api(app, demo_template, "authority")
    hazard = first_hazard(read, review_status="approved")
    page = browser(app, "authority")
    path = f"/records/hazards/{hazard['id']}/edit"
    forged = page.post(path, data={**form_of(page, path), "csrf_token": "forged",
                                   "name": "Forged"}, headers=HTML)
    assert forged.status_code == 403
    assert read(f"/api/v1/hazards/{hazard['id']}").json()["name"] == hazard["name"]


def _inside(read) -> tuple[float, float]:
    from shapely.geometry import shape
    first = read("/api/v1/hazards?limit=1").json()["items"][0]
    return shape(first["geometry"]).centroid.coords[0]


def _square(x: float, y: float, size: float = 0.002) -> str:
    return json.dumps({"type": "Polygon", "coordinates": [[
        [x, y], [x + size, y], [x + size, y + size], [x, y + size], [x, y]]]})


def test_a_new_record_from_the_form_is_stored_as_submitted(app, demo_template):
    read = api(app, demo_template, "operator")
    before = read("/api/v1/hazards?limit=1").json()["total"]
    x, y = _inside(read)
    page = browser(app, "operator")
    fields = form_of(page, "/records/hazards/new")
    made = page.post("/records/hazards/new", headers=HTML, follow_redirects=False, data={
        **fields, "hazard_type": "SHA", "reported_on": "2025-05-01", "name": "Drawn field",
        "geometry": _square(x + 0.03, y + 0.03)})
    assert made.status_code == 303, made.text
    record_id = int(re.search(r"/records/hazards/(\d+)\?created=1", made.headers["location"])
                    .group(1))
    stored = read(f"/api/v1/hazards/{record_id}").json()
    assert stored["name"] == "Drawn field" and stored["review_status"] == "submitted"
    assert stored["baseline_m2"] > 0
    assert read("/api/v1/hazards?limit=1").json()["total"] == before + 1


def test_a_refused_new_record_names_its_fields_and_stores_nothing(app, demo_template):
    read = api(app, demo_template, "operator")
    before = read("/api/v1/hazards?limit=1").json()["total"]
    x, y = _inside(read)
    bowtie = json.dumps({"type": "Polygon", "coordinates": [[
        [x, y], [x + 0.002, y + 0.002], [x + 0.002, y], [x, y + 0.002], [x, y]]]})
    page = browser(app, "operator")
    fields = form_of(page, "/records/hazards/new")
    refused = page.post("/records/hazards/new", headers=HTML, data={
        **fields, "hazard_type": "", "reported_on": "2025-05-01", "geometry": bowtie})
    assert refused.status_code == 422
    for name in ("geometry", "hazard_type"):
        field = re.search(rf'<div class="field invalid" data-field="{name}">(.*?)</details>|'
                          rf'<div class="field invalid" data-field="{name}">(.*?)</div>',
                          refused.text, re.S)
        assert field, name
    assert "elf-intersect" in refused.text  # the server's reason for the drawn area
    assert read("/api/v1/hazards?limit=1").json()["total"] == before
    unreadable = page.post("/records/hazards/new", headers=HTML, data={
        **fields, "hazard_type": "SHA", "reported_on": "2025-05-01", "geometry": "{nope"})
    assert unreadable.status_code == 422 and "not GeoJSON" in unreadable.text


def test_who_may_not_create_gets_no_form(app, demo_template):
    viewer = browser(app, "viewer")
    assert viewer.get("/records/hazards/new", headers=HTML).status_code == 403
    assert "/records/hazards/new" not in viewer.get("/records/hazards", headers=HTML).text
    anonymous = TestClient(app, base_url="http://127.0.0.1")
    assert anonymous.get("/records/hazards/new", headers=HTML,
                         follow_redirects=False).status_code == 303


def test_an_edited_geometry_is_a_new_version_and_a_bad_one_is_refused(app, demo_template):
    read = api(app, demo_template, "authority")
    released = next(h for h in read("/api/v1/hazards?limit=500").json()["items"]
                    if h["review_status"] == "approved" and h["cancelled_m2"] > 0)
    hazard = first_hazard(read, review_status="approved", cancelled_m2=0.0, reduced_m2=0.0,
                          cleared_m2=0.0)
    page = browser(app, "authority")
    path = f"/records/hazards/{hazard['id']}/edit"
    fields = form_of(page, path)
    untouched = json.loads(fields["geometry"])
    assert untouched["type"] in ("Polygon", "MultiPolygon")
    x, y = _inside(read)
    moved = page.post(path, data={**fields, "geometry": _square(x + 0.04, y + 0.04)},
                      headers=HTML, follow_redirects=False)
    assert moved.status_code == 303, moved.text
    now = read(f"/api/v1/hazards/{hazard['id']}").json()
    assert now["version"] == hazard["version"] + 1 and now["geometry"] != hazard["geometry"]
    fields = form_of(page, path)
    bowtie = json.dumps({"type": "Polygon", "coordinates": [[
        [x, y], [x + 0.002, y + 0.002], [x + 0.002, y], [x, y + 0.002], [x, y]]]})
    refused = page.post(path, data={**fields, "geometry": bowtie}, headers=HTML)
    assert refused.status_code == 422 and 'id="e-geometry"' in refused.text
    assert read(f"/api/v1/hazards/{hazard['id']}").json()["version"] == now["version"]
    # a hazard whose released land the new area would leave outside: the server says so
    other = f"/records/hazards/{released['id']}/edit"
    outside = page.post(other, data={**form_of(page, other), "geometry": _square(
        x + 0.06, y + 0.06)}, headers=HTML)
    assert outside.status_code == 422
    assert re.search(r'id="e-geometry">[^<]*released land outside', outside.text)
    assert read(f"/api/v1/hazards/{released['id']}").json()["version"] == released["version"]
