"""Schemathesis against the JSON API's OpenAPI document, in-process (ASGI), on the demo region.

Every operation of ``/api/v1/openapi.json`` is called with generated input, once signed in as
the admin and once anonymously. Checks: no 5xx (``not_a_server_error``); responses whose status,
content type and body the document declares (``status_code_conformance``,
``content_type_conformance``, ``response_schema_conformance``); and schema-valid data accepted
(``positive_data_acceptance``), except for the refusals in ``REASONED_REFUSALS``: rules that JSON
Schema cannot say, each documented in the 412/422 responses of the document.

* The bounded run narrows the document where that keeps generated data meaningful without
  making it invalid: record ids up to ``KNOWN_IDS`` (the demo's records, not 2**31 misses) and
  ``If-Match: *`` (writes that act). Positive cases get geometry inside a demo hazard (a valid
  polygon in the gazetteer cannot be generated from JSON Schema) and activities that hazard.

* Default run: the schema's examples plus ``DEMINE_SCHEMATHESIS_EXAMPLES`` generated cases
  (positive and negative) per operation and identity (default 3), bounded for CI.
* ``test_api_fuzz_long_*`` are marked ``slow`` and run only when slow tests are selected
  (``pytest -m slow tests/test_schemathesis.py``): ``DEMINE_SCHEMATHESIS_SLOW_EXAMPLES``
  generated cases (default 100) plus schemathesis' coverage phase (boundary values).
* GeoPackage only: the same code paths on PostGIS would double the runtime; the authorization
  matrix (tests/authz/) runs on both backends.

Generated writes change the store: a copy of the session's demo made for this module.
"""

from __future__ import annotations

import copy
import json
import os
import re
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import schemathesis
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, Phase, settings
from schemathesis.checks import not_a_server_error
from schemathesis.openapi.checks import RejectedPositiveData
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    positive_data_acceptance,
    response_schema_conformance,
    status_code_conformance,
)
from shapely.geometry import LineString, MultiPolygon, box, mapping, shape

from demine.settings import Settings, sqlite_url
from demine.web.app import create_app

EXAMPLES = int(os.environ.get("DEMINE_SCHEMATHESIS_EXAMPLES", "3"))
SLOW_EXAMPLES = int(os.environ.get("DEMINE_SCHEMATHESIS_SLOW_EXAMPLES", "100"))
KNOWN_IDS = 30
# Schema-valid data the API may still refuse, and why JSON Schema cannot say so. Each is a 422
# (or 412) with the error schema, documented on the operation. A refusal is tolerated only when
# every problem it names matches one of these.
REASONED_REFUSALS = [
    # Referential integrity: whether record 60 or code "X" exists is the store's state.
    r"^unknown ",
    # Geometry: ring closure (last position == first), self-intersection and validity relate
    # positions to each other; the gazetteer's extent and the vertex limit are data/settings.
    r"^invalid polygon: ", r"^outside the gazetteer extent",
    r"^latitude and longitude look swapped",
    r"vertices exceed the limit", r"^empty geometry$",
    # Land release: a released polygon must lie inside its hazard, not overlap ground already
    # released, and release some ground; only completed NTS/TS/clearance/BAC release land.
    r"^released polygon ", r"activity releases no land$", r"^land is released only by",
    r"^a release needs the activity's end_date$", r"of released land outside it$",
    # Relations between fields or records: dates in order, not in the future, a team of the
    # activity's organisation, closing a hazard with ground remaining.
    r" is before ", r"future", r"^team belongs to another organisation$",
    r"^cannot close with ",
    # Query: bbox minx <= maxx and miny <= maxy (an order between items of one string).
    r"^expected minx,miny,maxx,maxy",
]
# (field, reason) refusals that depend on the caller: an administrator belongs to no
# organisation, so must name the owner that others' records default to.
CALLER_DEPENDENT = {("organisation_id", "required field is missing")}
REASONED_STATUSES = {
    412: "If-Match: the record's current ETag is the store's state, not the schema's",
    422: "see REASONED_REFUSALS",
}


def _reasoned(response) -> bool:
    """Whether a refusal of schema-valid data is one of the documented, reasoned ones."""
    if response.status_code not in REASONED_STATUSES:
        return False
    if response.status_code == 412:
        return True
    problems = json.loads(response.content).get("error", {}).get("problems") or []
    return bool(problems) and all(
        (problem["field"], problem["reason"]) in CALLER_DEPENDENT
        or any(re.search(p, problem["reason"]) for p in REASONED_REFUSALS)
        for problem in problems)


def positive_data_accepted(ctx, response, case):
    """``positive_data_acceptance``, tolerating only the reasoned refusals."""
    try:
        return positive_data_acceptance(ctx, response, case)
    except RejectedPositiveData:
        if _reasoned(response):
            return None
        raise


CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance,
          response_schema_conformance, positive_data_accepted]
COMMON = {"deadline": None, "derandomize": True, "database": None,
          "phases": [Phase.explicit, Phase.generate],
          "suppress_health_check": list(HealthCheck)}


@pytest.fixture(scope="module")
def demo_app(gpkg_demo, tmp_path_factory) -> Iterator[tuple]:
    """The app on a copy of the small demo store, and the admin's bearer token."""
    url, _ = gpkg_demo.copy(tmp_path_factory.mktemp("schemathesis"))
    app = create_app(Settings(database_url=url))
    with TestClient(app) as client:
        response = client.post("/api/v1/auth/token", json={
            "email": "admin@demo.demine.org", "password": "demine-demo-admin"})
        assert response.status_code == 200, response.text
        headers = {"Authorization": f"Bearer {response.json()['access_token']}"}
        hazard = client.get("/api/v1/hazards", params={"limit": 1}, headers=headers).json()
    yield app, headers, _anchors(hazard["items"][0])
    app.state.database.dispose()


def _anchors(hazard: dict) -> dict:
    """Known-good values near a demo hazard: its id, and a geometry of each type inside it."""
    area = shape(hazard["geometry"])
    point = area.representative_point()
    square = area.intersection(box(point.x - 2e-4, point.y - 2e-4, point.x + 2e-4, point.y + 2e-4))
    inside = max(getattr(square, "geoms", [square]), key=lambda g: g.area)
    return {"hazard_id": hazard["id"], "Point": mapping(point), "Polygon": mapping(inside),
            "MultiPolygon": mapping(MultiPolygon([inside])),
            "LineString": mapping(LineString(inside.exterior.coords[:2]))}


def _known_good(case, anchors: dict) -> None:
    """Positive cases: geometry inside a demo hazard, activities on that hazard (see module)."""
    if case.meta is None or not case.meta.generation.mode.is_positive:
        return
    if not isinstance(case.body, dict):
        return
    for name in ("geometry", "released_geometry"):
        value = case.body.get(name)
        if isinstance(value, dict) and value.get("type") in anchors:
            case.body[name] = anchors[value["type"]]
    if case.operation.path.startswith("/activities") and "hazard_id" in case.body:
        case.body["hazard_id"] = anchors["hazard_id"]


def _document() -> dict:
    """The OpenAPI document as an app serves it (making the app touches no store)."""
    url = sqlite_url(Path(tempfile.gettempdir()) / f"demine-openapi-{uuid.uuid4().hex}.gpkg")
    with TestClient(create_app(Settings(database_url=url))) as client:
        return client.get("/api/v1/openapi.json").json()


def _narrowed(document: dict) -> dict:
    """The document with record ids among the demo's and If-Match ``*`` (a subset of what it
    allows, so generated positive data stays valid)."""
    narrowed = copy.deepcopy(document)
    for operations in narrowed["paths"].values():
        for operation in operations.values():
            for parameter in operation.get("parameters", []):
                if parameter["name"] == "record_id":
                    parameter["schema"] = {**parameter["schema"], "maximum": KNOWN_IDS}
                if parameter["name"].lower() == "if-match":
                    parameter["schema"] = {"type": "string", "enum": ["*"]}
    return narrowed


def _schema(coverage: bool):
    """The schema to test (the calls go to the demo app of ``demo_app``). ``coverage``: the
    whole document and schemathesis' coverage phase (boundary values of every parameter:
    dozens of calls per operation); else the narrowed document."""
    document = _document()
    loaded = schemathesis.openapi.from_dict(document if coverage else _narrowed(document))
    loaded.config.phases.coverage.enabled = coverage
    return loaded


# (schemathesis.pytest.from_fixture would bind the schema to a fixture, but its lazy loader
# reads pytest internals that pytest 9 no longer has.)
schema = _schema(coverage=False)
long_schema = _schema(coverage=True)


def _call(case, demo_app, identity: str) -> None:
    headers = demo_app[1] if identity == "admin" else {}
    _known_good(case, demo_app[2])
    response = case.call(headers=headers, app=demo_app[0])
    case.validate_response(response, checks=CHECKS, headers=headers)


@schema.parametrize()
@settings(max_examples=EXAMPLES, **COMMON)
def test_api_as_admin(case, demo_app):
    """Bounded run signed in as the admin (checks: see the module)."""
    _call(case, demo_app, "admin")


@schema.parametrize()
@settings(max_examples=EXAMPLES, **COMMON)
def test_api_as_anonymous(case, demo_app):
    """Bounded run without signing in (checks: see the module)."""
    _call(case, demo_app, "anonymous")


@pytest.mark.slow
@long_schema.parametrize()
@settings(max_examples=SLOW_EXAMPLES, **COMMON)
def test_api_fuzz_long_as_admin(case, demo_app):
    """The larger run as the admin (``-m slow``)."""
    _call(case, demo_app, "admin")


@pytest.mark.slow
@long_schema.parametrize()
@settings(max_examples=SLOW_EXAMPLES, **COMMON)
def test_api_fuzz_long_as_anonymous(case, demo_app):
    """The larger run without signing in (``-m slow``)."""
    _call(case, demo_app, "anonymous")
