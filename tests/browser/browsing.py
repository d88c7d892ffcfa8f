"""Browser test support: the app served by uvicorn on a free loopback port over a copy of the
demo region (GeoPackage and PostGIS), and Debian's chromium driven by Playwright.

Chromium is ``/usr/bin/chromium`` (``DEMINE_CHROMIUM`` to change it), never a browser that
Playwright downloads. Without it, or without the built assets (``make assets``), the browser
tests fail when ``CI=true`` and are skipped otherwise, saying why. Every page a test opens
records its requests and console errors; a test ends by checking that none left loopback
and that nothing was refused (a CSP violation is a console error).
"""

from __future__ import annotations

import os
import shutil
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import uvicorn

from demine.services.access.demo_access import demo_password
from demine.settings import Settings
from demine.web.app import create_app

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = os.environ.get("DEMINE_CHROMIUM", "/usr/bin/chromium")
ARTEFACTS = ROOT / "artefacts"
BACKENDS = ["gpkg", "postgis"]  # as tests/conftest.py
AXE = ROOT / "node_modules" / "axe-core" / "axe.min.js"
VENDOR = ROOT / "src" / "demine" / "web" / "static" / "vendor" / "manifest.json"
NOT_FOUND = "/no/such/page"
DESKTOP = {"width": 1366, "height": 850}
TABLET = {"width": 820, "height": 1180}
# Software WebGL: the test machines have no GPU.
CHROMIUM_ARGS = ["--no-sandbox", "--use-angle=swiftshader", "--enable-unsafe-swiftshader",
                 "--disable-dev-shm-usage"]


def _missing() -> str | None:
    if not Path(CHROMIUM).exists() and not shutil.which(CHROMIUM):
        return f"chromium not found at {CHROMIUM} (apt-get install chromium)"
    if not VENDOR.exists() or not AXE.exists():
        return "web assets not built (make assets)"
    return None


@pytest.fixture(scope="session")
def browser():
    """Debian's chromium, headless, for the worker's whole session."""
    reason = _missing()
    if reason:
        if os.environ.get("CI") == "true":
            pytest.fail(reason)
        pytest.skip(reason)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@dataclass
class Served:
    """A running server: its base URL and backend."""

    url: str
    backend: str


@pytest.fixture(scope="module", params=BACKENDS)
def served(request, tmp_path_factory) -> Iterator[Served]:
    """uvicorn on 127.0.0.1:<free port> over a private copy of the demo region."""
    template = request.getfixturevalue(f"{request.param}_demo")
    database_url, remove = template.copy(tmp_path_factory.mktemp("served"))
    app = create_app(Settings(database_url=database_url))
    port = _free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port,
                                           log_level="warning", lifespan="on"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("the test server did not start")
        time.sleep(0.05)
    yield Served(f"http://127.0.0.1:{port}", request.param)
    server.should_exit = True
    thread.join(15)
    app.state.database.dispose()
    remove()


@dataclass
class Watched:
    """A page, what it asked for and what its console complained about."""

    page: object
    requests: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    # console errors a test asks for (say, the 422 of a form the server refuses)
    expected: list[str] = field(default_factory=list)

    def outside_loopback(self) -> list[str]:
        """The requests to any host but this machine's loopback (data: URLs aside)."""
        return [url for url in self.requests if not url.startswith(("data:", "blob:"))
                and urlsplit(url).hostname not in ("127.0.0.1", "localhost")]


@pytest.fixture
def open_page(browser, served) -> Iterator:
    """Opens pages in fresh browser contexts: ``open_page(viewport=..., role=None)``.

    With a role, the context signs in through the /login form first."""
    contexts, watched = [], []

    def opener(viewport: dict | None = None, role: str | None = None,
               lang: str | None = None) -> Watched:
        context = browser.new_context(viewport=viewport or DESKTOP,
                                      locale={"ar": "ar", "ko": "ko-KR"}.get(lang, "en-GB"))
        contexts.append(context)
        page = context.new_page()
        page.set_default_timeout(20_000)
        seen = Watched(page)
        page.on("request", lambda r: seen.requests.append(r.url))
        page.on("console", lambda m: m.type == "error" and not _expected(m) and not any(
            e in m.text for e in seen.expected) and seen.errors.append(m.text))
        page.on("pageerror", lambda e: seen.errors.append(str(e)))
        watched.append(seen)
        if role:
            sign_in(page, served.url, role)
        return seen

    yield opener
    for seen in watched:
        assert seen.outside_loopback() == [], "requests left the machine"
        assert seen.errors == [], f"console errors (a CSP refusal is one): {seen.errors}"
    for context in contexts:
        context.close()


def _expected(message) -> bool:
    """The one error a test asks for: loading the 404 page (NOT_FOUND)."""
    return NOT_FOUND in (message.location or {}).get("url", "")


def sign_in(page, base: str, role: str) -> None:
    """Sign in through the form as the demo account of ``role``."""
    page.goto(f"{base}/login")
    page.fill("input[name=email]", f"{role}@demo.demine.org")
    page.fill("input[name=password]", demo_password(role))
    page.click("main form[action='/login'] button[type=submit]")
    page.wait_for_url("**/map")


def rendered(page, layer: str) -> int:
    """How many features of a style layer the map has drawn (window.demineMap)."""
    return page.evaluate("(id) => window.demineMap.queryRenderedFeatures({layers: [id]}).length",
                         layer)


def wait_for_map(page, layer: str = "hazards-fill") -> None:
    """Until the map has loaded and drawn features of ``layer``."""
    page.wait_for_function(
        "(id) => window.demineMap && window.demineMap.loaded() && "
        "window.demineMap.queryRenderedFeatures({layers: [id]}).length > 0", arg=layer)


def wait_for_idle_map(page) -> None:
    """Until the map has drawn every tile it asked for."""
    page.wait_for_function("() => window.demineMap && window.demineMap.loaded() && "
                           "window.demineMap.areTilesLoaded()")


def screenshot(page, name: str) -> Path:
    """Save a screenshot under artefacts/screenshots/ (git-ignored)."""
    path = ARTEFACTS / "screenshots" / f"{name}.png"
    path.parent.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(path), full_page=False)
    return path
