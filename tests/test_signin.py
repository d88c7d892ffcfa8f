"""Sign-in over HTTP: unknown and known accounts cost and answer the same; throttling slows one
address down (exponential backoff) without locking the account's owner out. Both backends."""

from __future__ import annotations

import statistics
import time
from collections.abc import Iterator

import pytest
from conftest import BACKENDS, StoreTemplate, filled_template
from fastapi.testclient import TestClient
from pwdlib.hashers.argon2 import Argon2Hasher

from demine.settings import Settings
from demine.web.app import create_app

OPERATOR, VIEWER, ADMIN = "operator@example.org", "viewer@example.org", "admin@example.org"
PASSWORD = {OPERATOR: "operator-pass-003", VIEWER: "viewer-pass-00004", ADMIN: "admin-pass-0001"}
UNKNOWN = "nobody@example.org"


def fill_accounts(cli) -> dict[str, str]:
    """An operator, a viewer and an administrator (no tokens)."""
    for code, kind in (("SEDS", "operator"), ("NMAA", "authority")):
        assert cli("org", "add", "--code", code, "--name", code, "--kind", kind).exit_code == 0
    for address, org, role in ((OPERATOR, "SEDS", "operator"), (VIEWER, "SEDS", "viewer"),
                               (ADMIN, "NMAA", "admin")):
        added = cli("user", "add", "--email", address, "--org", org, "--role", role,
                    "--password-stdin", input=PASSWORD[address] + "\n")
        assert added.exit_code == 0, added.output
    return {}


@pytest.fixture(scope="module", params=BACKENDS)
def accounts_template(request, tmp_path_factory) -> Iterator[StoreTemplate]:
    """The accounts store on each backend, filled once per module (argon2 hashes are slow)."""
    template = filled_template(request, request.param, tmp_path_factory.mktemp("accounts"),
                               fill_accounts, "accounts")
    yield template
    template.drop()


@pytest.fixture
def accounts_url(accounts_template, tmp_path) -> Iterator[str]:
    """A private copy of a store with an operator, a viewer and an administrator."""
    url, remove = accounts_template.copy(tmp_path)
    yield url
    remove()


def _app(url: str, **settings):
    return create_app(Settings(database_url=url, **settings))


@pytest.fixture
def app(accounts_url):
    """The application with the default throttling settings."""
    application = _app(accounts_url)
    yield application
    application.state.database.dispose()


def client_at(app, address: str) -> TestClient:
    """An HTTP client whose requests come from ``address``."""
    return TestClient(app, client=(address, 40000))


def sign_in(client: TestClient, email: str, password: str):
    return client.post("/api/v1/auth/token", json={"email": email, "password": password})


class CountingVerify:
    """Counts argon2 verifies while still running them (a spy, not a stand-in)."""

    def __init__(self, monkeypatch):
        self.calls = 0
        original = Argon2Hasher.verify

        def verify(hasher, password, hash):
            self.calls += 1
            return original(hasher, password, hash)

        monkeypatch.setattr(Argon2Hasher, "verify", verify)


def test_right_password_from_a_new_address_signs_in_after_failures_elsewhere(app):
    attacker = client_at(app, "198.51.100.7")
    for _ in range(5):
        assert sign_in(attacker, OPERATOR, "wrong-password").status_code == 401
    for _ in range(3):
        assert sign_in(attacker, OPERATOR, "wrong-password").status_code == 429
    assert sign_in(attacker, OPERATOR, PASSWORD[OPERATOR]).status_code == 429
    owner = client_at(app, "203.0.113.20")
    assert sign_in(owner, OPERATOR, PASSWORD[OPERATOR]).status_code == 200
    # the attacker's address may still sign other accounts in (below its own limit)
    assert sign_in(attacker, VIEWER, PASSWORD[VIEWER]).status_code == 200


def test_one_address_failing_backs_off_exponentially(accounts_url):
    app = _app(accounts_url, signin_backoff_s=1)
    attacker = client_at(app, "198.51.100.8")
    for _ in range(5):
        assert sign_in(attacker, OPERATOR, "wrong-password").status_code == 401
    waits = []
    for _ in range(3):
        refused = sign_in(attacker, OPERATOR, "wrong-password")
        assert refused.status_code == 429
        assert refused.json()["error"]["code"] == "throttled"
        waits.append(int(refused.headers["Retry-After"]))
        time.sleep(waits[-1] + 0.05)
        assert sign_in(attacker, OPERATOR, "wrong-password").status_code == 401
    assert waits == [1, 2, 4]
    app.state.database.dispose()


def test_one_address_failing_across_accounts_is_throttled_but_not_the_others(app):
    attacker = client_at(app, "198.51.100.9")
    for attempt in range(10):
        email = (OPERATOR, VIEWER, UNKNOWN)[attempt % 3]
        assert sign_in(attacker, email, f"wrong-{attempt}").status_code == 401
    assert sign_in(attacker, ADMIN, PASSWORD[ADMIN]).status_code == 429
    assert sign_in(client_at(app, "203.0.113.21"), ADMIN, PASSWORD[ADMIN]).status_code == 200


def test_an_account_refuses_everyone_past_its_global_ceiling(accounts_url):
    app = _app(accounts_url, signin_account_ceiling=8)
    for address in ("198.51.100.10", "198.51.100.11"):
        for _ in range(4):
            assert sign_in(client_at(app, address), VIEWER, "wrong").status_code == 401
    owner = client_at(app, "203.0.113.22")
    assert sign_in(owner, VIEWER, PASSWORD[VIEWER]).status_code == 429
    assert sign_in(owner, OPERATOR, PASSWORD[OPERATOR]).status_code == 200
    app.state.database.dispose()


def test_success_clears_the_pair_count(app):
    office = client_at(app, "203.0.113.23")
    for _ in range(4):
        assert sign_in(office, VIEWER, "wrong-password").status_code == 401
    assert sign_in(office, VIEWER, PASSWORD[VIEWER]).status_code == 200
    for _ in range(4):
        assert sign_in(office, VIEWER, "wrong-password").status_code == 401
    assert sign_in(office, VIEWER, PASSWORD[VIEWER]).status_code == 200


def test_unknown_and_known_accounts_answer_alike(app):
    answers = {}
    for email, address in ((OPERATOR, "198.51.100.12"), (UNKNOWN, "198.51.100.13")):
        client = client_at(app, address)
        wrong = [sign_in(client, email, "wrong-password") for _ in range(5)]
        throttled = sign_in(client, email, "wrong-password")
        answers[email] = ([(r.status_code, r.json(), r.headers["WWW-Authenticate"])
                           for r in wrong],
                          (throttled.status_code, throttled.json(),
                           throttled.headers.get("Retry-After")))
    assert answers[OPERATOR] == answers[UNKNOWN]
    assert answers[UNKNOWN][0][0][0] == 401 and answers[UNKNOWN][1][0] == 429


def test_the_password_hash_is_verified_for_unknown_accounts_too(app, monkeypatch):
    counting = CountingVerify(monkeypatch)
    calls, seconds = {}, {}
    for email in (OPERATOR, UNKNOWN):
        before, times = counting.calls, []
        for attempt in range(5):  # each from its own address: no throttling in the way
            client = client_at(app, f"192.0.2.{attempt + (10 if email == UNKNOWN else 20)}")
            start = time.perf_counter()
            assert sign_in(client, email, "wrong-password").status_code == 401
            times.append(time.perf_counter() - start)
        calls[email], seconds[email] = counting.calls - before, statistics.median(times)
    assert calls == {OPERATOR: 5, UNKNOWN: 5}
    ratio = seconds[OPERATOR] / seconds[UNKNOWN]
    print(f"median sign-in known {seconds[OPERATOR] * 1000:.0f} ms, "
          f"unknown {seconds[UNKNOWN] * 1000:.0f} ms")
    assert 1 / 3 < ratio < 3
