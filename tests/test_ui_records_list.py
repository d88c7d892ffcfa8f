"""The record lists over HTTP on both stores: each layer's list shows what the API lists for
the same user (need-to-know holds: a restricted hazard of another organisation is in neither),
filters and search in the URL narrow it as the API's do, paging walks it once, the CSV holds
what the filters select, and a filter value the layer does not know is named, not ignored."""

from __future__ import annotations

import csv
import io
import re

import pytest
from fastapi.testclient import TestClient
from test_ui_pages import HTML
from ui_clients import browser


def listed(client: TestClient, path: str) -> tuple[list[int], int]:
    """The record ids a list page shows, and the total it announces."""
    shown = client.get(path, headers=HTML)
    assert shown.status_code == 200, shown.text
    ids = [int(i) for i in re.findall(r'<tr data-id="(\d+)">', shown.text)]
    total = int(re.search(r'class="count" data-total="(\d+)"', shown.text).group(1))
    return ids, total


def api_ids(app, demo_template, role: str | None, layer: str, **params) -> list[int]:
    client = TestClient(app, base_url="http://127.0.0.1")
    headers = demo_template.bearer(role) if role else {}
    found, offset = [], 0
    while True:
        body = client.get(f"/api/v1/{layer}", params={**params, "limit": 1000,
                                                       "offset": offset}, headers=headers)
        assert body.status_code == 200, body.text
        items = body.json()["items"]
        found += [i["id"] for i in items]
        if len(items) < 1000:
            return found
        offset += 1000


@pytest.mark.parametrize("role", [None, "viewer", "operator", "authority"])
def test_each_list_shows_what_the_api_lists_for_the_same_user(app, demo_template, role):
    client = browser(app, role)
    for layer in ("hazards", "activities", "accidents"):
        expected = api_ids(app, demo_template, role, layer)
        seen, page, total = [], 1, None
        while True:
            ids, total = listed(client, f"/records/{layer}?page={page}")
            seen += ids
            if not ids or len(seen) >= total:
                break
            page += 1
        assert total == len(expected) and sorted(seen) == sorted(expected), layer
        assert len(seen) == len(set(seen)), "paging shows each record once"


def test_need_to_know_holds_in_the_lists(app, demo_template):
    authority = set(api_ids(app, demo_template, "authority", "hazards"))
    viewer = browser(app, "viewer")
    sees = set(api_ids(app, demo_template, "viewer", "hazards"))
    hidden = authority - sees
    assert hidden, "the demo hides some hazards from the viewer's NGO"
    ids, total = listed(viewer, "/records/hazards?page=1")
    everything = []
    for page in range(1, -(-total // 50) + 1):
        everything += listed(viewer, f"/records/hazards?page={page}")[0]
    assert not hidden & set(everything)
    shown = viewer.get("/records", headers=HTML).text
    count = int(re.search(r'data-layer="hazards" data-total="(\d+)"', shown).group(1))
    assert count == total == len(sees) and set(everything) == sees


def test_filters_and_search_narrow_as_the_api_does(app, demo_template):
    client = browser(app, "authority")
    for params in ({"status": "open"}, {"type": "CHA"}, {"from": "2025-01-01",
                                                         "to": "2025-06-30"}):
        path = "/records/hazards?" + "&".join(f"{k}={v}" for k, v in params.items())
        ids, total = listed(client, path)
        api = {"date_from" if k == "from" else "date_to" if k == "to" else k: v
               for k, v in params.items()}
        expected = api_ids(app, demo_template, "authority", "hazards", **api)
        assert total == len(expected) and set(ids) <= set(expected), params
        assert 0 < total < len(api_ids(app, demo_template, "authority", "hazards")), params
    first = api_ids(app, demo_template, "authority", "hazards")[0]
    code = TestClient(app).get(f"/api/v1/hazards/{first}",
                               headers=demo_template.bearer("authority")).json()["code"]
    ids, total = listed(client, f"/records/hazards?q={code}")
    assert first in ids


def test_the_csv_holds_what_the_filters_select(app, demo_template):
    client = browser(app, "operator")
    answer = client.get("/records/hazards?status=open&format=csv", headers=HTML)
    assert answer.status_code == 200 and answer.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(answer.text)))
    expected = api_ids(app, demo_template, "operator", "hazards", status="open")
    assert sorted(int(r["id"]) for r in rows) == sorted(expected)
    assert {r["status"] for r in rows} == {"open"}


def test_a_value_the_list_does_not_know_is_named(app):
    client = browser(app, "authority")
    shown = client.get("/records/hazards?status=exploded&from=yesterday", headers=HTML)
    assert shown.status_code == 200
    assert 'role="alert"' in shown.text and "from: not a date" in shown.text
    assert "status: not one of the values this list knows; left out." in shown.text
    # the filters it could read still apply: here none, so the whole list
    total = int(re.search(r'class="count" data-total="(\d+)"', shown.text).group(1))
    assert total == listed(client, "/records/hazards")[1] > 0
    assert client.get("/records/no_such_layer", headers=HTML).status_code == 404
