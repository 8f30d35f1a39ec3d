"""The tool's own RSA key pairs: generation and their public JWKs (RFC 7517, RFC 7638 kid)."""

from __future__ import annotations

import base64
import hashlib
import json
from dataclasses import dataclass
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from jwt.algorithms import RSAAlgorithm

KEY_SIZE = 2048


@dataclass(frozen=True, slots=True)
class NewKey:
    kid: str
    private_pem: str
    public_jwk: dict[str, Any]


def generate_key() -> NewKey:
    """A fresh RS256 key pair; its kid is the RFC 7638 thumbprint of the public key."""
    private = rsa.generate_private_key(public_exponent=65537, key_size=KEY_SIZE)
    pem = private.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode("ascii")
    public = json.loads(RSAAlgorithm.to_jwk(private.public_key()))
    kid = _thumbprint(public)
    return NewKey(kid=kid, private_pem=pem, public_jwk=public_jwk(public, kid))


def public_jwk(public: dict[str, Any], kid: str) -> dict[str, Any]:
    return {
        "kty": "RSA",
        "n": public["n"],
        "e": public["e"],
        "kid": kid,
        "alg": "RS256",
        "use": "sig",
    }


def _thumbprint(public: dict[str, Any]) -> str:
    canonical = json.dumps(
        {"e": public["e"], "kty": "RSA", "n": public["n"]}, separators=(",", ":"), sort_keys=True
    )
    digest = hashlib.sha256(canonical.encode("ascii")).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")
