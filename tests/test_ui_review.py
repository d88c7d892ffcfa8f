"""The review pages over HTTP on both backends, tested by what a decision means: a submission
waits in the authority's queue and counts in no figure until approved through the page; a
rejection needs a reason and then changes nothing; a proposed change shows the approved value
beside the proposed one; a form naming an older version decides nothing; operators have no
queue, and a record one may not see answers as one that does not exist."""

from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient
from shapely.geometry import box, mapping, shape
from test_ui_pages import HTML, Page
from ui_clients import api, browser


def submit_hazard(call, offset: float = 0.0) -> dict:
    """An operator's new hazard inside the demo region (it starts as submitted)."""
    hazards = call("GET", "/api/v1/hazards?limit=1").json()["items"]
    x, y = shape(hazards[0]["geometry"]).centroid.coords[0]
    made = call("POST", "/api/v1/hazards", {
        "hazard_type": "SHA", "reported_on": "2025-05-03", "sensitivity": "shared",
        "geometry": mapping(box(x + 0.05 + offset, y + 0.05, x + 0.052 + offset, y + 0.052))})
    assert made.status_code == 201, made.text
    assert made.json()["review_status"] == "submitted"
    return made.json()


def decision_form(client: TestClient, path: str) -> dict[str, str]:
    shown = client.get(path, headers=HTML)
    assert shown.status_code == 200, shown.text
    return Page(shown.text).inputs


def badge(html: str) -> int:
    found = re.search(r'data-review-count="(\d+)"', html)
    return int(found.group(1)) if found else 0


def test_approving_on_the_page_moves_a_submission_into_the_figures(app, demo_template):
    operator, authority = api(app, demo_template, "operator"), api(app, demo_template,
                                                                   "authority")
    made = submit_hazard(operator)
    before = authority("GET", "/api/v1/stats").json()
    page = browser(app, "authority")
    waiting = authority("GET", "/api/v1/review-queue").json()["total"]
    last = -(-waiting // 50)  # oldest first: the newest on the last page
    queue = page.get(f"/review?page={last}", headers=HTML).text
    assert made["code"] in queue and f'href="/review/hazards/{made["id"]}"' in queue
    assert badge(queue) == waiting and f'data-total="{waiting}"' in queue
    path = f"/review/hazards/{made['id']}"
    item = page.get(path, headers=HTML).text
    assert "New record submitted" in item and "counts until it is approved" in item
    assert authority("GET", "/api/v1/stats").json()["baseline_m2"] == before["baseline_m2"]

    fields = decision_form(page, path)
    done = page.post(path, data={**fields, "decision": "approve"}, headers=HTML,
                     follow_redirects=False)
    assert done.status_code == 303 and done.headers["location"].startswith("/review?done=")
    shown = page.get(done.headers["location"], headers=HTML).text
    assert f"<bdi>{made['code']}</bdi> approved." in shown
    assert authority("GET", f"/api/v1/hazards/{made['id']}").json()["review_status"] == \
        "approved"
    after = authority("GET", "/api/v1/stats").json()
    assert after["baseline_m2"] == pytest.approx(before["baseline_m2"] + made["baseline_m2"],
                                                 abs=0.01)
    assert made["baseline_m2"] > 0
    assert authority("GET", "/api/v1/review-queue").json()["total"] == waiting - 1
    assert badge(page.get("/review", headers=HTML).text) == waiting - 1


def test_a_rejection_needs_a_reason_in_the_readers_language(app, demo_template):
    operator = api(app, demo_template, "operator")
    made = submit_hazard(operator)
    authority = api(app, demo_template, "authority")
    page = browser(app, "authority")
    path = f"/review/hazards/{made['id']}"
    fields = decision_form(page, path)
    refused = page.post(f"{path}?lang=fr", data={**fields, "decision": "reject", "reason": " "},
                        headers=HTML)
    assert refused.status_code == 422
    assert 'aria-invalid="true"' in refused.text and "Say why" not in refused.text
    assert 'lang="fr"' in refused.text
    assert authority("GET", f"/api/v1/hazards/{made['id']}").json()["review_status"] == \
        "submitted"
    done = page.post(path, data={**fields, "decision": "reject",
                                 "reason": "Outside the survey area"},
                     headers=HTML, follow_redirects=False)
    assert done.status_code == 303
    rejected = operator("GET", f"/api/v1/hazards/{made['id']}").json()  # back with its owner
    assert rejected["review_status"] == "rejected"
    assert rejected["review_note"] == "Outside the survey area"


def test_a_proposed_change_shows_the_approved_value_beside_the_proposed_one(app, demo_template):
    operator, authority = api(app, demo_template, "operator"), api(app, demo_template,
                                                                   "authority")
    mine = operator("GET", "/api/v1/auth/me").json()["organisation_id"]
    own = [h for h in operator("GET", "/api/v1/hazards?limit=500").json()["items"]
           if h["review_status"] == "approved" and h["organisation_id"] == mine]
    assert own, "the demo gives the operator approved hazards"
    target = own[0]
    url = f"/api/v1/hazards/{target['id']}"
    old_name = target.get("name")
    proposed = operator("PATCH", url, {"name": "Renamed by the operator"})
    assert proposed.status_code == 200, proposed.text
    assert proposed.json()["pending_change"]["changes"] == {"name": "Renamed by the operator"}
    page = browser(app, "authority")
    item = page.get(f"/review/hazards/{target['id']}", headers=HTML).text
    row = re.search(r'<tr class="changed" data-field="name">(.*?)</tr>', item, re.S)
    assert row, "the name is marked as changed"
    assert "Renamed by the operator" in row.group(1)
    if old_name:
        assert old_name in row.group(1)
    assert 'data-field="hazard_type"' in item
    assert '<tr class="changed" data-field="hazard_type">' not in item
    # the approved version still counts until the decision
    assert authority("GET", url).json()["name"] == old_name


def test_a_form_naming_an_older_version_decides_nothing(app, demo_template):
    operator, authority = api(app, demo_template, "operator"), api(app, demo_template,
                                                                   "authority")
    made = submit_hazard(operator)
    page = browser(app, "authority")
    path = f"/review/hazards/{made['id']}"
    fields = decision_form(page, path)
    edited = operator("PATCH", f"/api/v1/hazards/{made['id']}", {"name": "Edited meanwhile"})
    assert edited.status_code == 200, edited.text
    late = page.post(path, data={**fields, "decision": "approve"}, headers=HTML)
    assert late.status_code == 409 and "Edited meanwhile" in late.text
    assert authority("GET", f"/api/v1/hazards/{made['id']}").json()["review_status"] == \
        "submitted"


def test_a_decision_without_the_sessions_token_decides_nothing(app, demo_template):
    made = submit_hazard(api(app, demo_template, "operator"))
    page = browser(app, "authority")
    path = f"/review/hazards/{made['id']}"
    fields = decision_form(page, path)
    forged = page.post(path, data={**fields, "csrf_token": "forged", "decision": "approve"},
                       headers=HTML)
    assert forged.status_code == 403
    status = api(app, demo_template, "authority")("GET", f"/api/v1/hazards/{made['id']}")
    assert status.json()["review_status"] == "submitted"


def test_who_has_no_queue_sees_none_and_hidden_records_answer_as_missing(app, demo_template):
    made = submit_hazard(api(app, demo_template, "operator"))
    anonymous = browser(app).get("/review", headers=HTML, follow_redirects=False)
    assert anonymous.status_code == 303
    assert anonymous.headers["location"] == "/login?next=%2Freview"
    operator = browser(app, "operator")
    queue = operator.get("/review", headers=HTML).text
    assert 'data-total="0"' in queue and "No submissions waiting." in queue
    assert badge(queue) == 0
    # its own submission is seen, not decided, by the operator: the record page instead
    own = operator.get(f"/review/hazards/{made['id']}", headers=HTML, follow_redirects=False)
    assert own.status_code == 303 and own.headers["location"] == f"/records/hazards/{made['id']}"
    viewer = browser(app, "viewer")
    hidden = viewer.get(f"/review/hazards/{made['id']}", headers=HTML)
    missing = viewer.get("/review/hazards/987654321", headers=HTML)
    assert hidden.status_code == missing.status_code == 404
    assert hidden.text.replace(f"/{made['id']}", "/N") == missing.text.replace(
        "/987654321", "/N")
    forged = viewer.post(f"/review/hazards/{made['id']}", headers=HTML, data={
        **Page(viewer.get("/map", headers=HTML).text).inputs, "decision": "approve"})
    assert forged.status_code == 404
