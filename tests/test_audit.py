"""The tamper-evident audit log: one entry per write, `demine audit verify` catches edits and
deletions, `demine audit export` can be verified by a partner, the API shows it to the authority.

Every test runs on a copy of the small demo region (GeoPackage, and PostGIS when
DEMINE_TEST_DATABASE_URL is set), built once per session (``demo_url`` in conftest.py).
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
from pathlib import Path

import pytest
from conftest import Cli
from fastapi.testclient import TestClient
from shapely.geometry import box, mapping, shape
from sqlalchemy import create_engine, text

from demine.settings import Settings
from demine.web.app import create_app

GENESIS = "0" * 64
CHAINED = ("seq", "at", "actor", "action", "table_name", "record_id", "record_code",
           "before_hash", "after_hash", "detail", "prev_hash")
GUARD = "demine_only__edit_through_demine_api"  # what demine's own connections define


# --- stores: a private copy of the session's demo template per test (tests/conftest.py) -----

@pytest.fixture
def demine(demo_cli) -> Cli:
    """`demine` run in-process against the test's copy of the demo."""
    return demo_cli


@pytest.fixture
def api(demo_url):
    app = create_app(Settings(database_url=demo_url))
    with TestClient(app) as client:
        yield client
    app.state.database.dispose()


@pytest.fixture
def as_role(demo_template):
    """Bearer headers of a demo user, by role."""
    return demo_template.bearer


# --- reading, verifying and tampering with the chain ----------------------------------------

def exported(demine: Cli, out: Path) -> list[dict]:
    """`demine audit export`: the entries, one JSON object per line."""
    result = demine("audit", "export", "--out", str(out))
    assert result.exit_code == 0, result.output
    lines = out.read_text(encoding="utf-8").splitlines()
    assert all(line.strip() for line in lines)
    return [json.loads(line) for line in lines]


def verified(demine: Cli) -> dict:
    """`demine audit verify --json`, whatever its exit status."""
    result = demine("audit", "verify", "--json")
    report = json.loads(result.stdout)
    assert (result.exit_code == 0) == report["ok"], result.output
    return report


def independent_first_broken(entries: list[dict]) -> int | None:
    """The seq of the first entry that does not chain, by a partner's own reading of the format:
    SHA-256 over the sorted, compact JSON of the chained fields, each linking the previous hash.
    """
    previous = GENESIS
    for entry in entries:
        fields = {k: entry[k] for k in CHAINED}
        digest = hashlib.sha256(json.dumps(fields, sort_keys=True, separators=(",", ":"))
                                .encode()).hexdigest()
        if entry["prev_hash"] != previous or digest != entry["entry_hash"]:
            return entry["seq"]
        previous = entry["entry_hash"]
    return None


def tamper(url: str, sql: str, **params) -> None:
    """Change the store behind demine's back (as a DBA or another tool with the guard's name)."""
    if url.startswith("sqlite"):
        conn = sqlite3.connect(url.removeprefix("sqlite:///"))
        conn.create_function(GUARD, 0, lambda: 1)
        with conn:
            assert conn.execute(sql, params).rowcount == 1
        conn.close()
        return
    engine = create_engine(url)
    with engine.begin() as conn:
        assert conn.execute(text(sql), params).rowcount == 1
    engine.dispose()


# --- every write appends exactly its entries ------------------------------------------------

class Log:
    """The chain before and after each step of a test."""

    def __init__(self, demine: Cli, folder: Path):
        self.demine, self.folder, self.n = demine, folder, 0
        self.entries = exported(demine, self._out())

    def _out(self) -> Path:
        self.n += 1
        return self.folder / f"audit-{self.n}.jsonl"

    def appended(self) -> list[dict]:
        """The entries written since the last call; earlier entries must be untouched."""
        now = exported(self.demine, self._out())
        assert now[:len(self.entries)] == self.entries
        new, self.entries = now[len(self.entries):], now
        return new


def _actions(entries: list[dict]) -> list[tuple]:
    return [(e["action"], e["actor"], e["record_code"]) for e in entries]


def test_every_write_appends_its_entries(demine, api, as_role, tmp_path):
    log = Log(demine, tmp_path)
    signed_in = api.post("/api/v1/auth/token", json={"email": "operator@demo.demine.org",
                                                     "password": "demine-demo-operator"})
    assert signed_in.status_code == 200
    operator, authority = as_role("operator"), as_role("authority")
    me, boss = "operator@demo.demine.org", "authority@demo.demine.org"
    assert log.appended() == []  # signing in writes no audit entry

    areas = api.get("/api/v1/admin_areas", params={"limit": 1000}, headers=operator).json()
    x, y = shape(next(a for a in areas["items"] if a["level"] == 2)["geometry"]) \
        .representative_point().coords[0]
    body = {"name": "Dam orchard", "hazard_type": "SHA", "reported_on": "2025-05-02",
            "geometry": mapping(box(x, y, x + 0.002, y + 0.002))}
    created = api.post("/api/v1/hazards", json=body, headers=operator)
    assert created.status_code == 201
    code, location = created.json()["code"], created.headers["Location"]
    assert _actions(log.appended()) == [("hazards.create", me, code)]

    api.get(location, headers=operator)
    refused = api.post("/api/v1/hazards", json={**body, "hazard_type": "XXX"}, headers=operator)
    assert refused.status_code == 422
    assert log.appended() == []  # reads and refused writes leave no entry

    patched = api.patch(location, json={"name": "Dam orchard (east)"},
                        headers={**operator, "If-Match": created.headers["ETag"]})
    assert patched.status_code == 200
    assert _actions(log.appended()) == [("hazards.update", me, code)]

    reviewed = api.post(f"{location}/review", json={"decision": "reject", "reason": "too big"},
                        headers={**authority, "If-Match": patched.headers["ETag"]})
    assert reviewed.status_code == 200
    [entry] = log.appended()
    assert (entry["action"], entry["actor"], entry["detail"]) == ("hazards.reject", boss,
                                                                  "too big")

    etag = api.get(location, headers=operator).headers["ETag"]
    assert api.delete(location, headers={**operator, "If-Match": etag}).status_code == 204
    assert _actions(log.appended()) == [("hazards.delete", me, code)]

    features = [{"type": "Feature", "properties": {
        "code": f"IMP-{n}", "hazard_type": "CHA", "organisation": "SEDS",
        "reported_on": "2025-03-01"}, "geometry": mapping(box(x + n * .003, y - .003,
                                                             x + n * .003 + .002, y - .001))}
        for n in (1, 2)]
    source = tmp_path / "survey.geojson"
    source.write_text(json.dumps({"type": "FeatureCollection", "features": features}))
    assert demine("import", str(source), "--layer", "hazards", "--dry-run").exit_code == 0
    assert log.appended() == []
    assert demine("import", str(source), "--layer", "hazards").exit_code == 0
    new = log.appended()
    assert [(e["action"], e["record_code"]) for e in new] == [
        ("hazards.create", "IMP-1"), ("hazards.create", "IMP-2"), ("import", None)]
    assert all(e["actor"].startswith("cli:") for e in new)

    added = demine("user", "add", "--email", "qa@demo.demine.org", "--org", "NMAA", "--role",
                   "inspector", "--password-stdin", input="inspector-pass-01\n")
    assert added.exit_code == 0, added.output
    assert [(e["action"], e["record_code"]) for e in log.appended()] == [
        ("users.create", "qa@demo.demine.org")]
    assert demine("user", "add", "--email", "qa@demo.demine.org", "--org", "NMAA", "--role",
                  "inspector", "--password-stdin", input="inspector-pass-01\n").exit_code != 0
    assert log.appended() == []

    assert verified(demine)["ok"] is True


# --- verification catches edits and deletions -----------------------------------------------

def test_fresh_demo_chain_verifies(demine):
    report = verified(demine)
    assert report["ok"] is True and report["first_broken"] is None and report["entries"] > 10
    human = demine("audit", "verify")
    assert human.exit_code == 0 and f"{report['entries']} entries" in human.output


@pytest.mark.parametrize(("column", "value"), [("actor", "someone-else"),
                                               ("detail", '{"rows":-1}'),
                                               ("record_code", "HZ-999999")])
def test_editing_one_entry_is_caught_at_that_entry(demine, demo_url, column, value):
    entries = verified(demine)["entries"]
    seq = entries // 2
    tamper(demo_url, f"UPDATE audit_log SET {column} = :x WHERE seq = {seq}", x=value)
    report = verified(demine)
    assert (report["ok"], report["first_broken"]) == (False, seq)
    human = demine("audit", "verify")
    assert human.exit_code != 0 and f"entry {seq}" in human.output


def test_rehashing_an_edited_entry_is_caught_at_the_next(demine, demo_url, tmp_path):
    entries = exported(demine, tmp_path / "before.jsonl")
    seq = len(entries) // 2
    forged = {**entries[seq - 1], "actor": "someone-else"}
    forged_hash = hashlib.sha256(json.dumps({k: forged[k] for k in CHAINED}, sort_keys=True,
                                            separators=(",", ":")).encode()).hexdigest()
    tamper(demo_url, f"UPDATE audit_log SET actor = 'someone-else', entry_hash = :x "
                     f"WHERE seq = {seq}", x=forged_hash)
    report = verified(demine)
    assert (report["ok"], report["first_broken"]) == (False, seq + 1)


def test_deleting_an_entry_in_the_middle_is_caught(demine, demo_url):
    seq = verified(demine)["entries"] // 2
    tamper(demo_url, f"DELETE FROM audit_log WHERE seq = {seq}")
    report = verified(demine)
    assert (report["ok"], report["first_broken"]) == (False, seq + 1)
    human = demine("audit", "verify")
    assert human.exit_code != 0 and f"entry {seq + 1}" in human.output


def test_other_tools_cannot_write_the_log_of_a_geopackage(demo_url):
    if not demo_url.startswith("sqlite"):
        pytest.skip("GeoPackage only: the edit guard is a trigger calling a demine-only function")
    conn = sqlite3.connect(demo_url.removeprefix("sqlite:///"))
    try:
        for sql in ("UPDATE audit_log SET actor = 'x' WHERE seq = 1",
                    "DELETE FROM audit_log WHERE seq = 1"):
            with pytest.raises(sqlite3.OperationalError, match=GUARD):
                conn.execute(sql)
    finally:
        conn.close()


# --- export and independent verification ----------------------------------------------------

def test_export_is_one_line_per_entry_and_verifies_independently(demine, demo_url, tmp_path):
    entries = exported(demine, tmp_path / "audit.jsonl")
    assert len(entries) == verified(demine)["entries"]
    assert [e["seq"] for e in entries] == list(range(1, len(entries) + 1))
    assert entries[0]["prev_hash"] == GENESIS
    assert independent_first_broken(entries) is None

    edited = [dict(e) for e in entries]
    edited[4]["action"] = "hazards.create"
    assert independent_first_broken(edited) == entries[4]["seq"]
    assert independent_first_broken(entries[:3] + entries[4:]) == entries[4]["seq"]

    tamper(demo_url, "UPDATE audit_log SET actor = 'someone-else' WHERE seq = 3")
    assert independent_first_broken(exported(demine, tmp_path / "after.jsonl")) == 3


# --- the log over HTTP ----------------------------------------------------------------------

def test_audit_api_is_for_the_authority_and_administrators(api, as_role, demine):
    total = verified(demine)["entries"]
    assert api.get("/api/v1/audit").status_code in (401, 403)
    for role in ("operator", "viewer", "reporter"):
        assert api.get("/api/v1/audit", headers=as_role(role)).status_code == 403, role
    for role in ("authority", "admin"):
        page = api.get("/api/v1/audit", params={"limit": 5, "offset": 2},
                       headers=as_role(role))
        assert page.status_code == 200, role
        assert page.json()["total"] == total
        assert [e["seq"] for e in page.json()["items"]] == [3, 4, 5, 6, 7]
