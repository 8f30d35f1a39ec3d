"""The trust list: the public keys this instance accepts transfer packages from.

Keys of this instance's own organisations are trusted while not revoked (a transfer between two
schools of one instance needs no set-up); every other key must be added by an operator.
"""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass
from datetime import UTC, datetime

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from sqlalchemy import select
from sqlalchemy.orm import Session

from records.errors import BadRequestError, NotFoundError
from records.portability.keys import key_id, own_public_key
from records.portability.models import TrustedKey
from records.portability.multibase import ed25519_from_multikey, ed25519_multikey


class UntrustedSignerError(BadRequestError):
    """The package's signer is unknown here, or its key was revoked."""


@dataclass(frozen=True, slots=True)
class TrustEntry:
    kid: str
    org_code: str
    public_key: str
    label: str
    added_at: datetime
    revoked_at: datetime | None


@dataclass(frozen=True, slots=True)
class Signer:
    kid: str
    org_code: str
    public_key: Ed25519PublicKey


def parse_public_key(text: str) -> bytes:
    """An Ed25519 public key given as a Multikey ('z6Mk...') or base64url JWK 'x' value."""
    text = text.strip()
    if text.startswith("z"):
        return ed25519_from_multikey(text)
    try:
        raw = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except (binascii.Error, ValueError):
        raw = b""
    if len(raw) != 32:
        raise BadRequestError(
            "give the key as an Ed25519 Multikey ('z6Mk...') or the 'x' value of its JWK"
        )
    return raw


def add_trusted(session: Session, public_key: str, org_code: str, label: str = "") -> TrustEntry:
    raw = parse_public_key(public_key)
    kid = key_id(raw)
    row = session.scalar(select(TrustedKey).where(TrustedKey.kid == kid))
    if row is None:
        row = TrustedKey(
            kid=kid,
            public_key=ed25519_multikey(raw),
            org_code=org_code,
            label=label,
            added_at=datetime.now(UTC),
        )
        session.add(row)
    else:
        if row.org_code != org_code:
            raise BadRequestError(f"key {kid} is already trusted for organisation {row.org_code}")
        row.revoked_at = None
        row.label = label or row.label
    session.flush()
    return _entry(row)


def remove_trusted(session: Session, kid: str) -> TrustEntry:
    """Stop accepting a key. The row stays, marked revoked, so refusals can say so."""
    row = session.scalar(select(TrustedKey).where(TrustedKey.kid == kid))
    if row is None:
        raise NotFoundError(f"key {kid} is not on the trust list")
    if row.revoked_at is None:
        row.revoked_at = datetime.now(UTC)
        session.flush()
    return _entry(row)


def list_trusted(session: Session) -> list[TrustEntry]:
    return [_entry(r) for r in session.scalars(select(TrustedKey).order_by(TrustedKey.id))]


def trusted_signer(session: Session, kid: str) -> Signer:
    """The key `kid`, if this instance accepts packages it signed; else UntrustedSignerError."""
    own = own_public_key(session, kid)
    if own is not None:
        info, key = own
        if info.revoked_at is not None:
            raise UntrustedSignerError(f"the package was signed with revoked key {kid}")
        return Signer(kid, info.org_code, key)
    row = session.scalar(select(TrustedKey).where(TrustedKey.kid == kid))
    if row is None:
        raise UntrustedSignerError(
            f"the package was signed with key {kid}, which is not on this instance's trust "
            "list; add the sending school's published key with 'flask transfer trust add'"
        )
    if row.revoked_at is not None:
        raise UntrustedSignerError(
            f"the package was signed with key {kid} of {row.org_code}, which was removed from "
            "the trust list (revoked)"
        )
    raw = ed25519_from_multikey(row.public_key)
    return Signer(kid, row.org_code, Ed25519PublicKey.from_public_bytes(raw))


def _entry(row: TrustedKey) -> TrustEntry:
    return TrustEntry(
        row.kid, row.org_code, row.public_key, row.label, row.added_at, row.revoked_at
    )
