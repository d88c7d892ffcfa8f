"""Trust corrections: what the rules *mean*, tried as a partner who does not trust the others.

- Only approved data moves official figures: a submitted release is pending (reserving its
  ground, shown to its owner) until approved; rejecting, editing and deleting move the ledger
  accordingly (a property test over random sequences checks the ledger and the statistics).
- Organisations work only hazards that are theirs or that the authority tasked them on.
- Every write response goes through the same redaction as GET.
- Ids are never reused, and grants go with their record.
- Derived records (land releases, casualties) follow their parent's visibility everywhere.
- No response differs between a record the actor may not see and no record at all.
- Fields that decide rights change only by an administrator.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator

import mapbox_vector_tile
import pytest
import shapely
from conftest import BACKENDS, Cli, StoreTemplate, api_token, filled_template
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pyproj import Geod
from shapely.geometry import box, mapping, shape
from sqlalchemy import select

from demine.domain.actors import Actor
from demine.services.access import sharing
from demine.services.tiles.grid import tile_of
from demine.settings import Settings
from demine.storage.database import Database
from demine.storage.tables import record_grants, table, taskings
from demine.web.app import create_app

X, Y = 30.50, 50.40  # no gazetteer in these stores: anywhere on land will do
PASSWORD = "correct horse battery staple"
USERS = {"admin": ("NMAA", "admin"), "authority": ("NMAA", "authority"),
         "opa": ("OPA", "operator"), "opb": ("OPB", "operator"), "ngo": ("NGO", "viewer")}


def geodesic_m2(geom) -> float:
    """Independent area: pyproj.Geod over edges densified to ~1 m."""
    area, _ = Geod(ellps="WGS84").geometry_area_perimeter(shapely.segmentize(geom, 1e-5))
    return abs(area)


def fill_world(cli) -> dict[str, str]:
    """An authority, two operators (OPA shares with OPB) and an NGO; an API token each."""
    for code, kind in (("NMAA", "authority"), ("OPA", "operator"), ("OPB", "operator"),
                       ("NGO", "ngo")):
        assert cli("org", "add", "--code", code, "--name", code, "--kind", kind).exit_code == 0
    tokens = {}
    for who, (org, role) in USERS.items():
        result = cli("user", "add", "--email", f"{who}@t.org", "--org", org, "--role", role,
                     "--password-stdin", input=PASSWORD + "\n")
        assert result.exit_code == 0, result.output
        tokens[who] = api_token(cli, f"{who}@t.org")
    shared = cli("share", "add", "--owner", "OPA", "--partner", "OPB")
    assert shared.exit_code == 0, shared.output
    return tokens


class World:
    """A store with an authority, two operators (OPA shares with OPB) and an NGO, signed in."""

    def __init__(self, template: StoreTemplate, url: str):
        self.url = url
        self.headers = {who: template.bearer(who) for who in USERS}
        self.headers["anonymous"] = {}
        self.database = Database(Settings(database_url=url))
        self.cli = Cli(url)
        self.app = create_app(Settings(database_url=url))
        self.api = TestClient(self.app, raise_server_exceptions=False)
        self.n = 0

    def close(self) -> None:
        """Release the store."""
        self.api.close()
        self.app.state.database.dispose()
        self.database.dispose()

    def hazard(self, owner: str = "OPA", sensitivity: str = "public", **fields) -> dict:
        """A new approved hazard (entered by the administrator) in its own square."""
        self.n += 1
        x = X + 0.01 * self.n
        body = {"hazard_type": "CHA", "reported_on": "2025-05-02", "organisation_id": owner,
                "sensitivity": sensitivity, "geometry": mapping(box(x, Y, x + 0.002, Y + 0.002)),
                **fields}
        response = self.api.post("/api/v1/hazards", json=body, headers=self.headers["admin"])
        assert response.status_code == 201, response.text
        return response.json()

    def get(self, path: str, who: str):
        """GET as someone."""
        return self.api.get(path, headers=self.headers[who])

    def write(self, method: str, path: str, who: str, body=None):
        """A write with the current ETag as If-Match (read as the administrator)."""
        etag = self.get(path.removesuffix("/review"), "admin").headers.get("ETag", '"none"')
        return self.api.request(method, path, json=body,
                                headers={**self.headers[who], "If-Match": etag})

    def review(self, path: str, decision: str, who: str = "authority"):
        """Approve or reject a record."""
        body = {"decision": decision, **({"reason": "not as surveyed"}
                                         if decision == "reject" else {})}
        return self.write("POST", f"{path}/review", who, body)

    def release(self, hazard: dict, part, who: str = "opa", **fields):
        """Post a completed clearance releasing ``part`` of the hazard."""
        body = {"hazard_id": hazard["id"], "kind": "clearance", "status": "completed",
                "start_date": "2025-06-01", "end_date": "2025-06-20",
                "geometry": mapping(part), "released_geometry": mapping(part), **fields}
        return self.api.post("/api/v1/activities", json=body, headers=self.headers[who])

    def stats(self, who: str = "anonymous") -> dict:
        """/api/v1/stats as someone."""
        response = self.get("/api/v1/stats", who)
        assert response.status_code == 200, response.text
        return response.json()


@pytest.fixture(scope="module", params=BACKENDS)
def world_template(request, tmp_path_factory) -> Iterator[StoreTemplate]:
    """The world's store on each backend, filled once per module (signing up costs argon2)."""
    template = filled_template(request, request.param, tmp_path_factory.mktemp("world"),
                               fill_world, "world")
    yield template
    template.drop()


@pytest.fixture
def world(world_template, tmp_path):
    """A private copy of the world for one test."""
    url, remove = world_template.copy(tmp_path)
    w = World(world_template, url)
    yield w
    w.close()
    remove()


def quarters(hazard: dict) -> list:
    """The hazard's four quarters."""
    x0, y0, x1, y1 = shape(hazard["geometry"]).bounds
    xm, ym = (x0 + x1) / 2, (y0 + y1) / 2
    return [box(x0, y0, xm, ym), box(xm, y0, x1, ym), box(x0, ym, xm, y1), box(xm, ym, x1, y1)]


# --- 1. approval gates the ledger ----------------------------------------------------------

def test_a_submitted_release_moves_no_figure_until_approved(world):
    hazard = world.hazard()
    path = f"/api/v1/hazards/{hazard['id']}"
    before, stats_before = world.get(path, "anonymous"), world.stats()
    west = quarters(hazard)[0].union(quarters(hazard)[2])

    refused = world.release(hazard, west, who="opb")  # another organisation's hazard
    assert refused.status_code == 422, refused.text
    assert refused.json()["error"]["field"] == "hazard_id"
    tasked = world.api.post(f"{path}/taskings", json={"organisation": "OPB"},
                            headers=world.headers["authority"])
    assert tasked.status_code == 201, tasked.text
    assert world.api.post(f"{path}/taskings", json={"organisation": "OPB"},
                          headers=world.headers["opa"]).status_code == 403

    posted = world.release(hazard, west, who="opb", sensitivity="shared")
    assert posted.status_code == 201, posted.text
    assert posted.json()["review_status"] == "submitted"
    activity = f"/api/v1/activities/{posted.json()['id']}"

    # Nothing official moved: the hazard (same version, same ETag) and the statistics.
    after = world.get(path, "anonymous")
    assert after.json() == before.json() and after.headers["ETag"] == before.headers["ETag"]
    assert world.stats() == stats_before
    assert world.stats("authority")["cleared_m2"] == stats_before["cleared_m2"]
    # Its owner sees the pending release apart.
    own = world.stats("opb")["own_unapproved"]
    assert own["pending_released_m2"]["cleared_m2"] == pytest.approx(geodesic_m2(west), rel=1e-6)

    # Pending ground is reserved: the owner's own release over it is refused.
    clash = world.release(hazard, quarters(hazard)[0])
    assert clash.status_code == 422, clash.text
    assert "m²" not in clash.json()["error"]["message"]

    approved = world.review(activity, "approve")
    assert approved.status_code == 200, approved.text
    counted = world.get(path, "anonymous").json()
    assert counted["cleared_m2"] == pytest.approx(geodesic_m2(west), rel=1e-6)
    assert counted["status"] == "worked_on"
    assert counted["remaining_m2"] + counted["cleared_m2"] == pytest.approx(
        counted["baseline_m2"], abs=1e-6)
    assert world.stats()["cleared_m2"] == pytest.approx(
        stats_before["cleared_m2"] + geodesic_m2(west), abs=0.02)

    # The operator's deletion of the approved activity waits for the authority; once
    # approved, its release comes off the ledger.
    asked = world.write("DELETE", activity, "opb")
    assert asked.status_code == 202 and asked.json()["pending_change"]["action"] == "delete"
    assert world.get(path, "anonymous").json() == counted
    assert world.review(activity, "approve").status_code == 200
    assert world.get(activity, "opb").status_code == 404
    assert world.get(path, "anonymous").json()["cleared_m2"] == pytest.approx(0, abs=1e-6)
    assert world.stats()["cleared_m2"] == pytest.approx(stats_before["cleared_m2"], abs=0.02)


def test_a_whole_release_closes_the_hazard_only_once_approved_and_rejection_frees_it(world):
    hazard = world.hazard()
    path = f"/api/v1/hazards/{hazard['id']}"
    whole = shape(hazard["geometry"])
    posted = world.release(hazard, whole, sensitivity="confidential")
    assert posted.status_code == 201, posted.text
    assert world.get(path, "anonymous").json()["status"] == "open"
    activity = f"/api/v1/activities/{posted.json()['id']}"
    assert world.review(activity, "reject", who="admin").status_code == 200
    assert world.get(path, "anonymous").json()["status"] == "open"
    assert world.get(path, "anonymous").json()["cleared_m2"] == 0
    # Rejected ground is free again.
    again = world.release(hazard, whole, sensitivity="shared")
    assert again.status_code == 201, again.text
    assert world.review(f"/api/v1/activities/{again.json()['id']}", "approve").status_code == 200
    closed = world.get(path, "anonymous").json()
    assert closed["status"] == "closed" and closed["remaining_m2"] == pytest.approx(0, abs=1)


OPS = st.lists(st.tuples(st.sampled_from(["submit", "approve", "reject", "edit", "move",
                                          "delete"]),
                         st.integers(0, 3)), min_size=3, max_size=8)


@settings(max_examples=6, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(ops=OPS)
def test_the_ledger_counts_exactly_the_approved_releases(world, ops):
    """Random submit / approve / reject / edit / redraw / delete sequences of releases on one
    hazard: the hazard's ledger, remaining area and the national statistics always equal what
    the approved releases add up to; an operator's edit or deletion of an approved activity
    waits for the authority and moves nothing until approved; pending and approved ground is
    never claimed twice."""
    hazard = world.hazard()
    parts = quarters(hazard)
    path = f"/api/v1/hazards/{hazard['id']}"
    start = world.stats()["cleared_m2"]
    model: dict[int, list] = {}  # activity id → [quarter, review status, waiting change]

    def taken(but: int | None = None) -> set[int]:
        return {q for t, (q, s, _) in model.items() if t != but and s != "rejected"}

    for op, k in ops:
        mine = sorted(model)
        if op == "submit":
            response = world.release(hazard, parts[k], sensitivity="shared")
            if k in taken():
                assert response.status_code == 422, response.text
            else:
                assert response.status_code == 201, response.text
                model[response.json()["id"]] = [k, "submitted", None]
            continue
        if not mine:
            continue
        target = mine[k % len(mine)]
        entry = model[target]
        quarter, status, waiting = entry
        url = f"/api/v1/activities/{target}"
        if op in ("approve", "reject"):
            response = world.review(url, op)
            if status == "submitted":
                assert response.status_code == 200, response.text
                entry[1] = "approved" if op == "approve" else "rejected"
            elif status == "approved" and waiting is None:
                assert response.status_code == 409, response.text
            elif status == "approved" and op == "reject":
                assert response.status_code == 200, response.text
                entry[2] = None
            elif status == "approved" and waiting == ("delete",):
                assert response.status_code == 200, response.text
                del model[target]
            elif status == "approved":
                moved_to = waiting[1]
                if moved_to is not None and moved_to in taken(but=target):
                    assert response.status_code == 422, response.text
                else:
                    assert response.status_code == 200, response.text
                    entry[0], entry[2] = (quarter if moved_to is None else moved_to), None
            else:  # the authority does not see others' rejected records at all
                assert response.status_code == 404, response.text
        elif op in ("edit", "move"):
            body = {"depth_cm": 20 + k} if op == "edit" else {
                "geometry": mapping(parts[k]), "released_geometry": mapping(parts[k])}
            response = world.write("PATCH", url, "opa", body)
            if status == "approved":  # waits for the authority
                assert response.status_code == 200, response.text
                assert response.json()["pending_change"]["action"] == "update"
                before = waiting[1] if waiting and waiting[0] == "update" else None
                entry[2] = ("update", k if op == "move" else before)
            else:
                lands = k if op == "move" else quarter
                if lands in taken(but=target):
                    assert response.status_code == 422, response.text
                else:
                    assert response.status_code == 200, response.text
                    entry[0], entry[1] = lands, "submitted"
        else:
            response = world.write("DELETE", url, "opa")
            if status == "approved":
                assert response.status_code == 202, response.text
                entry[2] = ("delete",)
            else:
                assert response.status_code == 204, response.text
                del model[target]
        counted = sum(geodesic_m2(parts[q]) for q, s, _ in model.values() if s == "approved")
        ledger = world.get(path, "anonymous").json()
        assert ledger["cleared_m2"] == pytest.approx(counted, abs=0.01)
        assert ledger["remaining_m2"] == pytest.approx(ledger["baseline_m2"] - counted, abs=0.01)
        assert ledger["status"] == ("worked_on" if counted or ledger["status"] == "worked_on"
                                    else "open")
        assert world.stats()["cleared_m2"] == pytest.approx(start + counted, abs=0.05)


def test_unapproved_finds_count_no_eo_destroyed_until_approved(world):
    hazard = world.hazard()
    point = shape(hazard["geometry"]).centroid
    body = {"hazard_id": hazard["id"], "category": "ap_mine", "quantity": 3,
            "disposal": "destroyed_in_situ", "found_on": "2025-06-03",
            "sensitivity": "public", "geometry": mapping(point)}
    before = world.stats()["eo_destroyed"]["ap_mine"]
    posted = world.api.post("/api/v1/eo_finds", json=body, headers=world.headers["opa"])
    assert posted.status_code == 201, posted.text
    assert world.stats()["eo_destroyed"]["ap_mine"] == before
    assert world.stats("authority")["eo_destroyed"]["ap_mine"] == before
    refused = world.api.post("/api/v1/eo_finds", json=body, headers=world.headers["opb"])
    assert refused.status_code == 422 and refused.json()["error"]["field"] == "hazard_id"
    assert world.review(f"/api/v1/eo_finds/{posted.json()['id']}", "approve").status_code == 200
    assert world.stats()["eo_destroyed"]["ap_mine"] == before + 3
    assert world.stats("authority")["eo_destroyed"]["ap_mine"] == before + 3


def test_an_edit_of_approved_data_waits_and_moves_no_figure(world):
    """An operator's edit of an approved hazard or find is a proposal: the public, the map
    and the statistics keep the approved version until the authority approves the change."""
    hazard = world.hazard(owner="OPA")
    path = f"/api/v1/hazards/{hazard['id']}"
    point = shape(hazard["geometry"]).centroid
    find = world.api.post("/api/v1/eo_finds", headers=world.headers["admin"], json={
        "hazard_id": hazard["id"], "category": "uxo", "quantity": 3, "organisation_id": "OPA",
        "disposal": "destroyed_in_situ", "found_on": "2025-06-03", "sensitivity": "public",
        "geometry": mapping(point)})
    assert find.status_code == 201, find.text
    find_path = f"/api/v1/eo_finds/{find.json()['id']}"
    public, stats = world.get(path, "anonymous"), world.stats()
    smaller = box(*shape(hazard["geometry"]).bounds).buffer(-0.0005)
    edited = world.write("PATCH", path, "opa", {"geometry": mapping(smaller), "name": "moved"})
    assert edited.status_code == 200, edited.text
    assert edited.json()["pending_change"]["changes"]["name"] == "moved"
    assert edited.json()["review_status"] == "approved" and edited.json().get("name") is None
    assert world.write("PATCH", find_path, "opa", {"quantity": 300}).status_code == 200
    assert world.get(path, "anonymous").json() == public.json()
    assert "pending_change" not in world.get(path, "opb").json()  # a partner sees none of it
    assert world.stats() == stats
    assert world.get(path, "authority").json()["pending_change"]["proposed_by"] == "opa@t.org"
    assert world.review(path, "approve").status_code == 200
    assert world.review(find_path, "reject").status_code == 200
    applied = world.get(path, "anonymous").json()
    assert applied["name"] == "moved" and applied["recorded_by"] == "opa@t.org"
    assert applied["baseline_m2"] == pytest.approx(geodesic_m2(smaller), rel=1e-6)
    assert world.get(find_path, "anonymous").json()["quantity"] == 3
    assert world.stats()["eo_destroyed"]["uxo"] == stats["eo_destroyed"]["uxo"]
    assert world.stats()["baseline_m2"] == pytest.approx(
        stats["baseline_m2"] - hazard["baseline_m2"] + geodesic_m2(smaller), abs=0.05)


# --- 2. write responses are redacted like GET -------------------------------------------

def test_every_write_response_is_what_get_shows(world):
    accident = world.api.post("/api/v1/accidents", headers=world.headers["opa"], json={
        "kind": "accident", "occurred_on": "2025-04-01", "sensitivity": "shared",
        "geometry": {"type": "Point", "coordinates": [X, Y]}})
    assert accident.status_code == 201, accident.text
    assert world.review(f"/api/v1/accidents/{accident.json()['id']}", "approve",
                        who="admin").status_code == 200
    personal = {"full_name": "Olena K.", "contact": "+380 00 000", "exact_age": 34,
                "address": "Field road 3"}
    created = world.api.post("/api/v1/casualties", headers=world.headers["opa"], json={
        "accident_id": accident.json()["id"], "outcome": "injured", "role": "civilian",
        "sensitivity": "shared", **personal})
    assert created.status_code == 201, created.text
    path = f"/api/v1/casualties/{created.json()['id']}"
    writes = [("opa", lambda: created),
              ("opa", lambda: world.write("PATCH", path, "opa", {"activity_at_time": "farming"})),
              ("authority", lambda: world.review(path, "approve")),
              ("admin", lambda: world.write("PATCH", path, "admin", {"exact_age": 35})),
              ("opa", lambda: world.write("PATCH", path, "opa", {"full_name": "O. K."}))]
    for who, write in writes:
        response = write()
        assert response.status_code in (200, 201), response.text
        body = response.json()
        assert all(body[k] is None for k in personal), (who, body)
        waiting = body.get("pending_change") or {"changes": {}}
        assert all(waiting["changes"].get(k) is None for k in personal), body
        read = world.get(path, who)
        assert body == read.json() and response.headers["ETag"] == read.headers["ETag"]
    # What was written is stored; only the readers without the grant do not see it.
    with world.database.read() as uow:
        stored = uow.conn.execute(select(table("casualties")).where(
            table("casualties").c.id == created.json()["id"])).mappings().one()
    assert (stored["full_name"], stored["exact_age"]) == ("Olena K.", 35)


# --- 3. ids are never reused; grants go with their record ----------------------------------

def test_a_deleted_records_id_and_grants_are_never_given_to_another(world):
    world.hazard(owner="OPA")
    hidden = world.hazard(owner="OPA", sensitivity="restricted")  # the highest id
    granted = world.cli("grant", "add", "--layer", "hazards", "--record", hidden["code"],
                        "--org", "NGO")
    assert granted.exit_code == 0, granted.output
    path = f"/api/v1/hazards/{hidden['id']}"
    assert world.get(path, "ngo").status_code == 200
    assert world.write("DELETE", path, "admin").status_code == 204
    with world.database.read() as uow:
        assert not uow.conn.execute(select(record_grants).where(
            record_grants.c.table_name == "hazards",
            record_grants.c.record_id == hidden["id"])).first()
    other = world.hazard(owner="OPB", sensitivity="restricted")
    assert other["id"] > hidden["id"]
    for url in (f"/api/v1/hazards/{other['id']}",
                f"/ogc/collections/hazards/items/{other['id']}"):
        assert world.get(url, "ngo").status_code == 404
    # Nor through an explicit id (imports and OGC clients may send one).
    explicit = world.api.post("/ogc/collections/hazards/items", headers=world.headers["admin"],
                              json={"type": "Feature", "id": hidden["id"],
                                    "geometry": hidden["geometry"],
                                    "properties": {"hazard_type": "SHA",
                                                   "reported_on": "2025-05-02",
                                                   "organisation_id": "OPB", "id": hidden["id"]}})
    assert explicit.status_code == 201, explicit.text
    assert explicit.json()["id"] != hidden["id"]


def test_tasking_entries_in_the_audit_log_follow_their_hazard(world):
    hidden = world.hazard(owner="OPA", sensitivity="confidential")
    seen = world.hazard(owner="OPA", sensitivity="shared")
    for hazard in (hidden, seen):
        assert world.api.post(f"/api/v1/hazards/{hazard['id']}/taskings",
                              json={"organisation": "OPB"},
                              headers=world.headers["admin"]).status_code == 201
    log = world.get("/api/v1/audit?limit=1000", "authority")
    assert log.status_code == 200, log.text
    tasked = [e for e in log.json()["items"] if e["action"] == "taskings.create"]
    assert [e.get("redacted", False) for e in tasked] == [True, False]
    assert tasked[1]["record_code"] == f"{seen['id']}>OPB"


def test_deleting_a_hazard_ends_its_taskings(world):
    hazard = world.hazard()
    path = f"/api/v1/hazards/{hazard['id']}"
    assert world.api.post(f"{path}/taskings", json={"organisation": "OPB"},
                          headers=world.headers["authority"]).status_code == 201
    assert [t["organisation"] for t in world.get(f"{path}/taskings", "opb").json()] == ["OPB"]
    assert world.write("DELETE", path, "admin").status_code == 204
    with world.database.read() as uow:
        assert not uow.conn.execute(select(taskings)).first()


# --- 4. children follow their parent's visibility -----------------------------------------

def _tile_features(world, who: str, layer: str, point) -> list[dict]:
    z, (x, y) = 14, tile_of(point.x, point.y, 14)
    response = world.get(f"/tiles/{layer}/{z}/{x}/{y}.pbf", who)
    assert response.status_code in (200, 204), response.text
    if response.status_code == 204 or not response.content:
        return []
    decoded = mapbox_vector_tile.decode(response.content)
    return decoded.get(layer, {}).get("features", [])


def test_a_release_and_a_casualty_follow_their_parents_visibility(world):
    hazard = world.hazard(owner="OPA", sensitivity="shared")
    part = quarters(hazard)[0]
    activity = world.release(hazard, part, who="admin", organisation_id="OPA",
                             sensitivity="shared")
    assert activity.status_code == 201, activity.text
    bbox = ",".join(map(str, part.bounds))
    items = world.get(f"/ogc/collections/land_releases/items?bbox={bbox}",
                      "admin").json()["features"]
    release = next(f for f in items if f["properties"]["activity_id"] == activity.json()["id"])
    release_url = f"/ogc/collections/land_releases/items/{release['id']}"
    centre = part.centroid
    assert world.get(release_url, "opb").status_code == 200  # OPA shares with OPB
    assert _tile_features(world, "opb", "land_releases", centre)

    made_restricted = world.write("PATCH", f"/api/v1/activities/{activity.json()['id']}",
                                  "admin", {"sensitivity": "restricted"})
    assert made_restricted.status_code == 200, made_restricted.text
    assert world.get(release_url, "opb").status_code == 404
    assert not _tile_features(world, "opb", "land_releases", centre)
    assert world.get(release_url, "opa").status_code == 200
    # A name on the activity reaches its release too.
    activity_code = activity.json()["code"]
    assert world.cli("grant", "add", "--layer", "activities", "--record", activity_code,
                     "--org", "OPB").exit_code == 0
    assert world.get(release_url, "opb").status_code == 200
    assert _tile_features(world, "opb", "land_releases", centre)

    accident = world.api.post("/api/v1/accidents", headers=world.headers["admin"], json={
        "kind": "accident", "occurred_on": "2025-04-01", "sensitivity": "shared",
        "organisation_id": "OPA", "geometry": {"type": "Point", "coordinates": [X, Y]}})
    casualty = world.api.post("/api/v1/casualties", headers=world.headers["admin"], json={
        "accident_id": accident.json()["id"], "outcome": "killed", "role": "deminer",
        "organisation_id": "OPA", "sensitivity": "shared"})
    assert casualty.status_code == 201, casualty.text
    casualty_url = f"/api/v1/casualties/{casualty.json()['id']}"
    assert world.get(casualty_url, "opb").status_code == 200
    world.write("PATCH", f"/api/v1/accidents/{accident.json()['id']}", "admin",
                {"sensitivity": "confidential"})
    assert world.get(casualty_url, "opb").status_code == 404
    assert casualty.json()["id"] not in [c["id"] for c in world.get(
        "/api/v1/casualties", "opb").json()["items"]]


# --- 5. no response tells a hidden record from no record ----------------------------------

def _same(a, b, hidden_id: int, missing_id: int) -> None:
    assert a.status_code == b.status_code
    assert a.text.replace(str(hidden_id), "N") == b.text.replace(str(missing_id), "N")


def test_hidden_and_missing_records_get_the_same_answers(world):
    hidden = world.hazard(owner="OPA", sensitivity="confidential", code="HIDDEN-1")
    missing = 2**31 - 5
    for method, suffix, body in (("GET", "", None), ("PATCH", "", {"name": "x"}),
                                 ("DELETE", "", None), ("POST", "/review",
                                                        {"decision": "approve"}),
                                 ("GET", "/taskings", None),
                                 ("POST", "/taskings", {"organisation": "OPB"})):
        answers = [world.api.request(method, f"/api/v1/hazards/{i}{suffix}", json=body,
                                     headers={**world.headers["opb"], "If-Match": '"x"'})
                   for i in (hidden["id"], missing)]
        _same(*answers, hidden["id"], missing)
    for method, body in (("GET", None), ("PATCH", {"type": "Feature", "properties": {
            "name": "x"}}), ("PUT", {"type": "Feature", "geometry": hidden["geometry"],
                                     "properties": {"hazard_type": "SHA"}}), ("DELETE", None)):
        answers = [world.api.request(method, f"/ogc/collections/hazards/items/{i}", json=body,
                                     headers=world.headers["opb"])
                   for i in (hidden["id"], missing)]
        _same(*answers, hidden["id"], missing)
    refs = [world.api.post("/api/v1/activities", headers=world.headers["opb"], json={
        "hazard_id": i, "kind": "nts", "status": "planned", "start_date": "2025-06-01",
        "geometry": hidden["geometry"]}) for i in (hidden["id"], missing)]
    _same(*refs, hidden["id"], missing)
    codes = [world.api.post("/api/v1/hazards", headers=world.headers["opb"], json={
        "code": code, "hazard_type": "SHA", "reported_on": "2025-05-02",
        "geometry": hidden["geometry"]}) for code in ("HIDDEN-1", "NEVER-USED-1")]
    assert codes[0].status_code == codes[1].status_code == 422
    assert codes[0].text == codes[1].text
    assert "HIDDEN" not in codes[0].text


def test_the_overlap_refusal_states_no_figure_of_what_it_overlaps(world):
    hazard = world.hazard()
    world.api.post(f"/api/v1/hazards/{hazard['id']}/taskings", json={"organisation": "OPB"},
                   headers=world.headers["authority"])
    q = quarters(hazard)
    hidden = world.release(hazard, q[0], who="opb", sensitivity="confidential")
    assert hidden.status_code == 201, hidden.text
    probe = world.release(hazard, q[0].union(q[1]))
    assert probe.status_code == 422
    message = probe.json()["error"]["message"]
    assert not re.search(r"\d+(\.\d+)? ?m²", message) and "%" not in message
    assert hidden.json()["code"] not in message


# --- 6. rights fields are an administrator's ----------------------------------------------

def test_only_an_administrator_changes_an_organisations_kind(world):
    orgs = {o["code"]: o for o in world.get("/api/v1/organisations", "admin").json()["items"]}
    path = f"/api/v1/organisations/{orgs['OPB']['id']}"
    refused = world.write("PATCH", path, "authority", {"kind": "authority"})
    assert refused.status_code == 403, refused.text
    assert world.get(path, "admin").json()["kind"] == "operator"
    created = world.api.post("/api/v1/organisations", headers=world.headers["authority"],
                             json={"code": "NMAA2", "name": "Second", "kind": "authority"})
    assert created.status_code == 403, created.text
    assert world.write("PATCH", path, "authority", {"name": "OPB renamed"}).status_code == 200
    done = world.write("PATCH", path, "admin", {"kind": "authority"})
    assert done.status_code == 200 and done.json()["kind"] == "authority"
    audit = world.get("/api/v1/audit?limit=1000", "admin").json()["items"]
    assert any(e["action"] == "organisations.update" and e["actor"].startswith("admin@")
               for e in audit)
    with world.database.transaction() as uow, pytest.raises(Exception, match="administrator"):
        sharing.add_sharing_agreement(uow, actor=_actor_of(world, "authority"), owner="NMAA",
                                      partner="OPB")


def _actor_of(world, who: str) -> Actor:
    from demine.services.access.accounts import actor_of, user_id_of

    with world.database.read() as uow:
        return actor_of(uow, user_id_of(uow, f"{who}@t.org"))


# --- the upgrade of stores made before approval gated the ledger ---------------------------

def test_upgrading_an_old_store_uncounts_only_releases_of_activities_not_approved(world):
    """Before 0008 every release counted at once, and a release kept the review status its
    activity had when booked. The upgrade keeps approved releases counted (even those whose
    copied status was stale) and takes off only the releases of activities not approved."""
    from alembic import command
    from sqlalchemy import text, update

    from demine.storage.schema import alembic_config, finish
    from demine.storage.tables import hazards, land_releases

    hazard = world.hazard()
    q = quarters(hazard)
    approved = world.release(hazard, q[0], sensitivity="shared")
    pending = world.release(hazard, q[1], sensitivity="shared")
    assert approved.status_code == pending.status_code == 201
    assert world.review(f"/api/v1/activities/{approved.json()['id']}", "approve").status_code \
        == 200
    # As an old store held it: the approved release's copied status stale, every release
    # counted on the hazard.
    with world.database.transaction() as uow:
        uow.conn.execute(update(land_releases).where(
            land_releases.c.activity_id == approved.json()["id"]).values(
            review_status="submitted"))
        uow.conn.execute(update(hazards).where(hazards.c.id == hazard["id"]).values(
            cleared_m2=hazards.c.cleared_m2 + geodesic_m2(q[1]),
            remaining_m2=hazards.c.remaining_m2 - geodesic_m2(q[1])))
    with world.database.engine.begin() as conn:
        command.downgrade(alembic_config(conn), "0007")
        assert conn.execute(text("SELECT count(*) FROM land_releases")).scalar() == 2
        command.upgrade(alembic_config(conn), "head")
        finish(conn)
    ledger = world.get(f"/api/v1/hazards/{hazard['id']}", "anonymous").json()
    assert ledger["cleared_m2"] == pytest.approx(geodesic_m2(q[0]), abs=0.01)
    assert ledger["remaining_m2"] == pytest.approx(
        ledger["baseline_m2"] - geodesic_m2(q[0]), abs=0.01)
    checked = world.cli("check", "--json")
    findings = json.loads(checked.stdout)["findings"]
    assert not [f for f in findings if f["check"] == "ledger_imbalance"], findings


def test_chosen_codes_stay_in_their_organisations_space(world):
    assert world.cli("org", "add", "--code", "OPA-B", "--name", "OPA-B", "--kind",
                     "ngo").exit_code == 0
    hazard = world.hazard()
    body = {"hazard_type": "SHA", "reported_on": "2025-05-02", "geometry": hazard["geometry"]}
    mine = world.api.post("/api/v1/hazards", json={**body, "code": "OPA-17"},
                          headers=world.headers["opa"])
    assert mine.status_code == 201, mine.text
    theirs = [world.api.post("/api/v1/hazards", json={**body, "code": code},
                             headers=world.headers["opa"]) for code in ("OPA-B-1", "NGO-1")]
    assert theirs[0].status_code == theirs[1].status_code == 422
    assert theirs[0].text == theirs[1].text
    # Reference data is public: the authority names organisations and teams freely.
    org = world.api.post("/api/v1/organisations", headers=world.headers["authority"],
                         json={"code": "DEMINER-X", "name": "X", "kind": "operator"})
    assert org.status_code == 201, org.text


def test_a_proposal_must_fit_and_an_empty_one_is_no_proposal(world):
    hazard = world.hazard()
    q = quarters(hazard)
    first = world.release(hazard, q[0], who="admin", organisation_id="OPA",
                          sensitivity="shared")
    second = world.release(hazard, q[1], sensitivity="shared")
    assert first.status_code == second.status_code == 201
    url = f"/api/v1/activities/{first.json()['id']}"
    over = world.write("PATCH", url, "opa", {"released_geometry": mapping(q[1])})
    assert over.status_code == 422, over.text  # q[1] is reserved by the pending release
    assert "pending_change" not in world.get(url, "opa").json()
    empty = world.write("PATCH", url, "opa", {})
    assert empty.status_code == 200 and "pending_change" not in empty.json()
    assert world.review(url, "approve").status_code == 409  # nothing waits


def test_the_database_refuses_a_deleted_records_id_whoever_writes_it(world):
    """Beyond demine's own allocation, the store itself refuses an explicit id at or below
    the highest deleted one (a bulk load, a tool writing SQL)."""
    from sqlalchemy import insert

    from demine.storage.tables import hazards

    first, last = world.hazard(), world.hazard()
    assert world.write("DELETE", f"/api/v1/hazards/{last['id']}", "admin").status_code == 204
    with world.database.read() as uow:
        row = dict(uow.conn.execute(select(hazards).where(
            hazards.c.id == first["id"])).mappings().one())
    row.update(id=last["id"], code="REUSED-1")
    with pytest.raises(Exception, match="already used by a deleted record"), \
            world.database.transaction() as uow:
        uow.conn.execute(insert(hazards).values(**row))
    with world.database.read() as uow:
        assert uow.conn.execute(select(hazards.c.id).where(
            hazards.c.id == last["id"])).first() is None


def test_check_reports_a_release_that_no_longer_mirrors_its_activity(world):
    """Who sees a release is decided on the columns it copies from its activity: `demine
    check` reports any that differ (written around demine, say)."""
    from sqlalchemy import update

    from demine.storage.tables import land_releases

    hazard = world.hazard()
    made = world.release(hazard, quarters(hazard)[0], who="admin", organisation_id="OPA",
                         sensitivity="restricted")
    assert made.status_code == 201, made.text
    assert not _mirror_findings(world)
    with world.database.transaction() as uow:
        uow.conn.execute(update(land_releases).where(
            land_releases.c.activity_id == made.json()["id"]).values(sensitivity="public"))
    found = _mirror_findings(world)
    assert len(found) == 1 and made.json()["code"] in found[0]["detail"]
    assert "sensitivity (public vs restricted)" in found[0]["detail"]


def _mirror_findings(world) -> list[dict]:
    result = world.cli("check", "--json")
    return [f for f in json.loads(result.stdout)["findings"]
            if f["layer"] == "land_releases" and f["check"] == "ledger_imbalance"]


def test_the_audit_log_is_read_a_page_at_a_time(world):
    """The API pages the audit log in the database (not by loading it whole): pages walk the
    chain in order, once, and the total is the chain's length for every reader."""
    for _ in range(3):
        world.hazard()
    whole = world.get("/api/v1/audit?limit=1000", "admin").json()
    seqs = [e["seq"] for e in whole["items"]]
    assert seqs == sorted(seqs) and len(seqs) == whole["total"] > 5
    walked = []
    for offset in range(0, whole["total"], 2):
        page = world.get(f"/api/v1/audit?limit=2&offset={offset}", "authority").json()
        assert page["total"] == whole["total"]
        walked += [e["seq"] for e in page["items"]]
    assert walked == seqs


def test_the_review_queue_follows_what_waits_and_who_may_decide(world):
    """What the authority must decide is in its queue (a submitted record, an operator's
    edit or deletion of an approved one) until decided; operators and anonymous callers
    have nothing to decide; a restricted submission not naming the authority stays out."""
    def queue(who: str) -> dict[tuple, str]:
        body = world.get("/api/v1/review-queue", who).json()
        return {(i["layer"], i["id"]): i["kind"] for i in body["items"]}

    hazard = world.hazard()  # approved, OPA's
    url = f"/api/v1/hazards/{hazard['id']}"
    submitted = world.api.post("/api/v1/hazards", headers=world.headers["opa"], json={
        "hazard_type": "SHA", "reported_on": "2025-05-03", "sensitivity": "shared",
        "geometry": mapping(box(X + 0.9, Y, X + 0.902, Y + 0.002))}).json()
    hidden = world.api.post("/api/v1/hazards", headers=world.headers["opa"], json={
        "hazard_type": "SHA", "reported_on": "2025-05-03", "sensitivity": "restricted",
        "geometry": mapping(box(X + 0.95, Y, X + 0.952, Y + 0.002))}).json()
    assert world.write("PATCH", url, "opa", {"name": "Renamed"}).status_code == 200
    waiting = queue("authority")
    assert waiting == {("hazards", submitted["id"]): "submitted",
                       ("hazards", hazard["id"]): "proposed change"}
    assert ("hazards", hidden["id"]) in queue("admin")
    assert queue("opa") == queue("anonymous") == {}
    assert world.review(url, "approve").status_code == 200
    assert world.review(f"/api/v1/hazards/{submitted['id']}", "reject").status_code == 200
    assert queue("authority") == {}
    assert world.write("DELETE", url, "opa").status_code == 202
    assert queue("authority") == {("hazards", hazard["id"]): "proposed deletion"}
