"""verify_signature: JWS compact serialization, RS256/384/512, payload equivalence, x5c."""

from __future__ import annotations

import base64
import copy
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import jwt
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID

from records.errors import InvalidStatementError
from records.xapi import verify_signature

SIGNATURE_ATTACHMENT = {
    "usageType": "http://adlnet.gov/expapi/attachments/signature",
    "display": {"en-US": "Signed by the test"},
    "contentType": "application/octet-stream",
    "length": 4235,
    "sha2": "672fa5fa658017f1b72d65036f13379c6ab05d4ab3b6664908d8acf0b6a0c634",
}
STATEMENT: dict[str, Any] = {
    "id": "33cff416-e331-4c9d-969e-5373a1756120",
    "actor": {
        "objectType": "Group",
        "name": "4年2組",
        "member": [{"mbox": "mailto:a@example.jp"}, {"mbox": "mailto:b@example.jp"}],
    },
    "verb": {"id": "http://adlnet.gov/expapi/verbs/completed", "display": {"ja-JP": "完了した"}},
    "object": {"id": "https://contents.example-edu.jp/courses/sansu/g4/u03"},
    "context": {"contextActivities": {"parent": {"id": "https://contents.example-edu.jp/c"}}},
    "timestamp": "2025-06-12T10:15:30.250+09:00",
}


def _key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def _certificate(key: rsa.RSAPrivateKey) -> str:
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Ashiato test signer")])
    now = datetime.now(UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(days=1))
        .not_valid_after(now + timedelta(days=30))
        .sign(key, hashes.SHA256())
    )
    return base64.b64encode(certificate.public_bytes(serialization.Encoding.DER)).decode()


@pytest.fixture(scope="module")
def signer() -> tuple[rsa.RSAPrivateKey, str]:
    key = _key()
    return key, _certificate(key)


def sign(
    payload: object, key: Any, algorithm: str = "RS256", x5c: list[str] | None = None
) -> bytes:
    body = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
    headers = {"x5c": x5c} if x5c is not None else None
    return jwt.PyJWS().encode(body, key, algorithm=algorithm, headers=headers).encode()


def received(**changes: Any) -> dict[str, Any]:
    """The statement as the LRS receives it: the signed one plus its signature attachment."""
    statement = copy.deepcopy(STATEMENT)
    statement["attachments"] = [SIGNATURE_ATTACHMENT]
    statement.update(changes)
    return statement


@pytest.mark.parametrize("algorithm", ["RS256", "RS384", "RS512"])
def test_rsa_signatures_with_a_certificate_verify(
    signer: tuple[rsa.RSAPrivateKey, str], algorithm: str
) -> None:
    key, certificate = signer
    verify_signature(received(), sign(STATEMENT, key, algorithm, [certificate]))


def test_without_x5c_only_the_form_and_payload_are_checked(
    signer: tuple[rsa.RSAPrivateKey, str],
) -> None:
    verify_signature(received(), sign(STATEMENT, signer[0]))


def test_a_str_token_is_accepted(signer: tuple[rsa.RSAPrivateKey, str]) -> None:
    verify_signature(received(), sign(STATEMENT, signer[0]).decode())  # type: ignore[arg-type]


def test_the_spec_example_verifies() -> None:
    """xAPI-Data.md Appendix D: a 1024-bit key, CRLF-formatted payload, x5c chain."""
    example = json.loads(
        (Path(__file__).parent / "data" / "appendix_d_signed_statement.json").read_text("utf-8")
    )
    verify_signature(example["statement"], example["jws"].encode())


@pytest.mark.parametrize(
    "changes",
    [
        pytest.param({"id": STATEMENT["id"].upper()}, id="id in upper case"),
        pytest.param({"timestamp": "2025-06-12T01:15:30.25Z"}, id="timestamp in UTC"),
        pytest.param({"stored": "2025-06-12T01:15:31Z"}, id="stored set by the LRS"),
        pytest.param({"version": "1.0.0"}, id="version set by the LRS"),
        pytest.param(
            {"authority": {"mbox": "mailto:lms@example.jp"}}, id="authority set by the LRS"
        ),
        pytest.param(
            {"actor": {**STATEMENT["actor"], "member": STATEMENT["actor"]["member"][::-1]}},
            id="members in another order",
        ),
        pytest.param(
            {
                "context": {
                    "contextActivities": {"parent": [{"id": "https://contents.example-edu.jp/c"}]}
                }
            },
            id="context activity as an array",
        ),
    ],
)
def test_differences_the_lrs_may_cause_are_ignored(
    signer: tuple[rsa.RSAPrivateKey, str], changes: dict[str, Any]
) -> None:
    verify_signature(received(**changes), sign(STATEMENT, signer[0], "RS256", [signer[1]]))


def test_an_id_added_after_signing_is_ignored(signer: tuple[rsa.RSAPrivateKey, str]) -> None:
    payload = {k: v for k, v in STATEMENT.items() if k not in ("id", "timestamp")}
    verify_signature(received(), sign(payload, signer[0]))


def test_other_attachments_must_be_in_the_payload(signer: tuple[rsa.RSAPrivateKey, str]) -> None:
    essay = {
        **SIGNATURE_ATTACHMENT,
        "usageType": "http://example.com/essay",
        "contentType": "text/plain",
    }
    with_essay = {**STATEMENT, "attachments": [essay]}
    verify_signature(
        received(attachments=[essay, SIGNATURE_ATTACHMENT]), sign(with_essay, signer[0])
    )
    with pytest.raises(InvalidStatementError, match="does not match"):
        verify_signature(
            received(attachments=[essay, SIGNATURE_ATTACHMENT]), sign(STATEMENT, signer[0])
        )


@pytest.mark.parametrize(
    "changes",
    [
        pytest.param({"id": "8f87ccde-bb56-4c2e-ab83-44982ef22df0"}, id="other id"),
        pytest.param({"timestamp": "2025-06-12T10:15:31.250+09:00"}, id="other timestamp"),
        pytest.param({"verb": {"id": "http://adlnet.gov/expapi/verbs/failed"}}, id="other verb"),
        pytest.param({"result": {"success": True}}, id="result added"),
        pytest.param({"version": "1.0.3"}, id="other version"),
    ],
)
def test_a_payload_that_differs_is_rejected(
    signer: tuple[rsa.RSAPrivateKey, str], changes: dict[str, Any]
) -> None:
    payload = {**STATEMENT, "version": "1.0.0"}
    with pytest.raises(
        InvalidStatementError,
        match=r"^signature: JWS payload does not match the Statement it signs$",
    ):
        verify_signature(received(**changes), sign(payload, signer[0]))


def test_other_algorithms_are_rejected() -> None:
    token = sign(STATEMENT, b"a shared secret that is long enough", "HS256")
    with pytest.raises(
        InvalidStatementError,
        match=r'^signature: JWS "alg" must be "RS256", "RS384" or "RS512", got "HS256"$',
    ):
        verify_signature(received(), token)


@pytest.mark.parametrize("algorithm", ["PS256", "none"])
def test_rsa_pss_and_none_are_rejected(
    signer: tuple[rsa.RSAPrivateKey, str], algorithm: str
) -> None:
    key = None if algorithm == "none" else signer[0]
    with pytest.raises(InvalidStatementError, match='JWS "alg" must be'):
        verify_signature(received(), sign(STATEMENT, key, algorithm))


def test_a_payload_that_is_not_json_is_rejected(signer: tuple[rsa.RSAPrivateKey, str]) -> None:
    broken = json.dumps(STATEMENT).replace('"', "'", 1).encode()  # the suite's breakJson
    with pytest.raises(InvalidStatementError, match=r"^signature: JWS payload is not a valid JSON"):
        verify_signature(received(), sign(broken, signer[0]))


def test_a_payload_that_is_not_a_statement_is_rejected(
    signer: tuple[rsa.RSAPrivateKey, str],
) -> None:
    with pytest.raises(InvalidStatementError, match=r"^signature\.payload\.verb: is required$"):
        verify_signature(received(), sign({"actor": STATEMENT["actor"]}, signer[0]))


def test_a_certificate_of_another_key_is_rejected(signer: tuple[rsa.RSAPrivateKey, str]) -> None:
    other = _certificate(_key())
    with pytest.raises(
        InvalidStatementError, match=r'^signature: JWS signature does not verify with the "x5c"'
    ):
        verify_signature(received(), sign(STATEMENT, signer[0], "RS256", [other]))


@pytest.mark.parametrize(
    ("x5c", "message"),
    [
        ("MIIB", 'JWS "x5c" must be an array'),
        ([], 'JWS "x5c" must be an array'),
        (["not base64!"], 'JWS "x5c" certificate cannot be read'),
        ([base64.b64encode(b"not a certificate").decode()], "certificate cannot be read"),
    ],
)
def test_unreadable_certificates_are_rejected(
    signer: tuple[rsa.RSAPrivateKey, str], x5c: Any, message: str
) -> None:
    token = jwt.PyJWS().encode(
        json.dumps(STATEMENT).encode(), signer[0], algorithm="RS256", headers={"x5c": x5c}
    )
    with pytest.raises(InvalidStatementError, match=message):
        verify_signature(received(), token.encode())


@pytest.mark.parametrize(
    "token",
    [b"", b"abc", b"a.b", b"a.b.c", b"e30.e30.\xff", "ñ".encode(), b"eyJhbGciOiJSUzI1NiJ9..sig"],
)
def test_malformed_tokens_are_rejected(token: bytes) -> None:
    with pytest.raises(InvalidStatementError, match=r"^signature: "):
        verify_signature(received(), token)
