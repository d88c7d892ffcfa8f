"""GDAL's OGC API - Features driver (OAPIF, in the pyogrio wheel) reads demine's /ogc.

The server runs in a subprocess (`demine serve`): pyogrio holds the GIL while GDAL fetches,
so a server in this process would never answer.
"""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import time
import urllib.request
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from urllib.parse import urlencode

import pyogrio
import pytest
from pyogrio import raw

COLLECTIONS = ["hazards", "activities", "land_releases", "eo_finds", "accidents",
               "eore_sessions", "admin_areas", "places", "terrain_lines"]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait_until_up(process: subprocess.Popen, base: str, log) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            log.seek(0)
            pytest.fail(f"demine serve exited: {log.read()[-2000:]}")
        try:
            with urllib.request.urlopen(f"{base}/healthz", timeout=2):
                return
        except OSError:
            time.sleep(0.2)
    pytest.fail("demine serve did not start within 60 s")


@pytest.fixture(scope="module", params=["gpkg", "postgis"])
def server(request, tmp_path_factory) -> Iterator[str]:
    """The base URL of `demine serve` on a demo store, in a subprocess."""
    template = request.getfixturevalue(f"{request.param}_demo")
    url, drop = template.copy(tmp_path_factory.mktemp("ogc_gdal"))
    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    log = open(tmp_path_factory.mktemp("serve") / "serve.log", "w+")  # noqa: SIM115
    process = subprocess.Popen(
        [sys.executable, "-m", "demine", "serve", "--port", str(port), "--database-url", url],
        stdout=log, stderr=subprocess.STDOUT)
    try:
        _wait_until_up(process, base, log)
        yield base
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=15)
        log.close()
        drop()


def _get(url: str, token: str | None = None) -> dict:
    headers = {"Accept": "application/json"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    with urllib.request.urlopen(urllib.request.Request(url, headers=headers), timeout=30) as r:
        return json.load(r)


def _token(base: str, role: str) -> str:
    body = json.dumps({"email": f"{role}@demo.demine.org",
                       "password": f"demine-demo-{role}"}).encode()
    request = urllib.request.Request(f"{base}/api/v1/auth/token", data=body,
                                     headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=30) as r:
        return json.load(r)["access_token"]


def _matched(base: str, collection: str, token: str | None = None, **params) -> int:
    query = urlencode({"limit": 1, **params})
    return _get(f"{base}/ogc/collections/{collection}/items?{query}", token)["numberMatched"]


@contextmanager
def signed_in_gdal(token: str | None, folder) -> Iterator[None]:
    """GDAL sends Authorization: Bearer <token> on every request (none when token is None).

    GDAL_HTTP_HEADERS does not reach the OAPIF driver, whose own Accept header replaces it;
    a header file (GDAL_HTTP_HEADER_FILE) is added to every request.
    """
    if token is None:
        yield
        return
    path = folder / f"headers-{uuid.uuid4().hex}.txt"
    path.write_text(f"Authorization: Bearer {token}\n")
    path.chmod(0o600)
    pyogrio.set_gdal_config_options({"GDAL_HTTP_HEADER_FILE": str(path)})
    try:
        yield
    finally:
        pyogrio.set_gdal_config_options({"GDAL_HTTP_HEADER_FILE": None})
        path.unlink()


def test_gdal_lists_every_collection(server):
    layers = {name: kind for name, kind in pyogrio.list_layers(f"OAPIF:{server}/ogc")}
    assert set(layers) == set(COLLECTIONS)
    assert layers["hazards"] == "MultiPolygon" and layers["eo_finds"] == "Point"
    assert layers["terrain_lines"] == "LineString"


@pytest.mark.parametrize("role", [None, "operator"])
def test_gdal_reads_what_the_api_serves(server, role, tmp_path):
    token = _token(server, role) if role else None
    with signed_in_gdal(token, tmp_path):
        for collection in COLLECTIONS:
            expected = _matched(server, collection, token)
            meta, _, geometries, fields = raw.read(f"OAPIF:{server}/ogc", layer=collection)
            assert len(geometries) == expected, collection
            if expected and collection != "land_releases":
                codes = list(fields[list(meta["fields"]).index("code")])
                served = _get(f"{server}/ogc/collections/{collection}/items?limit=10000", token)
                assert sorted(codes) == sorted(f["properties"]["code"]
                                               for f in served["features"])
        hazards = _get(f"{server}/api/v1/hazards?limit=1", token)["total"]
        info = pyogrio.read_info(f"OAPIF:{server}/ogc", layer="hazards")
        assert info["features"] == hazards
        assert {"hazard_type", "status", "baseline_m2", "organisation"} <= set(info["fields"])


def test_gdal_sees_more_when_signed_in(server, tmp_path):
    anonymous = pyogrio.read_info(f"OAPIF:{server}/ogc", layer="hazards")["features"]
    with signed_in_gdal(_token(server, "operator"), tmp_path):
        operator = pyogrio.read_info(f"OAPIF:{server}/ogc", layer="hazards")["features"]
    assert 0 < anonymous < operator


def test_gdal_filters_by_bbox_and_attribute(server, tmp_path):
    token = _token(server, "authority")
    area = (31.0, 47.6, 31.6, 48.2)
    with signed_in_gdal(token, tmp_path):
        _, _, finds, _ = raw.read(f"OAPIF:{server}/ogc", layer="eo_finds", bbox=area)
        _, _, cha, _ = raw.read(f"OAPIF:{server}/ogc", layer="hazards",
                                where="hazard_type = 'CHA'")
    in_area = _matched(server, "eo_finds", token, bbox=",".join(map(str, area)))
    assert 0 < len(finds) == in_area < _matched(server, "eo_finds", token)
    assert 0 < len(cha) == _matched(server, "hazards", token, hazard_type="CHA")


@contextmanager
def basic_gdal(userpwd: str) -> Iterator[None]:
    """GDAL sends HTTP Basic (what QGIS's "Basic" authentication configuration does)."""
    pyogrio.set_gdal_config_options({"GDAL_HTTP_AUTH": "BASIC", "GDAL_HTTP_USERPWD": userpwd})
    try:
        yield
    finally:
        pyogrio.set_gdal_config_options({"GDAL_HTTP_AUTH": None, "GDAL_HTTP_USERPWD": None})


def test_gdal_with_http_basic_reads_what_anonymous_users_cannot(server):
    email, password = "operator@demo.demine.org", "demine-demo-operator"
    operator = _matched(server, "hazards", _token(server, "operator"))
    anonymous = _matched(server, "hazards")
    visible_to_anonymous = set(_codes_via_gdal(server))
    assert len(visible_to_anonymous) == anonymous < operator
    with basic_gdal(f"{email}:{password}"):
        codes = _codes_via_gdal(server)
    assert len(codes) == operator and set(codes) > visible_to_anonymous
    with basic_gdal(f"qgis:{_token(server, 'operator')}"):  # a token as the password
        assert len(_codes_via_gdal(server)) == operator


def _codes_via_gdal(server: str) -> list[str]:
    meta, _, _, fields = raw.read(f"OAPIF:{server}/ogc", layer="hazards")
    return list(fields[list(meta["fields"]).index("code")])

