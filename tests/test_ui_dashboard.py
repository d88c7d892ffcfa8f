"""The dashboard over HTTP (in-process client, both backends): every headline figure equals
`demine stats` / GET /api/v1/stats for the same actor (each demo role and anonymous), the
filters equal the statistics of one organisation and of a period, a submitted record moves no
figure until it is approved, restricted records of others are not counted, and casualties and
EORE beneficiaries equal counts made here from the tables."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from html.parser import HTMLParser

import pytest
from fastapi.testclient import TestClient
from shapely.geometry import box, mapping, shape
from sqlalchemy import text

from demine.domain.actors import Actor
from demine.services.access import accounts
from demine.services.access.demo_access import demo_password
from demine.services.reads.stats import land_release_stats
from demine.services.records import crud as records
from demine.settings import Settings
from demine.storage.database import Database
from demine.web.app import create_app

HTML = {"accept": "text/html,application/xhtml+xml"}
ROLES = (None, "admin", "authority", "operator", "reporter", "viewer")
LEDGER = ("baseline_m2", "cancelled_m2", "reduced_m2", "cleared_m2", "remaining_m2")


class Dashboard(HTMLParser):
    """What the tests read of the page: figures, unapproved figures, charts, scripts."""

    def __init__(self, html: str):
        super().__init__()
        self.stats: dict[str, float] = {}
        self.unapproved: dict[str, float] = {}
        self.charts: dict = {}
        self.canvases: list[str] = []
        self.scripts: list[dict] = []
        self.styled: list[str] = []
        self.inputs: dict[str, str] = {}
        self.feed(html)

    def handle_starttag(self, tag, attrs):
        found = dict(attrs)
        if "data-stat" in found:
            assert found["data-stat"] not in self.stats, "each figure once"
            self.stats[found["data-stat"]] = float(found["data-value"])
        if "data-unapproved" in found:
            self.unapproved[found["data-unapproved"]] = float(found["value"])
        if "data-charts" in found:
            self.charts = json.loads(found["data-charts"])
        if tag == "canvas":
            self.canvases.append(found["data-chart"])
        if tag == "script":
            self.scripts.append(found)
        if tag == "style" or "style" in found or any(k.startswith("on") for k in found):
            self.styled.append(tag)
        if tag == "input" and "name" in found:
            self.inputs[found["name"]] = found.get("value") or ""


def _client(app) -> TestClient:
    return TestClient(app, base_url="http://127.0.0.1")


def _sign_in(client: TestClient, role: str) -> None:
    form = Dashboard(client.get("/login", headers=HTML).text).inputs
    signed = client.post("/login", data={
        "csrf_token": form["csrf_token"], "next": "/dashboard",
        "email": f"{role}@demo.demine.org", "password": demo_password(role)},
        headers=HTML, follow_redirects=False)
    assert signed.status_code == 303


def _page(client: TestClient, query: str = "") -> Dashboard:
    response = client.get(f"/dashboard{query}", headers=HTML)
    assert response.status_code == 200, response.text
    return Dashboard(response.text)


def _flat(stats: dict) -> dict[str, float]:
    """The figures of `demine stats --json` by the names the page gives them."""
    return {**{c: stats[c] for c in LEDGER},
            **{f"eo_destroyed.{c}": n for c, n in stats["eo_destroyed"].items()}}


def _headline(page: Dashboard) -> dict[str, float]:
    return {k: v for k, v in page.stats.items() if k != "casualties"}


def _actor(database: Database, token: str) -> Actor:
    with database.read() as uow:
        return accounts.actor_for_token(uow, token)


@pytest.fixture
def app(demo_url):
    """The app over a private copy of the small demo region."""
    application = create_app(Settings(database_url=demo_url))
    yield application
    application.state.database.dispose()


def test_headline_figures_equal_the_statistics_of_each_role(app, demo_template, demo_cli):
    """For anonymous visitors and each demo role, the page's figures are GET /api/v1/stats of
    the same user; the administrator's are `demine stats --json`; they differ by role."""
    seen = {}
    for role in ROLES:
        with _client(app) as client:
            if role:
                _sign_in(client, role)
            page = _page(client)
            headers = demo_template.bearer(role) if role else {}
            api = client.get("/api/v1/stats", headers=headers).json()
        assert set(page.stats) == {*LEDGER, *(f"eo_destroyed.{c}" for c in api["eo_destroyed"]),
                                   "casualties"}
        assert _headline(page) == _flat(api), role
        assert set(page.canvases) <= set(page.charts)
        assert bool(page.unapproved) == (role is not None), role
        seen[role] = _headline(page)
    cli = demo_cli("stats", "--json")
    assert cli.exit_code == 0, cli.output
    assert seen["admin"] == _flat(json.loads(cli.stdout))
    assert seen[None]["baseline_m2"] < seen["authority"]["baseline_m2"], \
        "the public sees less than the authority"
    assert len({json.dumps(f, sort_keys=True) for f in seen.values()}) >= 3


def test_filters_equal_the_statistics_of_an_organisation_and_a_period(app, demo_template,
                                                                      demo_cli):
    """?org= is `demine stats --org`; ?year= and ?from=&to= sum `demine stats --by month` over
    the months, remaining as at the period's end; a viewer's ?org= counts what it may see."""
    by_month = json.loads(demo_cli("stats", "--by", "month", "--json").stdout)["groups"]
    with _client(app) as client:
        _sign_in(client, "admin")
        for code in ("HDA", "NMAA"):
            expected = json.loads(demo_cli("stats", "--json", "--org", code).stdout)
            assert _headline(_page(client, f"?org={code}")) == _flat(expected)
        for query, first, last in (("?year=2025", "2025-01", "2025-12"),
                                   ("?from=2025-03&to=2025-08", "2025-03", "2025-08")):
            months = [g for g in by_month if first <= g["group"] <= last]
            assert months, "the demo has activity in the period"
            shown = _headline(_page(client, query))
            for c in ("baseline_m2", "cancelled_m2", "reduced_m2", "cleared_m2"):
                assert shown[c] == pytest.approx(sum(g[c] for g in months), abs=0.011), c
            assert shown["remaining_m2"] == [g for g in by_month
                                             if g["group"] <= last][-1]["remaining_m2"]
            for category in by_month[0]["eo_destroyed"]:
                assert shown[f"eo_destroyed.{category}"] == sum(
                    g["eo_destroyed"][category] for g in months)
    viewer = _actor(app.state.database, demo_template.tokens["viewer"])
    with _client(app) as client, app.state.database.read() as uow:
        _sign_in(client, "viewer")
        for organisation_id, code in uow.conn.execute(text("SELECT id, code FROM organisations")):
            expected = land_release_stats(uow, actor=viewer, organisation_id=organisation_id)
            assert _headline(_page(client, f"?org={code}")) == _flat(expected), code


def test_filters_not_understood_are_named_and_left_out(app):
    """A bad year, month or organisation: the page says so and shows the unfiltered figures."""
    with _client(app) as client:
        plain = _page(client)
        response = client.get("/dashboard?year=20x5&from=2025-13&org=NOPE", headers=HTML)
        assert response.status_code == 200
        assert "Not understood, so left out: Year, From, Organisation." in response.text
        assert Dashboard(response.text).stats == plain.stats


def _site(client: TestClient, headers) -> tuple[float, float]:
    areas = client.get("/api/v1/admin_areas", params={"limit": 1000}, headers=headers).json()
    district = min((a for a in areas["items"] if a["level"] == 2), key=lambda a: a["id"])
    point = shape(district["geometry"]).representative_point()
    return point.x, point.y


def _approve(client: TestClient, location: str, headers) -> None:
    etag = client.get(location, headers=headers).headers["ETag"]
    decided = client.post(f"{location}/review", json={"decision": "approve"},
                          headers={**headers, "If-Match": etag})
    assert decided.status_code == 200, decided.text


def test_submitted_records_move_no_figure_until_approved(app, demo_template):
    """An operator's submitted hazard, then its submitted survey releasing land: the figures
    of every role stay as they were (the operator sees them apart, as not yet approved); once
    the authority approves each, the baseline, then the land cancelled, move by their area."""
    operator, authority = demo_template.bearer("operator"), demo_template.bearer("authority")
    with _client(app) as auth_page, _client(app) as op_page, _client(app) as api:
        _sign_in(auth_page, "authority")
        _sign_in(op_page, "operator")
        before, op_before = _page(auth_page), _page(op_page)
        x, y = _site(api, operator)
        made = api.post("/api/v1/hazards", headers=operator, json={
            "name": "Dashboard test field", "hazard_type": "SHA", "reported_on": "2025-05-02",
            "sensitivity": "public", "geometry": mapping(box(x, y, x + 0.002, y + 0.002))})
        assert made.status_code == 201, made.text
        hazard = made.json()
        assert hazard["review_status"] == "submitted"
        assert _page(auth_page).stats == before.stats
        op_pending = _page(op_page)
        assert op_pending.stats == op_before.stats
        assert op_pending.unapproved["hazards"] == op_before.unapproved["hazards"] + 1
        assert op_pending.unapproved["baseline_m2"] == pytest.approx(
            op_before.unapproved["baseline_m2"] + hazard["baseline_m2"], abs=0.02)

        _approve(api, made.headers["Location"], authority)
        approved = _page(auth_page).stats
        assert approved["baseline_m2"] == pytest.approx(
            before.stats["baseline_m2"] + hazard["baseline_m2"], abs=0.02)
        assert approved["remaining_m2"] == pytest.approx(
            before.stats["remaining_m2"] + hazard["baseline_m2"], abs=0.02)

        half = box(x, y, x + 0.001, y + 0.002)
        survey = api.post("/api/v1/activities", headers=operator, json={
            "hazard_id": hazard["id"], "kind": "nts", "status": "completed",
            "start_date": "2025-06-01", "end_date": "2025-06-20",
            "geometry": mapping(half), "released_geometry": mapping(half)})
        assert survey.status_code == 201, survey.text
        released = survey.json()["released_m2"]
        assert _page(auth_page).stats == approved
        assert _page(op_page).unapproved["cancelled_m2"] == pytest.approx(
            op_before.unapproved["cancelled_m2"] + released, abs=0.02)

        _approve(api, survey.headers["Location"], authority)
        after = _page(auth_page).stats
        assert after["cancelled_m2"] == pytest.approx(
            approved["cancelled_m2"] + released, abs=0.02)
        assert after["remaining_m2"] == pytest.approx(
            approved["remaining_m2"] - released, abs=0.02)
        assert after["baseline_m2"] == approved["baseline_m2"]


def test_restricted_records_of_others_are_not_counted(app, demo_template):
    """An approved public hazard of another organisation made restricted: it leaves the
    viewer's figures (with or without ?org=) and the public's, not the administrator's."""
    viewer_org = _actor(app.state.database, demo_template.tokens["viewer"]).organisation_id
    database = app.state.database
    with database.read() as uow:
        hazard_id, baseline, code = uow.conn.execute(text(
            "SELECT h.id, h.baseline_m2, o.code FROM hazards h JOIN organisations o "
            "ON o.id = h.organisation_id WHERE h.review_status = 'approved' "
            "AND h.sensitivity = 'public' AND h.organisation_id != :org "
            "AND h.baseline_m2 > 1000 ORDER BY h.id LIMIT 1"), {"org": viewer_org}).one()
    with _client(app) as viewer, _client(app) as admin, _client(app) as public:
        _sign_in(viewer, "viewer")
        _sign_in(admin, "admin")
        pages = {"viewer": viewer, "admin": admin, "public": public}
        before = {k: _page(c).stats for k, c in pages.items()}
        before_org = _page(viewer, f"?org={code}").stats
        with database.transaction() as uow:
            records.update_record(uow, actor=Actor.system("test"), layer="hazards",
                                  record_id=hazard_id, changes={"sensitivity": "restricted"})
        after = {k: _page(c).stats for k, c in pages.items()}
        for who in ("viewer", "public"):
            assert after[who]["baseline_m2"] == pytest.approx(
                before[who]["baseline_m2"] - baseline, abs=0.02), who
        assert _page(viewer, f"?org={code}").stats["baseline_m2"] == pytest.approx(
            before_org["baseline_m2"] - baseline, abs=0.02)
        assert after["admin"] == before["admin"]


def _public_counts(database: Database, year: str) -> tuple[int, int, int]:
    """Casualties of a year, all of them and those the public may see, and the people public
    EORE sessions reached: counted here from the tables (approved and public only)."""
    year_of = "substr(CAST(a.occurred_on AS TEXT), 1, 4)"
    with database.read() as uow:
        run = uow.conn.execute
        every = run(text(f"SELECT count(*) FROM casualties c JOIN accidents a ON "
                         f"a.id = c.accident_id WHERE c.review_status = 'approved' AND "
                         f"a.review_status = 'approved' AND {year_of} = :y"), {"y": year})
        public = run(text(f"SELECT count(*) FROM casualties c JOIN accidents a ON "
                          f"a.id = c.accident_id WHERE c.review_status = 'approved' AND "
                          f"a.review_status = 'approved' AND c.sensitivity = 'public' AND "
                          f"a.sensitivity = 'public' AND {year_of} = :y"), {"y": year})
        reached = run(text("SELECT coalesce(sum(b.count), 0) FROM eore_beneficiaries b JOIN "
                           "eore_sessions s ON s.id = b.session_id WHERE "
                           "s.review_status = 'approved' AND s.sensitivity = 'public'"))
        return every.scalar_one(), public.scalar_one(), int(reached.scalar_one())


def test_casualties_and_eore_beneficiaries_are_counts_of_approved_records(app):
    """Casualties of a year (administrator: all approved; anonymous: approved and public) and
    the public's EORE beneficiaries equal counts made from the tables; no personal data is on
    the page."""
    database = app.state.database
    with database.read() as uow:
        years = [r[0] for r in uow.conn.execute(text(
            "SELECT DISTINCT substr(CAST(occurred_on AS TEXT), 1, 4) FROM accidents"))]
        names = [r[0] for r in uow.conn.execute(text(
            "SELECT full_name FROM casualties WHERE full_name IS NOT NULL LIMIT 20"))]
    assert years and names
    with _client(app) as admin, _client(app) as public:
        _sign_in(admin, "admin")
        for year in years:
            every, shown_publicly, reached = _public_counts(database, year)
            assert _page(admin, f"?year={year}").stats["casualties"] == every
            assert _page(public, f"?year={year}").stats["casualties"] == shown_publicly
        page = _page(public)
        eore = page.charts["eore"]["datasets"]
        assert sum(sum(d["data"]) for d in eore) == reached
        html = admin.get("/dashboard", headers=HTML).text
        assert not any(name in html for name in names)
        this_year = str(datetime.now(UTC).year)
        assert f"Casualties in {this_year}" in html


def test_the_dashboard_runs_under_the_strict_csp_and_is_linked(app):
    """No inline script, style or handler; the top bar links the page."""
    with _client(app) as client:
        response = client.get("/dashboard", headers=HTML)
        page = Dashboard(response.text)
        assert page.styled == []
        assert page.scripts and all(s.get("src", "").startswith("/static/")
                                    for s in page.scripts)
        assert 'href="/dashboard" aria-current="page"' in response.text
        assert "public, approved data only" in response.text
        assert client.get("/static/vendor/chart.js/chart.umd.min.js").status_code == 200
