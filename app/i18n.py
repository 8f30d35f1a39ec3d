"""Languages: Japanese first, English available, chosen per user.

The signed-in account's `locale` wins; before sign-in a `lang` cookie set by the language switch,
then the browser's Accept-Language, then Japanese. Strings are marked with gettext in templates
and views; the catalogs live in app/translations (see app/translations/catalogs.py).
"""

from __future__ import annotations

from flask import Flask, request
from flask_babel import Babel

from app.auth import current_account

LOCALES = ("ja", "en")
DEFAULT_LOCALE = "ja"
COOKIE = "lang"

babel = Babel()


def select_locale() -> str:
    account = current_account()
    if account is not None and account.locale in LOCALES:
        return account.locale
    chosen = request.cookies.get(COOKIE, "")
    if chosen in LOCALES:
        return chosen
    return request.accept_languages.best_match(LOCALES, default=DEFAULT_LOCALE) or DEFAULT_LOCALE


def init_app(app: Flask) -> None:
    babel.init_app(
        app,
        default_locale=DEFAULT_LOCALE,
        default_timezone="Asia/Tokyo",
        locale_selector=select_locale,
    )
