"""Accounts: organisations, users and tokens from the CLI; sign-in, throttling, sessions and
CSRF over HTTP; secrets stored only as hashes. Both backends, on a fresh store per test."""

from __future__ import annotations

import hashlib
import json
import sqlite3
from pathlib import Path

import pytest
from conftest import pg_clone as _pg_clone
from conftest import pg_drop as _pg_drop
from fastapi.testclient import TestClient
from sqlalchemy import select
from typer.testing import CliRunner

from demine.cli.app import app as demine_cli
from demine.settings import Settings, sqlite_url
from demine.storage.database import Database
from demine.storage.tables import api_tokens, metadata, users
from demine.web.app import create_app

PASSWORDS = {"admin": "admin-pass-0001", "authority": "authority-pass-02",
             "operator": "operator-pass-003", "viewer": "viewer-pass-00004"}
ORGS = [("NMAA", "National Mine Action Authority", "authority"),
        ("SEDS", "State Emergency Demining Service", "operator"),
        ("HDA", "Humanitarian Demining Aid", "ngo")]
ORG_OF = {"admin": "NMAA", "authority": "NMAA", "operator": "SEDS", "viewer": "HDA"}
HAZARD = {"name": "Orchard", "hazard_type": "SHA", "reported_on": "2025-05-02",
          "geometry": {"type": "Polygon", "coordinates": [[[31.0, 48.0], [31.002, 48.0],
                                                          [31.002, 48.002], [31.0, 48.0]]]}}


def email(role: str) -> str:
    return f"{role}@example.org"


def _json(result):
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def add_user(cli, role: str, *, org: str | None = None, password: str | None = None,
             address: str | None = None):
    return cli("user", "add", "--email", address or email(role), "--org", org or ORG_OF[role],
               "--role", role, "--password-stdin", "--json",
               input=(PASSWORDS.get(role, "") if password is None else password) + "\n")


class Shell:
    """`demine` run in-process against one store."""

    def __init__(self, url: str):
        self.url = url

    def __call__(self, *args: str, input: str | None = None):
        return CliRunner().invoke(demine_cli, [*args, "--database-url", self.url], input=input)


# --- a store with three organisations and a user per role, built once per module ------------

def _add_people(cli: Shell) -> None:
    for code, name, kind in ORGS:
        _json(cli("org", "add", "--code", code, "--name", name, "--kind", kind, "--json"))
    for role in PASSWORDS:
        _json(add_user(cli, role))


@pytest.fixture(scope="module", params=["gpkg", "postgis"])
def people_store(request, tmp_path_factory):
    """("gpkg", path) or ("postgis", database name) of the accounts store."""
    if request.param == "gpkg":
        path = tmp_path_factory.mktemp("people") / "people.gpkg"
        _json(Shell(sqlite_url(path))("init", "--json"))
        _add_people(Shell(sqlite_url(path)))
        yield "gpkg", path
        return
    name, url = _pg_clone(request.getfixturevalue("pg_template"))
    _add_people(Shell(url))
    yield "postgis", name
    _pg_drop(name)


@pytest.fixture
def people_url(people_store, tmp_path):
    """A private copy of the accounts store."""
    kind, source = people_store
    if kind == "gpkg":
        path = tmp_path / "people.gpkg"
        src, dst = sqlite3.connect(source), sqlite3.connect(path)
        src.backup(dst)
        src.close()
        dst.close()
        yield sqlite_url(path)
        return
    name, url = _pg_clone(source)
    yield url
    _pg_drop(name)


@pytest.fixture
def people(people_url) -> Shell:
    return Shell(people_url)


@pytest.fixture
def api(people_url):
    app = create_app(Settings(database_url=people_url))
    with TestClient(app) as client:
        yield client
    app.state.database.dispose()


def token_for(api: TestClient, role: str) -> dict[str, str]:
    response = api.post("/api/v1/auth/token",
                        json={"email": email(role), "password": PASSWORDS[role]})
    assert response.status_code == 200, response.text
    return {"Authorization": f"Bearer {response.json()['access_token']}"}


# --- CLI ------------------------------------------------------------------------------------

def test_org_add_and_list(cli):
    added = _json(cli("org", "add", "--code", "NMAA", "--name", "National Mine Action Authority",
                      "--kind", "authority", "--country", "XRL", "--json"))
    assert added == {"code": "NMAA", "name": "National Mine Action Authority",
                     "kind": "authority", "country": "XRL"}
    _json(cli("org", "add", "--code", "HDA", "--name", "Humanitarian Demining Aid",
              "--kind", "ngo", "--json"))
    listed = _json(cli("org", "list", "--json"))
    assert [(o["code"], o["name"], o["kind"]) for o in listed] == [
        ("HDA", "Humanitarian Demining Aid", "ngo"),
        ("NMAA", "National Mine Action Authority", "authority")]

    duplicate = cli("org", "add", "--code", "NMAA", "--name", "Again", "--kind", "authority")
    assert duplicate.exit_code != 0 and "already exists" in duplicate.output
    bad_kind = cli("org", "add", "--code", "X", "--name", "X", "--kind", "club")
    assert bad_kind.exit_code != 0 and "kind" in bad_kind.output and "club" in bad_kind.output
    assert len(_json(cli("org", "list", "--json"))) == 2


def test_user_add_and_list(people):
    cli = people
    added = _json(add_user(cli, "operator", address="Field.Officer@Example.org"))
    assert added["email"] == "field.officer@example.org"
    assert (added["organisation"], added["role"]) == ("SEDS", "operator")
    listed = _json(cli("user", "list", "--json"))
    assert sorted(u["email"] for u in listed) == sorted(
        [email(r) for r in PASSWORDS] + ["field.officer@example.org"])
    for user in listed:
        assert {"email", "role", "organisation"} <= set(user)
        assert not any("password" in key or "hash" in key for key in user)
    assert {(u["email"], u["organisation"], u["role"]) for u in listed} >= {
        (email(r), ORG_OF[r], r) for r in PASSWORDS}


@pytest.mark.parametrize(("change", "words"), [
    ({"password": "short"}, ("password", "10 characters")),
    ({"password": ""}, ("password",)),
    ({"org": "NOPE"}, ("org", "unknown organisation", "NOPE")),
    ({"role": "superuser"}, ("role", "unknown role", "superuser")),
    ({"address": "operator@example.org"}, ("already exists",)),
    ({"address": "OPERATOR@example.org "}, ("already exists",)),
    ({"address": "not-an-address"}, ("email",)),
])
def test_user_add_refusals(people, change, words):
    cli = people
    before = _json(cli("user", "list", "--json"))
    role = change.get("role", "operator")
    result = cli("user", "add", "--email", change.get("address", "new@example.org"),
                 "--org", change.get("org", "SEDS"), "--role", role, "--password-stdin",
                 input=change.get("password", "a-long-enough-password") + "\n")
    assert result.exit_code != 0
    for word in words:
        assert word in result.output
    assert "Traceback" not in result.output
    assert _json(cli("user", "list", "--json")) == before


def test_read_token_reads_but_cannot_write_and_revoke_ends_it(people, api):
    cli = people
    created = _json(cli("token", "create", "--email", email("operator"), "--name", "qgis",
                        "--scope", "read", "--json"))
    assert created["token"].startswith("dm_") and created["scopes"] == ["read"]
    assert created["token"] not in cli("user", "list", "--json").output
    headers = {"Authorization": f"Bearer {created['token']}"}
    assert api.get("/api/v1/hazards", headers=headers).status_code == 200
    assert api.get("/api/v1/auth/me", headers=headers).json()["name"] == email("operator")
    refused = api.post("/api/v1/hazards", json=HAZARD, headers=headers)
    assert refused.status_code == 403 and "read-only" in refused.json()["error"]["message"]

    writer = _json(cli("token", "create", "--email", email("operator"), "--scope", "read",
                       "--scope", "write", "--json"))
    write_headers = {"Authorization": f"Bearer {writer['token']}"}
    assert api.post("/api/v1/hazards", json=HAZARD, headers=write_headers).status_code == 201

    revoked = _json(cli("token", "revoke", str(created["id"]), "--json"))
    assert revoked == {"id": created["id"], "revoked": True}
    after = api.get("/api/v1/hazards", headers=headers)
    assert after.status_code == 401 and after.headers["WWW-Authenticate"] == "Bearer"
    assert api.get("/api/v1/hazards", headers=write_headers).status_code == 200


def test_token_refusals(people):
    cli = people
    unknown = cli("token", "create", "--email", "nobody@example.org")
    assert unknown.exit_code != 0 and "nobody@example.org" in unknown.output
    bad_scope = cli("token", "create", "--email", email("viewer"), "--scope", "admin")
    assert bad_scope.exit_code != 0 and "scope" in bad_scope.output
    assert cli("token", "revoke", "99999").exit_code != 0


def test_read_token_of_an_administrator_cannot_write(people, api):
    created = _json(people("token", "create", "--email", email("admin"), "--scope", "read",
                           "--json"))
    headers = {"Authorization": f"Bearer {created['token']}"}
    assert api.get("/api/v1/hazards", headers=headers).status_code == 200
    body = {**HAZARD, "organisation_id": "NMAA"}  # administrators name the organisation
    assert api.post("/api/v1/hazards", json=body, headers=headers).status_code == 403


# --- HTTP sign-in and throttling ------------------------------------------------------------

def _sign_in(api, role: str, password: str):
    return api.post("/api/v1/auth/token", json={"email": email(role), "password": password})


def test_token_endpoint(api):
    good = _sign_in(api, "operator", PASSWORDS["operator"])
    assert good.status_code == 200
    body = good.json()
    assert body["token_type"] == "bearer" and body["expires_in"] == 3600
    me = api.get("/api/v1/auth/me", headers={"Authorization": f"Bearer {body['access_token']}"})
    assert me.json()["name"] == email("operator") and me.json()["role"] == "operator"

    for response in (_sign_in(api, "operator", "wrong-password"),
                     api.post("/api/v1/auth/token",
                              json={"email": "ghost@example.org", "password": "whatever"})):
        assert response.status_code == 401
        assert response.headers["WWW-Authenticate"] == "Bearer"
        assert response.json()["error"]["code"] == "unauthenticated"
    missing = api.post("/api/v1/auth/token", json={"email": email("operator")})
    assert missing.status_code == 422
    anonymous = api.get("/api/v1/auth/me").json()
    assert anonymous["anonymous"] is True
    bad_scheme = api.get("/api/v1/hazards", headers={"Authorization": "Basic abc"})
    assert bad_scheme.status_code == 401


# Throttling: tests/test_signin.py


# --- browser sessions and CSRF --------------------------------------------------------------

def _cookie_attributes(response, name: str) -> set[str]:
    header = next(h for h in response.headers.get_list("set-cookie")
                  if h.startswith(f"{name}="))
    return {part.strip().lower() for part in header.split(";")[1:]}


def test_session_cookie_with_csrf(api):
    login = api.post("/api/v1/auth/login",
                     json={"email": email("operator"), "password": PASSWORDS["operator"]})
    assert login.status_code == 200
    session_attrs = _cookie_attributes(login, "demine_session")
    assert {"httponly", "samesite=strict", "path=/"} <= session_attrs
    assert "samesite=strict" in _cookie_attributes(login, "demine_csrf")
    assert "httponly" not in _cookie_attributes(login, "demine_csrf")  # the page reads it
    csrf = login.json()["csrf_token"]
    assert api.cookies["demine_csrf"] == csrf
    session = api.cookies["demine_session"]

    assert api.get("/api/v1/auth/me").json()["name"] == email("operator")
    assert api.get("/api/v1/hazards").status_code == 200
    assert api.post("/api/v1/hazards", json=HAZARD).status_code == 403
    assert api.post("/api/v1/hazards", json=HAZARD,
                    headers={"X-CSRF-Token": csrf + "x"}).status_code == 403
    created = api.post("/api/v1/hazards", json=HAZARD, headers={"X-CSRF-Token": csrf})
    assert created.status_code == 201, created.text
    assert created.json()["recorded_by"] == email("operator")

    assert api.post("/api/v1/auth/logout").status_code == 403  # CSRF guards logout too
    assert api.post("/api/v1/auth/logout", headers={"X-CSRF-Token": csrf}).status_code == 204
    assert "demine_session" not in api.cookies
    replayed = TestClient(api.app, cookies={"demine_session": session})
    assert replayed.get("/api/v1/hazards").status_code == 401


def test_session_cookie_is_not_a_bearer_token_of_another_kind(api):
    access = _sign_in(api, "operator", PASSWORDS["operator"]).json()["access_token"]
    client = TestClient(api.app, cookies={"demine_session": access})
    assert client.get("/api/v1/hazards").status_code == 401


# --- secrets at rest ------------------------------------------------------------------------

def _every_stored_value(url: str) -> str:
    """Every row of every table, as text (whatever the backend)."""
    database = Database(Settings(database_url=url))
    try:
        with database.read() as uow:
            return "\n".join(repr(row) for t in metadata.sorted_tables
                             for row in uow.conn.execute(select(t)).all())
    finally:
        database.dispose()


def test_passwords_and_tokens_are_stored_only_as_hashes(people, api, people_url):
    issued = _json(people("token", "create", "--email", email("viewer"), "--json"))["token"]
    access = _sign_in(api, "operator", PASSWORDS["operator"]).json()["access_token"]
    login = api.post("/api/v1/auth/login",
                     json={"email": email("authority"), "password": PASSWORDS["authority"]})
    secrets = [issued, access, api.cookies["demine_session"], login.json()["csrf_token"],
               *PASSWORDS.values()]

    database = Database(Settings(database_url=people_url))
    try:
        with database.read() as uow:
            hashes = [r.password_hash for r in uow.conn.execute(select(users.c.password_hash))]
            tokens = {r.token_hash for r in uow.conn.execute(select(api_tokens.c.token_hash))}
    finally:
        database.dispose()
    assert len(hashes) == len(PASSWORDS) and all(h.startswith("$argon2id$") for h in hashes)
    for token in (issued, access, secrets[2]):
        assert hashlib.sha256(token.encode()).hexdigest() in tokens

    stored = _every_stored_value(people_url)
    for secret in secrets:
        assert secret not in stored
    if people_url.startswith("sqlite"):  # nor in the file's bytes (free pages, WAL)
        path = Path(people_url.removeprefix("sqlite:///"))
        raw = b"".join(p.read_bytes() for p in (path, path.with_name(path.name + "-wal"))
                       if p.exists())
        for secret in secrets:
            assert secret.encode() not in raw
