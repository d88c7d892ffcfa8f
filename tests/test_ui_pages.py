"""The web pages over HTTP (in-process client, both backends): sign-in with CSRF and the
API's throttling, sign-out, the top bar, HTML error pages, the map's style and legend in the
layer_styles colours, and pages that the strict Content-Security-Policy lets run."""

from __future__ import annotations

import re
from html.parser import HTMLParser

import pytest
from fastapi.testclient import TestClient

from demine.formats.styles import OTHER, STYLES
from demine.services.access.demo_access import demo_password
from demine.settings import Settings
from demine.web.app import create_app
from demine.web.ui import map_style
from demine.web.ui.i18n import gettext

HTML = {"accept": "text/html,application/xhtml+xml"}


@pytest.fixture
def client(demo_url):
    """A browser-like client on a private copy of the demo region."""
    app = create_app(Settings(database_url=demo_url))
    with TestClient(app, base_url="http://127.0.0.1") as test_client:
        yield test_client
    app.state.database.dispose()


class Page(HTMLParser):
    """The parts of a page the tests look at: forms' inputs, scripts, inline styles."""

    def __init__(self, text: str):
        super().__init__()
        self.inputs: dict[str, str] = {}
        self.scripts: list[dict] = []
        self.styled: list[str] = []
        self.html_attrs: dict[str, str] = {}
        self.feed(text)

    def handle_starttag(self, tag, attrs):
        found = dict(attrs)
        if tag == "input" and "name" in found:
            self.inputs[found["name"]] = found.get("value") or ""
        if tag == "script":
            self.scripts.append(found)
        if tag == "style" or "style" in found or any(k.startswith("on") for k in found):
            self.styled.append(tag)
        if tag == "html":
            self.html_attrs = found


def sign_in(client: TestClient, role: str = "authority", password: str | None = None):
    """Fill and send the sign-in form as a browser would."""
    form = Page(client.get("/login", headers=HTML).text).inputs
    return client.post("/login", data={
        "csrf_token": form["csrf_token"], "next": "/map", "email": f"{role}@demo.demine.org",
        "password": password or demo_password(role)}, headers=HTML, follow_redirects=False)


def test_home_leads_to_the_map(client):
    """/ → /map, for anonymous visitors (the public map) and signed-in users."""
    response = client.get("/", headers=HTML, follow_redirects=False)
    assert response.status_code == 303 and response.headers["location"] == "/map"
    public = client.get("/map", headers=HTML)
    assert public.status_code == 200 and 'href="/login"' in public.text


def test_sign_in_shows_organisation_and_role_then_sign_out_ends_the_session(client):
    """The form signs in (session + CSRF cookies), the top bar names the organisation and
    the role, and signing out revokes the session."""
    form = Page(client.get("/login", headers=HTML).text).inputs
    assert {"email", "password", "csrf_token"} <= set(form)
    response = sign_in(client)
    assert response.status_code == 303 and response.headers["location"] == "/map"
    assert "demine_session" in client.cookies and "demine_csrf" in client.cookies
    page = client.get("/map", headers=HTML).text
    assert "National Mine Action Authority" in page and "Authority IM officer" in page
    assert client.get("/api/v1/auth/me").json()["role"] == "authority"
    session = client.cookies["demine_session"]
    csrf = Page(page).inputs["csrf_token"]
    out = client.post("/logout", data={"csrf_token": csrf}, headers=HTML,
                      follow_redirects=False)
    assert out.status_code == 303
    assert client.get("/api/v1/auth/me", cookies={"demine_session": session}).status_code == 401


def test_sign_out_without_the_session_token_does_nothing(client):
    """A sign-out form from elsewhere (no CSRF token) leaves the session alone."""
    sign_in(client)
    out = client.post("/logout", data={"csrf_token": "forged"}, headers=HTML,
                      follow_redirects=False)
    assert out.status_code == 303
    assert client.get("/api/v1/auth/me").json()["anonymous"] is False


def test_sign_in_refuses_a_form_without_its_token(client):
    """No CSRF token, or another one: 403 and no session."""
    client.get("/login", headers=HTML)
    response = client.post("/login", data={"csrf_token": "not-it", "email":
                                           "authority@demo.demine.org",
                                           "password": demo_password("authority")},
                           headers=HTML, follow_redirects=False)
    assert response.status_code == 403 and "demine_session" not in client.cookies


def test_wrong_password_then_throttled_like_the_api(client):
    """A wrong password says so (401); past the pair's limit the service throttles (429 with
    Retry-After), the same as POST /api/v1/auth/login."""
    first = sign_in(client, password="wrong")
    assert first.status_code == 401 and "Wrong e-mail or password." in first.text
    for _ in range(10):
        last = sign_in(client, password="wrong")
        if last.status_code == 429:
            break
    assert last.status_code == 429 and int(last.headers["retry-after"]) > 0
    assert "Too many failed sign-ins" in last.text
    assert client.post("/api/v1/auth/login", json={"email": "authority@demo.demine.org",
                                                   "password": "wrong"}).status_code == 429


def test_next_stays_on_this_site(client):
    """?next= outside the site (an open redirect) goes to the map instead."""
    form = Page(client.get("/login?next=//evil.example/", headers=HTML).text).inputs
    assert form["next"] == "/map"


def test_error_pages_are_html_for_browsers_and_json_for_the_api(client):
    """An unknown page is the HTML 404 page in the visitor's language; the API keeps JSON."""
    page = client.get("/no/such/page", headers=HTML)
    assert page.status_code == 404 and "text/html" in page.headers["content-type"]
    assert "Page not found" in page.text
    api = client.get("/api/v1/no-such", headers=HTML)
    assert api.status_code == 404 and api.json()["error"]["code"] == "not_found"


@pytest.mark.parametrize("path", ["/login", "/map", "/dashboard", "/api/v1/docs",
                                  "/no/such/page"])
def test_pages_run_under_the_strict_csp(client, path):
    """No inline script, style or event handler; every script from this server."""
    response = client.get(path, headers=HTML)
    assert "script-src 'self'" in response.headers["content-security-policy"]
    page = Page(response.text)
    assert page.styled == []
    assert page.scripts and all(s.get("src", "").startswith("/static/") for s in page.scripts)
    assert not re.search(r"https?://(?!127\.0\.0\.1)", response.text.replace(
        'xmlns="http://www.w3.org/2000/svg"', ""))


def test_api_docs_are_served_from_the_package(client):
    """/api/v1/docs loads Swagger UI from /static/vendor and links the OGC API's HTML."""
    page = client.get("/api/v1/docs", headers=HTML)
    assert page.status_code == 200
    assert 'src="/static/vendor/swagger-ui/swagger-ui-bundle.js"' in page.text
    assert 'href="/ogc?f=html"' in page.text
    assert client.get("/static/vendor/swagger-ui/swagger-ui-bundle.js").status_code == 200


def test_map_style_draws_the_layer_styles_colours(client):
    """Each layer's colours in /map/style.json are those of the GeoPackage layer_styles."""
    style = client.get("/map/style.json").json()
    drawn = {layer["metadata"]["demine:layer"]: layer for layer in style["layers"]
             if "metadata" in layer}
    assert set(drawn) == {layer.name for layer in map_style.LAYERS}
    for name, layer in drawn.items():
        text = str(layer["paint"])
        for category in STYLES[name].categories:
            assert category.colour in text, (name, category.value)
        assert (OTHER if STYLES[name].categories else STYLES[name].colour) in text
    for name, source in style["sources"].items():
        assert source["url"].endswith(f"/tiles/{name}.json")
        assert client.get(source["url"]).status_code == 200
    assert all(not s.get("tiles") for s in style["sources"].values()), "no basemap by default"


def test_map_legend_labels_are_the_layer_styles_labels():
    """Every legend label of formats.styles is marked for translation in map_style."""
    labels = {c.label for layer in map_style.LAYERS for c in STYLES[layer.name].categories}
    assert labels <= set(map_style.LABELS)
    assert sorted(map_style.PANEL, key=str) == sorted(map_style.LAYERS, key=str)
    assert gettext("Other") == "Other"


def test_hazard_colour_expression_follows_the_sld_rules():
    """Closed hazards green whatever their type; open ones by type."""
    expression = map_style.colour_expression(STYLES["hazards"])
    assert expression[0] == "case" and expression[-1] == OTHER
    closed = expression.index("#2E8B57") - 1
    assert expression[closed] == ["==", ["get", "status"], "closed"]


def _hazard_ids(client: TestClient) -> set[int]:
    return {h["id"] for h in client.get("/api/v1/hazards?limit=1000").json()["items"]}


def test_a_record_one_may_not_see_is_the_same_404_as_none(demo_url):
    """A hazard the viewer may not see gets exactly the page of an id that does not exist;
    one it may see shows its attributes."""
    app = create_app(Settings(database_url=demo_url))
    with TestClient(app, base_url="http://127.0.0.1") as authority, \
            TestClient(app, base_url="http://127.0.0.1") as viewer:
        sign_in(authority, "authority")
        sign_in(viewer, "viewer")
        hidden = sorted(_hazard_ids(authority) - _hazard_ids(viewer))
        shown = sorted(_hazard_ids(viewer))
        assert hidden and shown, "the demo hides some hazards from the viewer's NGO"
        own = viewer.get(f"/records/hazards/{shown[0]}", headers=HTML)
        assert own.status_code == 200 and "Attributes as recorded" in own.text
        refused = viewer.get(f"/records/hazards/{hidden[0]}", headers=HTML)
        missing = viewer.get("/records/hazards/987654321", headers=HTML)
        assert refused.status_code == missing.status_code == 404
        # the same page, but for its own address (the language switcher's form)
        assert refused.text.replace(f"/{hidden[0]}", "/N") == missing.text.replace(
            "/987654321", "/N")
        assert authority.get(f"/records/hazards/{hidden[0]}", headers=HTML).status_code == 200
    app.state.database.dispose()


def test_an_online_basemap_is_off_unless_configured(tmp_path, gpkg_template, monkeypatch):
    """DEMINE_UI_BASEMAP_URL adds the basemap to the style and its one origin to the CSP's
    connect-src and img-src; without it the CSP stays as strict as the API's."""
    import shutil

    from demine.settings import sqlite_url

    path = tmp_path / "store.gpkg"
    shutil.copy(gpkg_template, path)
    plain = TestClient(create_app(Settings(database_url=sqlite_url(path))))
    policy = plain.get("/map/style.json").headers["content-security-policy"]
    assert "https:" not in policy and "connect-src" not in policy
    monkeypatch.setenv("DEMINE_UI_BASEMAP_URL", "https://tiles.example.org/{z}/{x}/{y}.png")
    client = TestClient(create_app(Settings(database_url=sqlite_url(path))))
    style = client.get("/map/style.json")
    assert style.json()["sources"]["basemap"]["tiles"] == [
        "https://tiles.example.org/{z}/{x}/{y}.png"]
    widened = style.headers["content-security-policy"]
    assert "connect-src 'self' https://tiles.example.org" in widened
    assert "img-src 'self' data: https://tiles.example.org" in widened
    assert "script-src 'self';" in widened
    assert "https://tiles.example.org" in client.get(
        "/static/vendor/maplibre-gl/maplibre-gl-worker.mjs").headers["content-security-policy"]
