"""HTTP Basic for GIS clients that cannot send a Bearer header (QGIS 3.22): /ogc and /tiles
with e-mail and password or an API token as the password, the Basic challenge on a 401, the
sign-in throttling, and argon2 not paid per tile. Both backends, through the HTTP client."""

from __future__ import annotations

import base64
import json
import time
from collections.abc import Iterator

import pytest
from conftest import BACKENDS, Cli, StoreTemplate, filled_template
from fastapi.testclient import TestClient
from pwdlib.hashers.argon2 import Argon2Hasher
from sqlalchemy import update

from demine.services.tiles.grid import tile_of
from demine.settings import Settings
from demine.storage.database import Database
from demine.storage.tables import users
from demine.web.app import create_app

OPERATOR, PASSWORD = "operator@example.org", "operator-pass-003"
HAZARD = {"name": "Orchard", "hazard_type": "SHA", "reported_on": "2025-05-02",
          "sensitivity": "shared",
          "geometry": {"type": "Polygon", "coordinates": [[[31.0, 48.0], [31.002, 48.0],
                                                          [31.002, 48.002], [31.0, 48.0]]]}}
ITEMS = "/ogc/collections/hazards/items"
CHALLENGE = 'Basic realm="demine"'


TILE = "/tiles/hazards/14/{}/{}.pbf".format(*tile_of(31.001, 48.001, 14))


def basic(user: str, password: str) -> dict[str, str]:
    """The Authorization header of HTTP Basic."""
    return {"Authorization": "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()}


def fill_store(cli) -> dict[str, dict]:
    """An operator of SEDS and its API token "qgis"."""
    assert cli("org", "add", "--code", "SEDS", "--name", "SEDS", "--kind", "operator",
               "--json").exit_code == 0
    added = cli("user", "add", "--email", OPERATOR, "--org", "SEDS", "--role", "operator",
                "--password-stdin", input=PASSWORD + "\n")
    assert added.exit_code == 0, added.output
    token = json.loads(cli("token", "create", "--email", OPERATOR, "--name", "qgis",
                           "--json").stdout)
    return {OPERATOR: token}


@pytest.fixture(scope="module", params=BACKENDS)
def store_template(request, tmp_path_factory) -> Iterator[StoreTemplate]:
    """The operator's store on each backend, filled once per module (argon2 is slow)."""
    template = filled_template(request, request.param, tmp_path_factory.mktemp("basic"),
                               fill_store, "basic")
    yield template
    template.drop()


@pytest.fixture
def store(store_template, tmp_path) -> Iterator[dict]:
    """An operator with an API token and a shared, submitted hazard anonymous users can't see."""
    url, remove = store_template.copy(tmp_path)
    yield {"url": url, "cli": Cli(url), "token": store_template.tokens[OPERATOR]}
    remove()


@pytest.fixture
def app(store):
    application = create_app(Settings(database_url=store["url"]))
    with TestClient(application) as client:
        signed = client.post("/api/v1/auth/token", json={"email": OPERATOR, "password": PASSWORD})
        created = client.post("/api/v1/hazards", json=HAZARD, headers={
            "Authorization": f"Bearer {signed.json()['access_token']}"})
        assert created.status_code == 201, created.text
        store["code"] = created.json()["code"]
    yield application
    application.state.database.dispose()


def client_at(app, address: str = "192.0.2.50") -> TestClient:
    return TestClient(app, client=(address, 40000))


def _codes(response) -> list[str]:
    assert response.status_code == 200, response.text
    return [f["properties"]["code"] for f in response.json()["features"]]


def test_basic_password_or_token_reads_what_anonymous_users_cannot(app, store):
    client, token = client_at(app), store["token"]["token"]
    assert store["code"] not in _codes(client.get(ITEMS))
    assert client.get(TILE).status_code == 204
    for headers in (basic(OPERATOR, PASSWORD), basic("qgis", token), basic(OPERATOR, token),
                    basic(OPERATOR.upper(), PASSWORD)):
        assert store["code"] in _codes(client.get(ITEMS, headers=headers))
        tile = client.get(TILE, headers=headers)
        assert tile.status_code == 200 and tile.headers["Cache-Control"] == "private, no-cache"
    assert client.get("/api/v1/auth/me", headers=basic(OPERATOR, PASSWORD)).json()[
        "name"] == OPERATOR


def test_wrong_basic_credentials_get_the_basic_challenge(app, store):
    client = client_at(app)
    for path in (ITEMS, TILE, "/ogc/collections"):
        for headers in (basic(OPERATOR, "wrong-password"), basic("nobody@example.org", "x"),
                        basic("qgis", "dm_not-a-token"), {"Authorization": "Basic !!"}):
            response = client.get(path, headers=headers)
            assert response.status_code == 401, (path, headers)
            assert response.headers["WWW-Authenticate"] == CHALLENGE
            assert response.json()["error"]["code"] == "unauthenticated"
    api = client.get("/api/v1/hazards", headers=basic(OPERATOR, "wrong-password"))
    assert api.status_code == 401 and api.headers["WWW-Authenticate"] == "Bearer"


def test_wrong_basic_passwords_are_throttled_like_sign_in(app):
    attacker = client_at(app, "198.51.100.30")
    for _ in range(5):
        assert attacker.get(ITEMS, headers=basic(OPERATOR, "wrong")).status_code == 401
    refused = attacker.get(TILE, headers=basic(OPERATOR, "wrong"))
    assert refused.status_code == 429 and int(refused.headers["Retry-After"]) > 0
    assert attacker.post("/api/v1/auth/token", json={"email": OPERATOR, "password": PASSWORD}
                         ).status_code == 429
    owner = client_at(app, "203.0.113.30")
    assert owner.get(ITEMS, headers=basic(OPERATOR, PASSWORD)).status_code == 200


def test_revoked_token_or_deactivated_user_ends_basic_access_at_once(app, store):
    client = client_at(app)
    token = store["token"]
    assert client.get(TILE, headers=basic("qgis", token["token"])).status_code == 200
    assert store["cli"]("token", "revoke", str(token["id"])).exit_code == 0
    assert client.get(TILE, headers=basic("qgis", token["token"])).status_code == 401

    assert client.get(TILE, headers=basic(OPERATOR, PASSWORD)).status_code == 200  # cached
    database = Database(Settings(database_url=store["url"]))
    with database.transaction() as uow:  # no command deactivates a user yet
        uow.conn.execute(update(users).where(users.c.email == OPERATOR).values(active=False))
    database.dispose()
    assert client.get(TILE, headers=basic(OPERATOR, PASSWORD)).status_code == 401


def test_basic_writes_from_another_site_are_refused(app):
    feature = {"type": "Feature", "geometry": HAZARD["geometry"],
               "properties": {k: v for k, v in HAZARD.items() if k != "geometry"}}
    refused = client_at(app).post(ITEMS, json=feature, headers={
        **basic(OPERATOR, PASSWORD), "Sec-Fetch-Site": "cross-site"})
    assert refused.status_code == 403
    created = client_at(app).post(ITEMS, json=feature, headers=basic(OPERATOR, PASSWORD))
    assert created.status_code == 201, created.text


def test_200_tiles_with_basic_verify_the_password_once(app, monkeypatch):
    calls = []
    original = Argon2Hasher.verify

    def counting_verify(hasher, password, hash):  # a spy: the real verify still runs
        calls.append(1)
        return original(hasher, password, hash)

    monkeypatch.setattr(Argon2Hasher, "verify", counting_verify)
    client, headers = client_at(app), basic(OPERATOR, PASSWORD)
    start = time.perf_counter()
    for _ in range(200):
        assert client.get(TILE, headers=headers).status_code == 200
    seconds = time.perf_counter() - start
    print(f"200 Basic tile requests: {seconds:.2f} s ({200 / seconds:.0f}/s), "
          f"{len(calls)} argon2 verify")
    assert len(calls) == 1
