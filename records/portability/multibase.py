"""base58btc multibase ('z...') and Ed25519 Multikey encoding, as Data Integrity uses them."""

from __future__ import annotations

from records.errors import BadRequestError

_ALPHABET = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"
_INDEX = {c: i for i, c in enumerate(_ALPHABET)}
# The multicodec prefix of an Ed25519 public key (0xed, varint-encoded).
_ED25519_PUB = b"\xed\x01"


def b58encode(data: bytes) -> str:
    number = int.from_bytes(data, "big")
    out = []
    while number:
        number, rem = divmod(number, 58)
        out.append(_ALPHABET[rem])
    zeros = len(data) - len(data.lstrip(b"\0"))
    return "1" * zeros + "".join(reversed(out))


def b58decode(text: str) -> bytes:
    number = 0
    for char in text:
        if char not in _INDEX:
            raise BadRequestError(f"{char!r} is not a base58btc character")
        number = number * 58 + _INDEX[char]
    zeros = len(text) - len(text.lstrip("1"))
    body = number.to_bytes((number.bit_length() + 7) // 8, "big") if number else b""
    return b"\0" * zeros + body


def multibase_encode(data: bytes) -> str:
    return "z" + b58encode(data)


def multibase_decode(text: str) -> bytes:
    if not text.startswith("z"):
        raise BadRequestError("only base58btc multibase values ('z...') are accepted")
    return b58decode(text[1:])


def ed25519_multikey(public_key: bytes) -> str:
    """The publicKeyMultibase of a raw 32-byte Ed25519 public key ('z6Mk...')."""
    return multibase_encode(_ED25519_PUB + public_key)


def ed25519_from_multikey(multikey: str) -> bytes:
    raw = multibase_decode(multikey)
    if not raw.startswith(_ED25519_PUB) or len(raw) != 34:
        raise BadRequestError(f"{multikey} is not an Ed25519 Multikey")
    return raw[2:]
