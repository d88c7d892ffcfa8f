"""Routes about who acts rather than about records: sign-in (token, session and CSRF, who am
I), the audit log's readers, and tasking organisations on hazards."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from .checking import Report, leaks
from .rules import DEMO_DOMAIN, ROLES

# --- Sign-in routes -----------------------------------------------------------------------

@pytest.mark.parametrize("role", ROLES)
def test_auth_me(demo, role):
    """/auth/me says who a token acts as; anonymous without one."""
    body = demo.client.get("/api/v1/auth/me", headers=demo.auth(role)).json()
    user = demo.oracle.users.get(role)
    if user is None:
        assert body["anonymous"] is True
    else:
        assert (body["role"], body["organisation_id"], body["anonymous"]) == (
            user.role, user.org, False)


def test_auth_failures_do_not_reveal_accounts(demo):
    """A wrong password and an unknown account get the same 401."""
    wrong = demo.client.post("/api/v1/auth/token", json={
        "email": f"viewer@{DEMO_DOMAIN}", "password": "not-the-password"})
    unknown = demo.client.post("/api/v1/auth/token", json={
        "email": f"nobody@{DEMO_DOMAIN}", "password": "not-the-password"})
    assert wrong.status_code == unknown.status_code == 401
    assert wrong.json() == unknown.json()


def test_session_login_needs_csrf_for_writes(writable):
    """A browser session writes only with its CSRF token; logout ends the session."""
    env = writable("operator")
    client = TestClient(env.client.app, raise_server_exceptions=False)
    login = client.post("/api/v1/auth/login", json={
        "email": f"operator@{DEMO_DOMAIN}", "password": "demine-demo-operator"})
    assert login.status_code == 200
    rec = next(r for r in env.oracle.visible("operator", "hazards")
               if env.oracle.may_write("operator", "update", "hazards", r))
    etag = client.get(rec.url).headers["etag"]
    assert client.patch(rec.url, json={}, headers={"If-Match": etag}).status_code == 403
    csrf = login.json()["csrf_token"]
    ok = client.patch(rec.url, json={}, headers={"If-Match": etag, "X-CSRF-Token": csrf})
    assert ok.status_code == 200, ok.text
    assert client.post("/api/v1/auth/logout").status_code == 403  # CSRF on logout too
    assert client.post("/api/v1/auth/logout", headers={"X-CSRF-Token": csrf}).status_code == 204
    assert client.get("/api/v1/auth/me").json()["anonymous"] is True


# --- The audit log ------------------------------------------------------------------------

@pytest.mark.parametrize("role", ROLES)
def test_audit_log_readers(demo, role):
    """The audit log: the authority and administrators read it; others are refused."""
    response = demo.client.get("/api/v1/audit", headers=demo.auth(role))
    user = demo.oracle.users.get(role)
    if role == "anonymous":
        assert response.status_code == 401
    elif role == "admin" or user.at_authority:
        assert response.status_code == 200 and response.json()["total"] > 0
    else:
        assert response.status_code == 403, response.text


# --- Taskings -----------------------------------------------------------------------------

@pytest.mark.parametrize("role", ROLES)
def test_taskings(writable, role):
    """Tasking an organisation on a hazard: the authority and admins, on hazards they see;
    a hidden hazard is a 404 like a missing one; the list follows the hazard's visibility."""
    env, report = writable(role), Report()
    oracle = env.oracle
    user = oracle.users.get(role)
    partner = next(code for oid, (code, kind) in sorted(oracle.orgs.items())
                   if kind != "authority" and (user is None or oid != user.org))
    for rec in oracle.targets(role, "hazards"):
        report.cases += 1
        url = f"{rec.url}/taskings"
        listed = env.client.get(url, headers=env.auth(role))
        sees = oracle.sees(role, rec)
        if listed.status_code != (200 if sees else 404):
            report.add(f"GET {url} as {role}: {listed.status_code}")
        tasked = (rec.id, next(o for o, (c, _) in oracle.orgs.items() if c == partner)) \
            in oracle.tasked
        expected = {401} if role == "anonymous" else {404} if not sees else \
            {201, 409} if role in ("admin", "authority") else {403}
        response = env.client.post(url, json={"organisation": partner}, headers=env.auth(role))
        if response.status_code not in expected:
            report.add(f"POST {url} as {role}: {response.status_code}, expected "
                       f"{sorted(expected)}: {response.text[:160]}")
        if response.status_code == 409 and not tasked:
            report.add(f"POST {url} as {role}: 409 for an organisation not tasked")
        if response.status_code == 404 and leaks(response, rec):
            report.add(f"POST {url} as {role}: 404 body names the hazard")
    report.check()
