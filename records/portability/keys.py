"""Organisations' Ed25519 signing keys: create, rotate, revoke, publish, and sign with.

The private key is stored only as encrypted PKCS#8 (the passphrase is the application's
secret, handed in by the caller) and leaves this module only as a `cryptography` key object for
signing; nothing here returns it in any other form.
"""

from __future__ import annotations

import base64
import hashlib
from dataclasses import dataclass
from datetime import UTC, datetime

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from sqlalchemy import select
from sqlalchemy.orm import Session

from records.errors import BadRequestError, NotFoundError
from records.models import Organisation
from records.portability.models import OrgSigningKey
from records.portability.multibase import ed25519_from_multikey, ed25519_multikey


@dataclass(frozen=True, slots=True)
class PublicKeyInfo:
    """What is published about a key: never anything private."""

    kid: str
    org_code: str
    public_key: str  # Ed25519 Multikey
    created_at: datetime
    retired_at: datetime | None
    revoked_at: datetime | None

    @property
    def status(self) -> str:
        if self.revoked_at is not None:
            return "revoked"
        return "retired" if self.retired_at is not None else "active"

    def jwk(self) -> dict[str, str]:
        return {
            "kty": "OKP",
            "crv": "Ed25519",
            "x": _b64url(ed25519_from_multikey(self.public_key)),
            "kid": self.kid,
            "use": "sig",
            "alg": "EdDSA",
        }


@dataclass(frozen=True, slots=True)
class SigningKey:
    kid: str
    org_code: str
    public_key: str
    private: Ed25519PrivateKey


def key_id(public_key: bytes) -> str:
    """RFC 7638 JWK thumbprint of an Ed25519 public key (base64url SHA-256)."""
    canonical = '{"crv":"Ed25519","kty":"OKP","x":"' + _b64url(public_key) + '"}'
    return _b64url(hashlib.sha256(canonical.encode("ascii")).digest())


def create_key(session: Session, org_code: str, secret: bytes) -> PublicKeyInfo:
    """A new signing key for the organisation; older active keys are retired (rotation)."""
    org = _org(session, org_code)
    now = datetime.now(UTC)
    for old in session.scalars(
        select(OrgSigningKey).where(
            OrgSigningKey.org_id == org.id,
            OrgSigningKey.retired_at.is_(None),
            OrgSigningKey.revoked_at.is_(None),
        )
    ):
        old.retired_at = now
    private = Ed25519PrivateKey.generate()
    raw = private.public_key().public_bytes_raw()
    row = OrgSigningKey(
        org_id=org.id,
        kid=key_id(raw),
        public_key=ed25519_multikey(raw),
        private_key_pkcs8=private.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.BestAvailableEncryption(_passphrase(secret)),
        ),
        created_at=now,
    )
    session.add(row)
    session.flush()
    return _info(row, org.code)


def signing_key(session: Session, org_id: int, secret: bytes) -> SigningKey:
    """The organisation's current key (the newest active one), created on first use."""
    row = session.scalar(
        select(OrgSigningKey)
        .where(
            OrgSigningKey.org_id == org_id,
            OrgSigningKey.retired_at.is_(None),
            OrgSigningKey.revoked_at.is_(None),
        )
        .order_by(OrgSigningKey.created_at.desc(), OrgSigningKey.id.desc())
        .limit(1)
    )
    org = session.get(Organisation, org_id)
    if org is None:
        raise NotFoundError(f"no organisation with id {org_id}")
    if row is None:
        create_key(session, org.code, secret)
        return signing_key(session, org_id, secret)
    try:
        private = serialization.load_pem_private_key(row.private_key_pkcs8, _passphrase(secret))
    except (ValueError, TypeError):
        raise BadRequestError(
            f"signing key {row.kid} cannot be opened with this instance's secret (was "
            "SECRET_KEY changed?); create a new key with 'flask transfer keys create'"
        ) from None
    if not isinstance(private, Ed25519PrivateKey):  # pragma: no cover - only Ed25519 is stored
        raise BadRequestError("the stored signing key is not an Ed25519 key")
    return SigningKey(row.kid, org.code, row.public_key, private)


def revoke_key(session: Session, kid: str) -> PublicKeyInfo:
    row = session.scalar(select(OrgSigningKey).where(OrgSigningKey.kid == kid))
    if row is None:
        raise NotFoundError(f"no signing key {kid}")
    if row.revoked_at is None:
        row.revoked_at = datetime.now(UTC)
        session.flush()
    org = session.get(Organisation, row.org_id)
    return _info(row, org.code if org else "")


def published_keys(session: Session, org_code: str | None = None) -> list[PublicKeyInfo]:
    """Every key of every organisation (or of one), newest first, with its status."""
    stmt = select(OrgSigningKey, Organisation.code).join(
        Organisation, Organisation.id == OrgSigningKey.org_id
    )
    if org_code is not None:
        stmt = stmt.where(Organisation.code == org_code)
    rows = session.execute(stmt.order_by(OrgSigningKey.created_at.desc(), OrgSigningKey.id.desc()))
    return [_info(row, code) for row, code in rows]


def own_public_key(session: Session, kid: str) -> tuple[PublicKeyInfo, Ed25519PublicKey] | None:
    """A key of one of this instance's own organisations, by kid."""
    found = session.execute(
        select(OrgSigningKey, Organisation.code)
        .join(Organisation, Organisation.id == OrgSigningKey.org_id)
        .where(OrgSigningKey.kid == kid)
    ).first()
    if found is None:
        return None
    info = _info(found[0], found[1])
    return info, Ed25519PublicKey.from_public_bytes(ed25519_from_multikey(info.public_key))


def _org(session: Session, code: str) -> Organisation:
    org = session.scalar(select(Organisation).where(Organisation.code == code))
    if org is None:
        raise NotFoundError(f"no organisation with code {code!r}")
    return org


def _info(row: OrgSigningKey, org_code: str) -> PublicKeyInfo:
    return PublicKeyInfo(
        row.kid, org_code, row.public_key, row.created_at, row.retired_at, row.revoked_at
    )


def _passphrase(secret: bytes) -> bytes:
    if not secret:
        raise BadRequestError("a secret is needed to protect signing keys")
    # Domain-separated from the other uses of the application secret.
    return hashlib.sha256(b"ashiato transfer signing key\0" + secret).digest()


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")
