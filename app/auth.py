"""Who is asking: flask-login sessions for people, Bearer tokens for scripts.

The account and its role grants are loaded from the database on every request, so a revoked
grant or a deactivated account takes effect at once. Models never inherit UserMixin: this
adapter wraps the domain's AccountInfo.
"""

from __future__ import annotations

from flask import Flask, current_app, request
from flask_login import LoginManager, UserMixin, current_user

from app.db import get_session
from records.errors import AuthenticationError, RecordsError
from records.identity.accounts import AccountInfo, authenticate_token, load_account

login_manager = LoginManager()


class SignedIn(UserMixin):  # type: ignore[misc]  # flask_login is untyped
    def __init__(self, account: AccountInfo, via_token: bool = False) -> None:
        self.account = account
        self.via_token = via_token

    def get_id(self) -> str:
        return str(self.account.id)


@login_manager.user_loader
def _load(account_id: str) -> SignedIn | None:
    try:
        return SignedIn(load_account(get_session(), int(account_id)))
    except (RecordsError, ValueError):
        return None


@login_manager.request_loader
def _from_bearer(_request: object) -> SignedIn | None:
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return None
    hash_key = current_app.config["CREDENTIAL_HASH_KEY"].encode("utf-8")
    try:
        account = authenticate_token(get_session(), token.strip(), hash_key)
    except AuthenticationError:
        return None
    get_session().commit()  # last_used_at
    return SignedIn(account, via_token=True)


def current_account() -> AccountInfo | None:
    if current_user.is_authenticated:
        account: AccountInfo = current_user.account
        return account
    return None


def signed_in_via_token() -> bool:
    return bool(current_user.is_authenticated and current_user.via_token)


def init_app(app: Flask) -> None:
    login_manager.init_app(app)
    login_manager.login_view = "web.sign_in"
    login_manager.session_protection = "strong"
