"""Schemathesis against the JSON API's OpenAPI document, in-process (ASGI), on the demo region.

Every operation of ``/api/v1/openapi.json`` is called with generated input, once signed in as
the admin and once anonymously. Checks: no 5xx (``not_a_server_error``) and responses that match
the documented schema (``response_schema_conformance``).

* Default run: the schema's examples plus ``DEMINE_SCHEMATHESIS_EXAMPLES`` generated cases
  (positive and negative) per operation and identity (default 3), bounded for CI.
* ``test_api_fuzz_long_*`` are marked ``slow`` and run only when slow tests are selected
  (``pytest -m slow tests/test_schemathesis.py``): ``DEMINE_SCHEMATHESIS_SLOW_EXAMPLES``
  generated cases (default 100) plus schemathesis' coverage phase (boundary values).
* GeoPackage only: the same code paths on PostGIS would double the runtime; the authorization
  matrix (tests/test_authz_matrix.py) runs on both backends.

Generated writes change the store; it is a throwaway demo built for this module.
"""

from __future__ import annotations

import os
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import schemathesis
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, Phase, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import response_schema_conformance
from typer.testing import CliRunner

from demine.cli.app import app as cli_app
from demine.settings import Settings, sqlite_url
from demine.web.app import create_app

EXAMPLES = int(os.environ.get("DEMINE_SCHEMATHESIS_EXAMPLES", "3"))
SLOW_EXAMPLES = int(os.environ.get("DEMINE_SCHEMATHESIS_SLOW_EXAMPLES", "100"))
CHECKS = [not_a_server_error, response_schema_conformance]
COMMON = {"deadline": None, "derandomize": True, "database": None,
          "phases": [Phase.explicit, Phase.generate],
          "suppress_health_check": list(HealthCheck)}


@pytest.fixture(scope="module")
def demo_app(tmp_path_factory) -> Iterator[tuple]:
    """The app on a small demo store, and the admin's bearer token."""
    url = sqlite_url(tmp_path_factory.mktemp("schemathesis") / "demo.gpkg")
    result = CliRunner().invoke(cli_app, ["demo", "--scale", "small", "--no-serve", "--json",
                                          "--database-url", url])
    assert result.exit_code == 0, result.output
    app = create_app(Settings(database_url=url))
    with TestClient(app) as client:
        response = client.post("/api/v1/auth/token", json={
            "email": "admin@demo.demine.org", "password": "demine-demo-admin"})
    assert response.status_code == 200, response.text
    yield app, {"Authorization": f"Bearer {response.json()['access_token']}"}
    app.state.database.dispose()


def _schema(coverage: bool):
    """The OpenAPI document as an app serves it (making the app touches no store; the calls
    go to the demo app of ``demo_app``). ``coverage``: also schemathesis' coverage phase
    (boundary values of every parameter: dozens of calls per operation)."""
    url = sqlite_url(Path(tempfile.gettempdir()) / f"demine-openapi-{uuid.uuid4().hex}.gpkg")
    loaded = schemathesis.openapi.from_asgi("/api/v1/openapi.json",
                                            create_app(Settings(database_url=url)))
    loaded.config.phases.coverage.enabled = coverage
    return loaded


# (schemathesis.pytest.from_fixture would bind the schema to a fixture, but its lazy loader
# reads pytest internals that pytest 9 no longer has.)
schema = _schema(coverage=False)
long_schema = _schema(coverage=True)


def _call(case, demo_app, identity: str) -> None:
    headers = demo_app[1] if identity == "admin" else {}
    response = case.call(headers=headers, app=demo_app[0])
    case.validate_response(response, checks=CHECKS, headers=headers)


@schema.parametrize()
@settings(max_examples=EXAMPLES, **COMMON)
def test_api_as_admin(case, demo_app):
    """Bounded run signed in as the admin: no 5xx, schema-conformant responses."""
    _call(case, demo_app, "admin")


@schema.parametrize()
@settings(max_examples=EXAMPLES, **COMMON)
def test_api_as_anonymous(case, demo_app):
    """Bounded run without signing in: no 5xx, schema-conformant responses."""
    _call(case, demo_app, "anonymous")


def _slow_selected(config) -> bool:
    expr = (config.getoption("markexpr") or "").replace(" ", "")
    return "slow" in expr and "notslow" not in expr


@pytest.mark.slow
@long_schema.parametrize()
@settings(max_examples=SLOW_EXAMPLES, **COMMON)
def test_api_fuzz_long_as_admin(case, demo_app, request):
    """The larger run as the admin (``-m slow``)."""
    if not _slow_selected(request.config):
        pytest.skip("long schemathesis run: select it with -m slow")
    _call(case, demo_app, "admin")


@pytest.mark.slow
@long_schema.parametrize()
@settings(max_examples=SLOW_EXAMPLES, **COMMON)
def test_api_fuzz_long_as_anonymous(case, demo_app, request):
    """The larger run without signing in (``-m slow``)."""
    if not _slow_selected(request.config):
        pytest.skip("long schemathesis run: select it with -m slow")
    _call(case, demo_app, "anonymous")
