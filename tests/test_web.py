"""The minimal web app: health and OpenAPI, through an in-process HTTP client."""

from __future__ import annotations

import subprocess
import sys

from fastapi.testclient import TestClient

from demine.settings import Settings
from demine.web.app import create_app


def test_healthz_reports_the_store(store_url):
    with TestClient(create_app(Settings(database_url=store_url))) as client:
        response = client.get("/healthz")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok" and "hazards" not in body  # counts nothing (need-to-know)
    assert body["backend"] == ("geopackage" if store_url.startswith("sqlite") else "postgis")


def test_healthz_says_unavailable_without_a_store(tmp_path):
    settings = Settings(database_url=f"sqlite:///{tmp_path / 'missing' / 'x.gpkg'}")
    with TestClient(create_app(settings)) as client:
        response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json()["status"] == "unavailable"


def test_openapi_is_served(store_url):
    with TestClient(create_app(Settings(database_url=store_url))) as client:
        assert client.get("/api/v1/openapi.json").json()["info"]["title"] == "demine"


def test_python_dash_m_runs_the_cli():
    result = subprocess.run([sys.executable, "-m", "demine", "--help"], capture_output=True,
                            text=True, check=False)
    assert result.returncode == 0 and "import" in result.stdout
