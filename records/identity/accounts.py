"""Sign-in accounts: passwords (argon2id), role grants, personal API tokens, sign-in throttling.

An account is loaded with its current grants on every request, so a revoked grant or a
deactivated account takes effect at once (zero trust).
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from records.errors import AuthenticationError, BadRequestError, NotFoundError, RecordsError
from records.identity.models import Account, ApiToken, RoleGrant, SecurityEvent
from records.models import Organisation

ROLES = frozenset({"pupil", "guardian", "teacher", "school_admin", "board_analyst", "system_admin"})
MIN_PASSWORD_LENGTH = 10
# Sign-in throttling: this many failures for one login name or one address in the window...
MAX_FAILURES = 5
FAILURE_WINDOW = timedelta(minutes=15)

_HASHER = PasswordHasher()
# A real hash to verify against when the login name is unknown, so timing does not tell.
_DUMMY_HASH = _HASHER.hash(secrets.token_hex(16))


class TooManyAttemptsError(RecordsError):
    """Too many failed sign-ins recently. -> 429"""


@dataclass(frozen=True, slots=True)
class Grant:
    role: str
    org_id: int


@dataclass(frozen=True, slots=True)
class AccountInfo:
    id: int
    email: str
    person_id: int | None
    locale: str
    grants: tuple[Grant, ...]

    def has_role(self, *roles: str) -> bool:
        return any(grant.role in roles for grant in self.grants)

    def orgs_for(self, *roles: str) -> set[int]:
        return {grant.org_id for grant in self.grants if grant.role in roles}


def create_account(
    session: Session,
    email: str,
    password: str,
    role: str,
    org_code: str,
    *,
    person_id: int | None = None,
    locale: str = "ja",
) -> AccountInfo:
    email = _normalise_email(email)
    if role not in ROLES:
        raise BadRequestError(f"role {role!r} is not one of {', '.join(sorted(ROLES))}")
    if len(password) < MIN_PASSWORD_LENGTH:
        raise BadRequestError(f"passwords need at least {MIN_PASSWORD_LENGTH} characters")
    if role == "pupil" and person_id is None:
        raise BadRequestError("a pupil account must belong to a person")
    org_id = session.scalar(select(Organisation.id).where(Organisation.code == org_code))
    if org_id is None:
        raise NotFoundError(f"no organisation with code {org_code!r}")
    if session.scalar(select(Account.id).where(Account.email == email)) is not None:
        raise BadRequestError(f"an account for {email} already exists")
    account = Account(
        email=email,
        password_hash=_HASHER.hash(password),
        person_id=person_id,
        locale=locale,
        active=True,
        created_at=datetime.now(UTC),
    )
    session.add(account)
    session.flush()
    session.add(RoleGrant(account_id=account.id, role=role, org_id=org_id))
    session.flush()
    return load_account(session, account.id)


def load_account(session: Session, account_id: int) -> AccountInfo:
    """The account with its current grants; AuthenticationError if gone or deactivated."""
    account = session.get(Account, account_id)
    if account is None or not account.active:
        raise AuthenticationError("this account does not exist or was deactivated")
    grants = tuple(
        Grant(role, org_id)
        for role, org_id in session.execute(
            select(RoleGrant.role, RoleGrant.org_id)
            .where(RoleGrant.account_id == account_id)
            .order_by(RoleGrant.id)
        )
    )
    return AccountInfo(account.id, account.email, account.person_id, account.locale, grants)


LOCALES = frozenset({"ja", "en"})


def set_locale(session: Session, account_id: int, locale: str) -> None:
    """The language the account's pages are shown in."""
    if locale not in LOCALES:
        raise BadRequestError(f"language {locale!r} is not one of {', '.join(sorted(LOCALES))}")
    account = session.get(Account, account_id)
    if account is None:
        raise NotFoundError("no such account")
    account.locale = locale
    session.flush()


def sign_in(session: Session, email: str, password: str, remote_addr: str) -> AccountInfo:
    """Check a password; throttled per login name and per address; every outcome is recorded."""
    email = email.strip().lower()
    since = datetime.now(UTC) - FAILURE_WINDOW
    failures = session.scalar(
        select(func.count())
        .select_from(SecurityEvent)
        .where(
            SecurityEvent.kind == "sign_in_failed",
            SecurityEvent.at > since,
            (SecurityEvent.login_name == email) | (SecurityEvent.remote_addr == remote_addr),
        )
    )
    if (failures or 0) >= MAX_FAILURES:
        record_event(session, "sign_in_throttled", None, email, remote_addr)
        raise TooManyAttemptsError(
            "too many failed sign-ins; wait 15 minutes or ask your school admin to reset it"
        )
    account = session.scalar(select(Account).where(Account.email == email))
    try:
        _HASHER.verify(account.password_hash if account else _DUMMY_HASH, password)
        if account is None or not account.active:
            raise VerificationError
    except (VerificationError, InvalidHashError):
        record_event(session, "sign_in_failed", account.id if account else None, email, remote_addr)
        raise AuthenticationError("wrong e-mail address or password") from None
    if _HASHER.check_needs_rehash(account.password_hash):
        account.password_hash = _HASHER.hash(password)
    account.last_sign_in_at = datetime.now(UTC)
    record_event(session, "sign_in", account.id, email, remote_addr)
    return load_account(session, account.id)


def record_event(
    session: Session,
    kind: str,
    account_id: int | None,
    login_name: str,
    remote_addr: str,
    detail: str = "",
) -> None:
    session.add(
        SecurityEvent(
            at=datetime.now(UTC),
            kind=kind,
            account_id=account_id,
            login_name=login_name[:255],
            remote_addr=remote_addr[:64],
            detail=detail,
        )
    )
    session.flush()


# --- personal API tokens -----------------------------------------------------------------------


def create_token(session: Session, email: str, label: str, hash_key: bytes) -> str:
    account_id = session.scalar(select(Account.id).where(Account.email == _normalise_email(email)))
    if account_id is None:
        raise NotFoundError(f"no account for {email}")
    token = "ash_" + secrets.token_urlsafe(32)
    session.add(
        ApiToken(
            account_id=account_id,
            token_hash=_token_hash(token, hash_key),
            label=label or "API token",
            created_at=datetime.now(UTC),
        )
    )
    session.flush()
    return token


@dataclass(frozen=True, slots=True)
class TokenInfo:
    """A personal API token as its owner and admins see it (never the token itself)."""

    id: int
    label: str
    created_at: datetime
    last_used_at: datetime | None
    revoked_at: datetime | None


def list_tokens(session: Session, email: str) -> list[TokenInfo]:
    account_id = session.scalar(select(Account.id).where(Account.email == _normalise_email(email)))
    if account_id is None:
        raise NotFoundError(f"no account for {email}")
    rows = session.scalars(
        select(ApiToken).where(ApiToken.account_id == account_id).order_by(ApiToken.id)
    )
    return [
        TokenInfo(row.id, row.label, row.created_at, row.last_used_at, row.revoked_at)
        for row in rows
    ]


def revoke_token(session: Session, token_id: int) -> None:
    """Refuse the token from now on (every request checks it); revoking twice is a no-op."""
    row = session.get(ApiToken, token_id)
    if row is None:
        raise NotFoundError(f"no API token with id {token_id}")
    if row.revoked_at is None:
        row.revoked_at = datetime.now(UTC)
        session.flush()


def authenticate_token(session: Session, token: str, hash_key: bytes) -> AccountInfo:
    row = session.scalar(
        select(ApiToken).where(ApiToken.token_hash == _token_hash(token, hash_key))
    )
    if row is None or row.revoked_at is not None:
        raise AuthenticationError("unknown or revoked API token")
    now = datetime.now(UTC)
    last = row.last_used_at
    if last is None or (last if last.tzinfo else last.replace(tzinfo=UTC)) < now - timedelta(
        minutes=1
    ):
        row.last_used_at = now
    return load_account(session, row.account_id)


def _token_hash(token: str, hash_key: bytes) -> str:
    return hmac.new(hash_key, token.encode("utf-8"), hashlib.sha256).hexdigest()


def _normalise_email(email: str) -> str:
    email = email.strip().lower()
    local, at, domain = email.partition("@")
    if not at or not local or "." not in domain:
        raise BadRequestError(f"{email!r} is not an e-mail address")
    return email
