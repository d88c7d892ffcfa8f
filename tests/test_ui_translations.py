"""The web UI's languages: every message of the pages is in each catalogue, translated, with
the same placeholders; ?lang=, the cookie and Accept-Language choose; Arabic is right to
left; numbers and dates follow the locale (Babel)."""

from __future__ import annotations

from pathlib import Path

import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po
from fastapi.testclient import TestClient

from demine.settings import Settings
from demine.web.app import create_app
from demine.web.ui import i18n

ROOT = Path(__file__).resolve().parents[1]
UI = ROOT / "src" / "demine" / "web" / "ui"
TRANSLATED = sorted(set(i18n.LANGUAGES) - {i18n.DEFAULT})
# The same extraction as babel.cfg (`pybabel extract -F babel.cfg`).
METHODS = [("**.py", "python"), ("templates/**.html", "jinja2")]
OPTIONS = {"templates/**.html": {"extensions": "jinja2.ext.i18n"}}


@pytest.fixture(scope="module")
def source_ids() -> set[str]:
    """Every message id the UI's code and templates use."""
    found = {message for _, _, message, *_ in extract_from_dir(
        UI, METHODS, options_map=OPTIONS)}
    assert len(found) > 50
    return {m if isinstance(m, str) else m[0] for m in found}


def _key(message) -> str:
    """A message's id (a plural message: its singular)."""
    return message.id if isinstance(message.id, str) else message.id[0]


def _forms(message) -> tuple[str, ...]:
    """A message's translation, or each of its plural forms."""
    return (message.string,) if isinstance(message.string, str) else message.string


def _catalog(lang: str):
    with (UI / "locale" / lang / "LC_MESSAGES" / "messages.po").open("rb") as handle:
        return read_po(handle, locale=lang)


def test_the_template_holds_every_message(source_ids):
    """messages.pot is up to date with the code (re-run pybabel extract when this fails)."""
    with (UI / "locale" / "messages.pot").open("rb") as handle:
        pot = {_key(m) for m in read_po(handle) if m.id}
    assert source_ids - pot == set(), "missing from messages.pot"
    assert pot - source_ids == set(), "no longer used"


@pytest.mark.parametrize("lang", TRANSLATED)
def test_every_message_is_translated(lang, source_ids):
    """No missing, empty or fuzzy message; placeholders kept (Babel's checks)."""
    catalog = _catalog(lang)
    strings = {_key(m): m for m in catalog if m.id}
    assert sorted(source_ids - set(strings)) == [], f"{lang}: missing"
    empty = sorted(i for i in source_ids if not all(_forms(strings[i])) or strings[i].fuzzy)
    assert empty == [], f"{lang}: empty or fuzzy"
    problems = [(m.id, [str(e) for e in errors]) for m, errors in catalog.check()]
    assert problems == []


@pytest.fixture
def client(tmp_path, gpkg_template):
    """A client on an empty store (the pages' words do not depend on data)."""
    import shutil

    from demine.settings import sqlite_url

    path = tmp_path / "store.gpkg"
    shutil.copy(gpkg_template, path)
    app = create_app(Settings(database_url=sqlite_url(path)))
    with TestClient(app, base_url="http://127.0.0.1") as test_client:
        yield test_client
    app.state.database.dispose()


EXPECTED_SIGN_IN = {"en": "Sign in", "uk": "Увійти", "ru": "Войти", "ko": "로그인",
                    "fr": "Se connecter", "es": "Iniciar sesión", "ar": "تسجيل الدخول"}


@pytest.mark.parametrize("lang", sorted(i18n.LANGUAGES))
def test_lang_parameter_renders_the_language_and_is_remembered(client, lang):
    """?lang=xx renders the page in xx with <html lang dir>, and a cookie keeps it."""
    page = client.get(f"/login?lang={lang}")
    assert f'<html lang="{lang}" dir="{"rtl" if lang == "ar" else "ltr"}">' in page.text
    assert EXPECTED_SIGN_IN[lang] in page.text
    assert page.cookies.get(i18n.LANG_COOKIE) == lang
    again = client.get("/map")
    assert f'<html lang="{lang}"' in again.text


def test_accept_language_chooses_when_nothing_else_does(client):
    """A browser set to Ukrainian gets Ukrainian; an unknown language gets English."""
    page = client.get("/login", headers={"accept-language": "de-DE,uk;q=0.8,en;q=0.5"})
    assert '<html lang="uk"' in page.text
    page = client.get("/login", headers={"accept-language": "de-DE"})
    assert '<html lang="en"' in page.text


def test_error_page_in_the_visitors_language(client):
    """The 404 page speaks the remembered language."""
    client.get("/login?lang=fr")
    page = client.get("/nowhere", headers={"accept": "text/html"})
    assert page.status_code == 404 and "Page introuvable" in page.text


@pytest.mark.parametrize(("lang", "text"), [("en", "1,234,567"), ("es", "1.234.567"),
                                            ("fr", "1\u202f234\u202f567"),
                                            ("uk", "1\xa0234\xa0567")])
def test_numbers_follow_the_locale(lang, text):
    """Thousands separators per locale (CLDR through Babel)."""
    token = i18n.use(lang)
    try:
        assert i18n.number(1234567) == text
    finally:
        i18n.reset(token)


def test_dates_follow_the_locale():
    """The same day written as each locale writes it."""
    from datetime import date

    written = {}
    for lang in ("en", "fr", "ko"):
        token = i18n.use(lang)
        written[lang] = i18n.day(date(2026, 3, 9))
        i18n.reset(token)
    assert written == {"en": "Mar 9, 2026", "fr": "9 mars 2026", "ko": "2026. 3. 9."}


def test_record_values_follow_the_locale():
    """A record's numbers, dates and times in the locale's form; text as entered."""
    from datetime import UTC, date, datetime

    token = i18n.use("fr")
    try:
        assert i18n.cell(4459.08) == "4\u202f459,08"
        assert i18n.cell(date(2024, 12, 1)) == "1 déc. 2024"
        assert i18n.cell(datetime(2024, 12, 5, 11, 32, tzinfo=UTC)).startswith("5 déc. 2024")
        assert i18n.cell("HZ-000001") == "HZ-000001" and i18n.cell(None) == "—"
    finally:
        i18n.reset(token)
