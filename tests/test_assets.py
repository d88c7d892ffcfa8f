"""The web UI's libraries: built by `make assets` from the npm lock file into the package's
static files, exactly the versions locked, never committed."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
VENDOR = ROOT / "src" / "demine" / "web" / "static" / "vendor"


@pytest.fixture(scope="module")
def manifest() -> dict:
    """vendor/manifest.json; missing assets fail in CI and skip elsewhere."""
    path = VENDOR / "manifest.json"
    if not path.exists():
        if os.environ.get("CI") == "true":
            pytest.fail("web assets not built: run `make assets`")
        pytest.skip("web assets not built: run `make assets`")
    return json.loads(path.read_text())


def test_assets_are_the_locked_versions(manifest):
    """Each built file is the one of the version package-lock.json pins, byte for byte."""
    lock = json.loads((ROOT / "package-lock.json").read_text())["packages"]
    for name, entry in manifest.items():
        data = (VENDOR / name).read_bytes()
        assert hashlib.sha256(data).hexdigest() == entry["sha256"], name
        assert lock[f"node_modules/{entry['package']}"]["version"] == entry["version"], name
    assert {"maplibre-gl/maplibre-gl.mjs", "maplibre-gl/maplibre-gl-worker.mjs",
            "swagger-ui/swagger-ui-bundle.js", "chart.js/chart.umd.min.js"} <= set(manifest)


def test_no_third_party_code_is_committed():
    """git tracks none of the built files nor node_modules."""
    tracked = subprocess.run(["git", "ls-files", "src/demine/web/static/vendor", "node_modules"],
                             cwd=ROOT, capture_output=True, text=True, check=True).stdout
    assert tracked == ""
