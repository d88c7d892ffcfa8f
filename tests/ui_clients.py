"""What the web-UI tests share: the app on the test's copy of the demo region, a browser-like
client signed in through the /login form, and API calls with a demo role's token. Loaded by
``tests/conftest.py`` (``pytest_plugins``), so ``app`` is a fixture wherever a test module
does not define its own."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from test_ui_pages import sign_in

from demine.settings import Settings
from demine.web.app import create_app


@pytest.fixture
def app(demo_url):
    """The app on the test's private copy of the demo region."""
    made = create_app(Settings(database_url=demo_url))
    yield made
    made.state.database.dispose()


def browser(app, role: str | None = None) -> TestClient:
    """A browser-like client, signed in as the demo's ``role`` (anonymous for None)."""
    client = TestClient(app, base_url="http://127.0.0.1")
    if role:
        assert sign_in(client, role).status_code == 303
    return client


def api(app, demo_template, role: str):
    """``call(method, path, body=None)`` with ``role``'s API token; a PATCH names the version
    it changes (If-Match), as the API requires."""
    client = TestClient(app, base_url="http://127.0.0.1")
    headers = demo_template.bearer(role)

    def call(method: str, path: str, body=None):
        extra = {}
        if method == "PATCH":
            extra["If-Match"] = client.get(path, headers=headers).headers["etag"]
        return client.request(method, path, headers={**headers, **extra}, json=body)
    return call
