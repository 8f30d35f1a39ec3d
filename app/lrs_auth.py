"""HTTP Basic authentication of LRS credentials, and the authority Agent a credential writes as."""

from __future__ import annotations

import base64
import binascii
from typing import Any

from flask import current_app

from app.db import get_session
from app.urls import public_url
from records.credentials import CredentialInfo, RecentCredentials, authenticate, hash_secret
from records.errors import AuthenticationError

_RECENT = "ashiato.recent_credentials"


def credential_from_header(
    header: str | None, revocation_checked_later: bool = False
) -> CredentialInfo:
    """The credential of a Basic Authorization header, or AuthenticationError.

    `revocation_checked_later`: the request only writes statements, and the statement writer
    checks revocation in its transaction; then a credential authenticated in the last minute
    is taken from memory, without a query.
    """
    if not header:
        raise AuthenticationError(
            "this resource needs HTTP Basic authentication with an LRS key and secret"
        )
    scheme, _, encoded = header.partition(" ")
    if scheme.lower() != "basic" or not encoded.strip():
        raise AuthenticationError("use HTTP Basic authentication (Authorization: Basic ...)")
    try:
        decoded = base64.b64decode(encoded.strip(), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        raise AuthenticationError(
            "the Basic credentials are not valid base64 'key:secret'"
        ) from None
    key, colon, secret = decoded.partition(":")
    if not colon or not key or not secret:
        raise AuthenticationError("the Basic credentials must be 'key:secret'")
    hash_key = current_app.config["CREDENTIAL_HASH_KEY"].encode("utf-8")
    recent: RecentCredentials = current_app.extensions.setdefault(_RECENT, RecentCredentials())
    if revocation_checked_later:
        secret_hash = hash_secret(secret, hash_key)
        known = recent.get(key, secret_hash)
        if known is not None:
            return known
    credential = authenticate(get_session(), key, secret, hash_key)
    if credential.touched:
        # Commit the use now, in its own short transaction: read requests never commit, and an
        # uncommitted update would hold the row lock and be redone by every request.
        get_session().commit()
    if revocation_checked_later:
        recent.remember(credential, secret_hash)
    return credential


def authority_of(credential: CredentialInfo) -> dict[str, Any]:
    """Statements are vouched for by the credential that sent them."""
    return {
        "objectType": "Agent",
        "name": credential.label,
        "account": {"homePage": public_url(), "name": f"credential/{credential.key}"},
    }
