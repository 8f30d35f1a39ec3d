"""LRS credentials: random key/secret pairs with xAPI scopes, one organisation each.

Secrets are 256-bit random tokens, so a keyed fast hash (HMAC-SHA256 with a server-side key) is
the right protection: a slow password hash would cost ~150 ms of CPU on every request for no gain,
since nobody can guess a 256-bit token.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import time
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta

from sqlalchemy import bindparam, select, update
from sqlalchemy.orm import Session

from records.errors import AuthenticationError, BadRequestError, NotFoundError
from records.models import Credential, Organisation

SCOPES = frozenset(
    {
        "statements/write",
        "statements/read",
        "statements/read/mine",
        "state",
        "profile",
        "define",
        "all/read",
        "all",
    }
)
# Built once: this runs on every LRS request.
_BY_KEY = (
    select(
        Credential.id,
        Credential.org_id,
        Credential.secret_hash,
        Credential.scopes,
        Credential.label,
        Credential.revoked_at,
        Credential.last_used_at,
        Organisation.code,
    )
    .join(Organisation, Organisation.id == Credential.org_id)
    .where(Credential.key == bindparam("key"))
)
_REVOKED_AT = select(Credential.revoked_at).where(Credential.id == bindparam("id"))
# How stale last_used_at may get before a request refreshes it (saves a write per request).
LAST_USED_RESOLUTION = timedelta(minutes=1)
_REVOKED = "this credential was revoked; ask your school admin for a new one"


@dataclass(frozen=True, slots=True)
class CredentialInfo:
    id: int
    key: str
    org_id: int
    org_code: str
    label: str
    scopes: frozenset[str]

    # True when authenticating it recorded its use (last_used_at): the caller commits that.
    touched: bool = False

    def allows(self, *wanted: str) -> bool:
        """True when the credential holds any of `wanted`, or `all`."""
        return "all" in self.scopes or any(scope in self.scopes for scope in wanted)


@dataclass(frozen=True, slots=True)
class NewCredential:
    info: CredentialInfo
    secret: str  # shown once, never stored


class RecentCredentials:
    """Credentials this process authenticated lately, by key: lets statement writes skip the
    credential query (and its transaction) on every request.

    An entry proves only that the key and secret were right a moment ago. Callers that use it
    must check revocation where it counts: the statement writer does, in its own transaction
    (`check_active`, via records.store), so a revoked credential still writes nothing. Entries
    live for LAST_USED_RESOLUTION, after which the full check runs again and refreshes
    last_used_at. Thread-safe for its use (single dict operations under the GIL).
    """

    def __init__(self, ttl: timedelta = LAST_USED_RESOLUTION, max_entries: int = 10_000) -> None:
        self._ttl = ttl.total_seconds()
        self._max_entries = max_entries
        self._entries: dict[str, tuple[str, float, CredentialInfo]] = {}

    def get(self, key: str, secret_hash: str) -> CredentialInfo | None:
        entry = self._entries.get(key)
        if entry is None:
            return None
        expected, expires, info = entry
        if time.monotonic() >= expires or not hmac.compare_digest(expected, secret_hash):
            return None
        return info

    def remember(self, info: CredentialInfo, secret_hash: str) -> None:
        if len(self._entries) >= self._max_entries:
            self._entries.clear()  # rare (that many devices in one process): start afresh
        fresh = replace(info, touched=False)  # its use is committed already
        self._entries[info.key] = (secret_hash, time.monotonic() + self._ttl, fresh)


def hash_secret(secret: str, hash_key: bytes) -> str:
    return hmac.new(hash_key, secret.encode("utf-8"), hashlib.sha256).hexdigest()


def parse_scopes(text: str) -> frozenset[str]:
    scopes = frozenset(text.replace(",", " ").split())
    unknown = sorted(scopes - SCOPES)
    if unknown:
        raise BadRequestError(
            f"unknown scope(s) {', '.join(unknown)}; choose from {', '.join(sorted(SCOPES))}"
        )
    if not scopes:
        raise BadRequestError("a credential needs at least one scope")
    return scopes


def create_credential(
    session: Session, org_code: str, scopes: frozenset[str], label: str, hash_key: bytes
) -> NewCredential:
    org = session.scalar(select(Organisation).where(Organisation.code == org_code))
    if org is None:
        raise NotFoundError(f"no organisation with code {org_code!r}")
    key = secrets.token_hex(16)
    secret = secrets.token_urlsafe(32)  # 256 bits
    row = Credential(
        org_id=org.id,
        key=key,
        secret_hash=hash_secret(secret, hash_key),
        scopes=" ".join(sorted(scopes)),
        label=label or f"{org.code} device",
        created_at=datetime.now(UTC),
    )
    session.add(row)
    session.flush()
    info = CredentialInfo(row.id, key, org.id, org.code, row.label, scopes)
    return NewCredential(info, secret)


def authenticate(session: Session, key: str, secret: str, hash_key: bytes) -> CredentialInfo:
    """The credential for a key/secret pair, or AuthenticationError. Revocation is immediate."""
    found = session.connection().execute(_BY_KEY, {"key": key}).first()
    # Compare even when the key is unknown, so timing does not tell which part was wrong.
    expected = found.secret_hash if found else "0" * 64
    if not hmac.compare_digest(expected, hash_secret(secret, hash_key)) or found is None:
        raise AuthenticationError("unknown key or wrong secret")
    if found.revoked_at is not None:
        raise AuthenticationError(_REVOKED)
    now = datetime.now(UTC)
    last = found.last_used_at
    touched = last is None or _aware(last) < now - LAST_USED_RESOLUTION
    if touched:
        session.connection().execute(
            update(Credential).where(Credential.id == found.id).values(last_used_at=now)
        )
    return CredentialInfo(
        found.id,
        key,
        found.org_id,
        found.code,
        found.label,
        frozenset(found.scopes.split()),
        touched,
    )


def check_active(session: Session, credential_id: int) -> None:
    """AuthenticationError unless the credential exists and is not revoked. Writers call it in
    their own transaction, so that a revocation committed before the write refuses it."""
    found = session.connection().execute(_REVOKED_AT, {"id": credential_id}).first()
    revoked = found is not None and found.revoked_at is not None
    refuse_inactive(found=found is not None, revoked=revoked)


def refuse_inactive(*, found: bool, revoked: bool) -> None:
    """AuthenticationError for a credential that is gone or revoked (checked by a writer)."""
    if not found:
        raise AuthenticationError("unknown key or wrong secret")
    if revoked:
        raise AuthenticationError(_REVOKED)


def revoke_credential(session: Session, key: str) -> None:
    row = session.scalar(select(Credential).where(Credential.key == key))
    if row is None:
        raise NotFoundError(f"no credential with key {key!r}")
    if row.revoked_at is None:
        row.revoked_at = datetime.now(UTC)
        session.flush()


def _aware(moment: datetime) -> datetime:
    # SQLite hands back naive datetimes; everything we store is UTC.
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
