"""The pages' languages: Simplified Chinese (the default) and English.

Page text is written in English in the templates and code (``_("...")``) and
translated in ``translations/zh_Hans/LC_MESSAGES/messages.po``. The .po file is
the only copy: it is compiled in memory the first time a process needs it, so a
clean checkout needs no build step and no compiled .mo file can go stale.

A visitor's language is, in order: the choice made with the switch on every
page (a cookie), the browser's ``Accept-Language`` (read by ``messages.negotiate``:
any ``zh`` tag — ``zh``, ``zh-CN``, ``zh-Hans``, ``zh-Hans-CN`` and also ``zh-TW``,
for which Simplified beats English — gives zh-Hans), then zh-Hans. The API's
message catalogue (web/messages.py) follows the same choice for the pages' own
calls, so an error a page shows reads in the page's language.
"""
from __future__ import annotations

import io
from functools import cache, cached_property
from pathlib import Path

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import NullTranslations, Translations
from flask import Flask, request
from flask_babel import Babel, Domain, get_locale

from .. import messages
from ..auth import token_client

TRANSLATIONS = Path(__file__).parent / "translations"
DEFAULT = messages.DEFAULT_LOCALE
# Locale id -> (BCP 47 tag for <html lang>, the language's name in itself).
LANGUAGES = {"zh_Hans": ("zh-Hans", "中文"), "en": ("en", "English")}
COOKIE = "kiosk_lang"
COOKIE_DAYS = 365


def select_locale() -> str:
    """The page's language: the visitor's choice (cookie), else Accept-Language, else zh-Hans."""
    chosen = request.cookies.get(COOKIE)
    if chosen in LANGUAGES:
        return chosen
    return messages.negotiate(request.headers.get("Accept-Language"), DEFAULT)


def _message_locale() -> str | None:
    """The catalogue's language for this request: a page's, or (for a token client of the API,
    web.auth.token_client) whatever its Accept-Language asks, English by default."""
    if token_client(request.environ):
        return None
    return select_locale()


def current() -> str:
    """The locale id of this request (zh_Hans or en)."""
    locale = get_locale()
    return "zh_Hans" if locale is None or locale.language == "zh" else "en"


@cache
def catalogue(locale: str) -> NullTranslations:
    """The compiled translations of one locale; English, the source language, has none."""
    path = TRANSLATIONS / locale / "LC_MESSAGES" / "messages.po"
    if not path.exists():
        return NullTranslations()
    with path.open("rb") as handle:
        messages = read_po(handle, locale=locale)
    compiled = io.BytesIO()
    write_mo(compiled, messages)
    compiled.seek(0)
    return Translations(compiled)


class _PoDomain(Domain):
    def get_translations(self):
        return catalogue(current())


class _Babel(Babel):
    @cached_property
    def domain_instance(self):
        return _PoDomain()


def init_app(app: Flask) -> None:
    app.config.setdefault("BABEL_DEFAULT_LOCALE", DEFAULT)
    _Babel(app, locale_selector=select_locale)
    # API answers to the pages' own calls speak the page's language too.
    messages.set_locale_selector(_message_locale)

    @app.context_processor
    def _languages():
        locale = current()
        return {"languages": LANGUAGES, "locale": locale, "html_lang": LANGUAGES[locale][0]}
