"""Languages of the web UI: which one a request gets, its gettext catalogue, and numbers and
dates per locale (Babel).

Catalogues are ``locale/<lang>/LC_MESSAGES/messages.po``, compiled in memory the first time a
language is used (a few milliseconds): the .po file is the one source, no compiled .mo file is
committed or has to be built before the app or its tests run.
"""

from __future__ import annotations

import io
from contextvars import ContextVar
from datetime import date, datetime
from functools import cache
from gettext import NullTranslations
from pathlib import Path

from babel import Locale
from babel.dates import format_date, format_datetime, format_skeleton
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.numbers import format_decimal
from babel.support import Translations
from starlette.requests import Request

LOCALE_DIR = Path(__file__).parent / "locale"
DOMAIN = "messages"
DEFAULT = "en"
# code → the language's own name (what the switcher shows)
LANGUAGES = {"en": "English", "uk": "Українська", "ru": "Русский", "ko": "한국어",
             "fr": "Français", "es": "Español", "ar": "العربية"}
RTL = frozenset({"ar"})
LANG_COOKIE = "demine_lang"
LANG_COOKIE_AGE = 365 * 24 * 3600

_current: ContextVar[str] = ContextVar("demine_ui_lang", default=DEFAULT)


def N_(message: str) -> str:  # noqa: N802 - the gettext convention for "mark, translate later"
    """Mark a message for extraction; it is translated where it is shown."""
    return message


@cache
def translations(lang: str) -> NullTranslations:
    """The catalogue of ``lang`` (English, the source language, needs none)."""
    path = LOCALE_DIR / lang / "LC_MESSAGES" / f"{DOMAIN}.po"
    if lang == DEFAULT or not path.exists():
        return NullTranslations()
    with path.open("rb") as handle:
        catalog = read_po(handle, locale=lang, domain=DOMAIN)
    compiled = io.BytesIO()
    write_mo(compiled, catalog)
    compiled.seek(0)
    return Translations(compiled, domain=DOMAIN)


def negotiate(request: Request) -> tuple[str, bool]:
    """The request's language, and whether it was asked for with ``?lang=`` (then remembered
    in a cookie): ``?lang=``, the cookie, then Accept-Language, then English."""
    asked = request.query_params.get("lang", "")
    if asked in LANGUAGES:
        return asked, True
    remembered = request.cookies.get(LANG_COOKIE, "")
    if remembered in LANGUAGES:
        return remembered, False
    for lang in _accepted(request.headers.get("accept-language", "")):
        if lang in LANGUAGES:
            return lang, False
    return DEFAULT, False


def _accepted(header: str) -> list[str]:
    """The primary language tags of an Accept-Language header, most wanted first."""
    weighted = []
    for position, part in enumerate(header.split(",")):
        tag, _, params = part.strip().partition(";")
        quality = 1.0
        if params.strip().startswith("q="):
            try:
                quality = float(params.strip()[2:])
            except ValueError:
                quality = 0.0
        if tag and quality > 0:
            weighted.append((-quality, position, tag.split("-")[0].lower()))
    return [tag for _, _, tag in sorted(weighted)]


def direction(lang: str) -> str:
    """``rtl`` or ``ltr``."""
    return "rtl" if lang in RTL else "ltr"


def use(lang: str):
    """Make ``lang`` the language of what is rendered next in this context (returns a token
    for ``reset``)."""
    return _current.set(lang)


def reset(token) -> None:
    """Undo ``use``."""
    _current.reset(token)


def gettext(message: str) -> str:
    """``message`` in the current language."""
    return translations(_current.get()).gettext(message)


def ngettext(singular: str, plural: str, n: int) -> str:
    """The singular or plural of ``n`` in the current language."""
    return translations(_current.get()).ngettext(singular, plural, n)


def _locale() -> Locale:
    return Locale.parse(_current.get())


def number(value: float | int | None, digits: int = 0) -> str:
    """A number with the locale's digits and separators (``digits`` decimals at most)."""
    if value is None:
        return ""
    pattern = "#,##0" + ("." + "#" * digits if digits else "")
    return format_decimal(value, format=pattern, locale=_locale())


def day(value: date | datetime | None, form: str = "medium") -> str:
    """A date as the locale writes it."""
    if value is None:
        return ""
    return format_date(value, format=form, locale=_locale())


def cell(value: object) -> str:
    """A stored value as the locale writes it: numbers, dates and times by Babel, the rest as
    entered."""
    if value is None:
        return "—"
    if isinstance(value, bool):
        return "✓" if value else "✗"
    if isinstance(value, int | float):
        return number(value, 2)
    if isinstance(value, datetime):
        return moment(value)
    if isinstance(value, date):
        return day(value)
    return str(value)


def moment(value: datetime | None, form: str = "medium") -> str:
    """A date and time as the locale writes them."""
    return "" if value is None else format_datetime(value, format=form, locale=_locale())


def period_label(key: str) -> str:
    """A year ("2025") or month ("2025-03") of the statistics as the locale writes it."""
    if len(key) == 7:
        return format_skeleton("yMMM", date(int(key[:4]), int(key[5:]), 1), locale=_locale())
    return key
