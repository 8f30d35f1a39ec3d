"""Signed statements (Data 2.6): check the JWS carried by the signature attachment."""

from __future__ import annotations

import base64
import binascii
import json
from typing import Any

import jwt
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import rsa
from jwt.algorithms import RSAAlgorithm

from records.xapi.attachments import SIGNATURE_USAGE_TYPE
from records.xapi.primitives import fail, parse_timestamp, show
from records.xapi.statements import parse_statement

_HASHES: dict[str, type[hashes.HashAlgorithm]] = {
    "RS256": hashes.SHA256,
    "RS384": hashes.SHA384,
    "RS512": hashes.SHA512,
}
# Properties the LRS may set or overwrite (Data 2.3.1.b1): compared only when both sides have them
# (id, timestamp, version) or not at all (authority, stored).
_SET_BY_LRS = ("id", "timestamp", "version", "authority", "stored", "attachments")


def verify_signature(statement: dict[str, Any], jws: bytes) -> None:
    """Raise InvalidStatementError unless `jws` is a well-formed signature of `statement`.

    `jws` must be a JWS Compact Serialization with alg RS256, RS384 or RS512 whose payload is
    a JSON statement logically equivalent to `statement` (ignoring what the LRS may set: id,
    timestamp and version unless both carry them; authority, stored; and the signature
    attachments themselves; Group members in any order). If the header has "x5c", the
    signature must verify with the first certificate's RSA key. Certificates are not
    trusted or chain-checked: that step only catches mistakes (Data 2.6.s5).
    """
    token = jws.encode("utf-8") if isinstance(jws, str) else jws
    try:
        decoded = jwt.PyJWS().decode_complete(token, options={"verify_signature": False})
    except jwt.PyJWTError as exc:
        fail("signature", f"is not a JWS compact serialization ({exc})")
    header: dict[str, Any] = decoded["header"]
    algorithm = header.get("alg")
    if not isinstance(algorithm, str) or algorithm not in _HASHES:
        fail("signature", f'JWS "alg" must be "RS256", "RS384" or "RS512", got {show(algorithm)}')
    try:
        payload = json.loads(decoded["payload"])
    except (ValueError, RecursionError):
        fail("signature", "JWS payload is not a valid JSON serialization of a Statement")
    signed = parse_statement(payload, "signature.payload").data
    received = parse_statement(statement, "statement").data
    if not _equivalent(signed, received):
        fail("signature", "JWS payload does not match the Statement it signs")
    if "x5c" in header:
        _verify_with_certificate(header["x5c"], token, decoded["signature"], algorithm)


def _equivalent(signed: dict[str, Any], received: dict[str, Any]) -> bool:
    for name in ("id", "version"):
        if name in signed and name in received:
            left, right = signed[name], received[name]
            if name == "id":
                left, right = left.lower(), right.lower()
            if left != right:
                return False
    if "timestamp" in signed and "timestamp" in received:
        left_time = parse_timestamp(signed["timestamp"], "signature.payload.timestamp")
        right_time = parse_timestamp(received["timestamp"], "statement.timestamp")
        if left_time != right_time:
            return False
    if _unsigned_attachments(signed) != _unsigned_attachments(received):
        return False
    same: bool = _comparable(signed) == _comparable(received)
    return same


def _unsigned_attachments(statement: dict[str, Any]) -> list[Any]:
    return [
        attachment
        for attachment in statement.get("attachments", [])
        if attachment.get("usageType") != SIGNATURE_USAGE_TYPE
    ]


def _comparable(statement: dict[str, Any]) -> Any:
    rest = {key: value for key, value in statement.items() if key not in _SET_BY_LRS}
    return _members_unordered(rest)


def _members_unordered(value: Any) -> Any:
    """Group members are an unordered list (Data 2.3.1.b5): sort them for comparison."""
    if isinstance(value, dict):
        out = {
            key: item if key == "extensions" else _members_unordered(item)
            for key, item in value.items()
        }
        if out.get("objectType") == "Group" and isinstance(out.get("member"), list):
            out["member"] = sorted(out["member"], key=lambda m: json.dumps(m, sort_keys=True))
        return out
    if isinstance(value, list):
        return [_members_unordered(item) for item in value]
    return value


def _verify_with_certificate(x5c: object, token: bytes, signature: bytes, algorithm: str) -> None:
    if not isinstance(x5c, list) or not x5c or not isinstance(x5c[0], str):
        fail("signature", 'JWS "x5c" must be an array of base64 certificates')
    try:
        certificate = x509.load_der_x509_certificate(base64.b64decode(x5c[0], validate=True))
    except (ValueError, binascii.Error):
        fail("signature", 'JWS "x5c" certificate cannot be read')
    public_key = certificate.public_key()
    if not isinstance(public_key, rsa.RSAPublicKey):
        fail("signature", 'JWS "x5c" certificate does not hold an RSA key')
    signing_input = token.rsplit(b".", 1)[0]
    if not RSAAlgorithm(_HASHES[algorithm]).verify(signing_input, public_key, signature):
        fail("signature", 'JWS signature does not verify with the "x5c" certificate')
