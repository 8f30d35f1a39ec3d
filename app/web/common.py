"""What every browser page needs: who is asking, today's date in Japan, the page language,
the menu for the account's roles, and the service URL."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone
from urllib.parse import urlsplit

from flask import current_app, url_for
from flask_babel import get_locale, lazy_gettext

from app.auth import current_account
from app.urls import public_url
from records.errors import AuthenticationError
from records.identity.accounts import AccountInfo

JST = timezone(timedelta(hours=9))


def viewer() -> AccountInfo:
    account = current_account()
    if account is None:
        raise AuthenticationError("sign in first")
    return account


def today() -> date:
    """Schools live by the date in Japan, whatever the server's clock zone."""
    return datetime.now(JST).date()


def locale() -> str:
    found = get_locale()
    return found.language if found is not None else "ja"


def service_url() -> str:
    return public_url()


def menu(account: AccountInfo | None) -> list[tuple[str, object]]:
    """(endpoint, label) for the pages this account's roles may open."""
    if account is None:
        return []
    links: list[tuple[str, object]] = []
    if account.has_role("pupil") and account.person_id is not None:
        links.append(("web.portfolio.home", lazy_gettext("My learning")))
        links.append(("web.portfolio.new_entry", lazy_gettext("Add an entry")))
    if account.has_role("pupil", "guardian"):
        links.append(("web.trust.access_log", lazy_gettext("Who looked at my data")))
        links.append(("web.trust.consents", lazy_gettext("Sharing and consent")))
    if account.has_role("pupil") and account.person_id is not None:
        links.append(("web.transfers.index", lazy_gettext("Take my portfolio with me")))
    if account.has_role("teacher"):
        links.append(("web.classes.index", lazy_gettext("My classes")))
    if account.has_role("school_admin", "system_admin"):
        links.append(("web.admin.index", lazy_gettext("School admin")))
        links.append(("web.trust.school_log", lazy_gettext("Access log")))
        links.append(("web.trust.erasures", lazy_gettext("Erasure requests")))
        links.append(("web.transfers.index", lazy_gettext("Transfers")))
    if account.has_role("board_analyst", "system_admin"):
        links.append(("web.boards.index", lazy_gettext("Regional analytics")))
    return [
        (endpoint, label) for endpoint, label in links if endpoint in current_app.view_functions
    ]


def max_upload() -> int:
    return int(current_app.config["MAX_CONTENT_LENGTH"])


def local_path(target: str) -> str:
    """Only a path on this site: never redirect somewhere else (open redirect)."""
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return str(url_for("web.home"))
    return target
