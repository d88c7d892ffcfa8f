"""A record's page over HTTP on both stores, by what it shows: the ledger bar's parts are the
hazard's ledger and add up to its baseline; an edit appears in the history with the changed
field's old and new values; a past version the reader may not see is not shown; audit
entries for those who may read the audit log only; related records are those the reader may
see; a hidden record is the 404 of a missing one (tests/test_ui_pages.py)."""

from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient
from test_ui_pages import HTML
from ui_clients import api, browser


def test_the_ledger_bar_is_the_hazards_ledger(app, demo_template):
    call = api(app, demo_template, "authority")
    hazard = next(h for h in call("GET", "/api/v1/hazards?limit=500").json()["items"]
                  if h["cancelled_m2"] > 0 and h["remaining_m2"] > 0)
    text = browser(app, "authority").get(f"/records/hazards/{hazard['id']}", headers=HTML).text
    parts = {k: float(v) for k, v in re.findall(
        r'data-ledger="(\w+)" data-value="([-\d.e]+)"', text)}
    assert parts == pytest.approx({k: hazard[f"{k}_m2"] for k in
                                   ("cancelled", "reduced", "cleared", "remaining")})
    assert sum(parts.values()) == pytest.approx(hazard["baseline_m2"], abs=0.01)


def test_an_edit_shows_in_the_history_with_old_and_new_values(app, demo_template):
    call = api(app, demo_template, "authority")
    hazard = next(h for h in call("GET", "/api/v1/hazards?limit=500").json()["items"]
                  if h["review_status"] == "approved" and h["name"])
    url = f"/api/v1/hazards/{hazard['id']}"
    assert call("PATCH", url, {"name": "Renamed for the history"}).status_code == 200
    text = browser(app, "authority").get(f"/records/hazards/{hazard['id']}", headers=HTML).text
    newest = re.search(rf'<li data-version="{hazard["version"] + 1}">(.*?)</li>', text, re.S)
    assert newest, "the new version is in the history"
    row = re.search(r'<tr data-field="name">(.*?)</tr>', newest.group(1), re.S)
    assert row and hazard["name"] in row.group(1) and "Renamed for the history" in row.group(1)
    assert f'<li data-version="{hazard["version"]}">' in text


def test_a_past_version_the_reader_may_not_see_is_not_shown(app, demo_template):
    """A hazard restricted at first, then public: another organisation's user sees the record
    now, but not the version it could not see then."""
    operator = api(app, demo_template, "operator")
    authority = api(app, demo_template, "authority")
    area = next(h for h in operator("GET", "/api/v1/hazards?limit=1").json()["items"])
    from shapely.geometry import box, mapping, shape
    x, y = shape(area["geometry"]).centroid.coords[0]
    made = operator("POST", "/api/v1/hazards", {
        "hazard_type": "SHA", "reported_on": "2025-05-03", "sensitivity": "restricted",
        "name": "Secret first name",
        "geometry": mapping(box(x + 0.07, y + 0.07, x + 0.072, y + 0.072))}).json()
    url = f"/api/v1/hazards/{made['id']}"
    assert operator("PATCH", url, {"sensitivity": "public", "name": "Shared name"}
                    ).status_code == 200
    review = TestClient(app).post(f"{url}/review", json={"decision": "approve"}, headers={
        **demo_template.bearer("authority"),
        "If-Match": TestClient(app).get(url, headers=demo_template.bearer("authority"))
        .headers["etag"]})
    assert review.status_code == 200, review.text
    assert authority("GET", url).json()["review_status"] == "approved"
    viewer = browser(app, "viewer")
    text = viewer.get(f"/records/hazards/{made['id']}", headers=HTML).text
    assert "Shared name" in text
    assert "Secret first name" not in text and 'data-version="1"' not in text
    owner = browser(app, "operator").get(f"/records/hazards/{made['id']}", headers=HTML).text
    assert "Secret first name" in owner and 'data-version="1"' in owner


def test_audit_entries_for_readers_of_the_audit_log_only(app, demo_template):
    call = api(app, demo_template, "authority")
    hazard = call("GET", "/api/v1/hazards?limit=1").json()["items"][0]
    path = f"/records/hazards/{hazard['id']}"
    assert call("PATCH", f"/api/v1/hazards/{hazard['id']}", {"name": "Audited"}
                ).status_code == 200
    text = browser(app, "authority").get(path, headers=HTML).text
    assert "Audit entries" in text
    assert re.search(r'<tr data-seq="\d+"><td class="number"><bdi>\d+</bdi></td><td><code '
                     r'dir="ltr">hazards\.update</code>', text)
    seen_by_viewer = {h["id"] for h in api(app, demo_template, "viewer")(
        "GET", "/api/v1/hazards?limit=500").json()["items"]}
    if hazard["id"] in seen_by_viewer:
        assert "Audit entries" not in browser(app, "viewer").get(path, headers=HTML).text


def test_related_records_are_those_the_reader_may_see(app, demo_template):
    authority = api(app, demo_template, "authority")
    viewer_sees = {a["id"] for a in api(app, demo_template, "viewer")(
        "GET", "/api/v1/activities?limit=1000").json()["items"]}
    activities = authority("GET", "/api/v1/activities?limit=1000").json()["items"]
    for role, sees in (("authority", {a["id"] for a in activities}), ("viewer", viewer_sees)):
        client = browser(app, role)
        for hazard_id in sorted({a["hazard_id"] for a in activities})[:15]:
            page = client.get(f"/records/hazards/{hazard_id}", headers=HTML)
            if page.status_code == 404:
                continue
            block = re.search(r'<ul class="related" data-layer="activities">(.*?)</ul>',
                              page.text, re.S)
            listed = {int(i) for i in re.findall(r'data-id="(\d+)"', block.group(1))} \
                if block else set()
            expected = {a["id"] for a in activities if a["hazard_id"] == hazard_id} & sees
            assert listed == expected, (role, hazard_id)


def test_personal_fields_stay_out_of_the_history_without_the_grant(app, demo_template):
    """A casualty's name changed by the administrator: the authority (personal-data grant)
    sees the old and new name in the history; an operator who sees the casualty but lacks
    the grant sees the version, and neither value."""
    admin, operator = api(app, demo_template, "admin"), api(app, demo_template, "operator")
    seen = operator("GET", "/api/v1/casualties?limit=1000").json()["items"]
    assert seen, "the demo shows the operator a casualty"
    casualty = admin("GET", f"/api/v1/casualties/{seen[0]['id']}").json()
    changed = admin("PATCH", f"/api/v1/casualties/{casualty['id']}",
                    {"full_name": "Mykola Ivanenko", "exact_age": 34})
    assert changed.status_code == 200, changed.text
    version = casualty["version"] + 1
    path = f"/records/casualties/{casualty['id']}"

    def newest(text: str) -> str:
        found = re.search(rf'<li data-version="{version}">(.*?)</li>', text, re.S)
        assert found, "the new version is in the history"
        return found.group(1)

    granted = newest(browser(app, "authority").get(path, headers=HTML).text)
    assert re.search(r'<tr data-field="full_name">.*?Mykola Ivanenko', granted, re.S)
    text = browser(app, "operator").get(path, headers=HTML).text
    assert "Mykola" not in text
    assert 'data-field="full_name"' not in newest(text)
    assert 'data-field="exact_age"' not in newest(text)
