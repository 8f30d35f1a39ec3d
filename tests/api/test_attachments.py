"""Statements with attachments (multipart/mixed), attachment retrieval, and signed statements."""

from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import jwt
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID

from tests.api.lrs_client import (
    BOUNDARY,
    Lrs,
    Part,
    assert_error,
    multipart_body,
    new_id,
    parse_multipart,
)

MakeStatement = Callable[..., dict[str, Any]]

MULTIPART = f'multipart/mixed; boundary="{BOUNDARY}"'
SIGNATURE = "http://adlnet.gov/expapi/attachments/signature"
SUPPORTING_MEDIA = "http://id.tincanapi.com/attachment/supporting_media"
# Bytes that look like line ends and delimiters (but not our boundary) come back untouched.
DRAWING = b"\r\n" + bytes(range(256)) + b"\r\n--other-boundary\r\n\r\n" + "絵".encode() + b"\n"
ESSAY = "夏休みの自由研究: アサガオの観察".encode()


def meta(content: bytes, content_type: str = "image/png", **extra: Any) -> dict[str, Any]:
    return {
        "usageType": SUPPORTING_MEDIA,
        "display": {"ja": "添付", "en-US": "attachment"},
        "contentType": content_type,
        "length": len(content),
        "sha2": hashlib.sha256(content).hexdigest(),
        **extra,
    }


def part(content: bytes, content_type: str = "image/png", **headers: str) -> Part:
    out = {
        "Content-Type": content_type,
        "Content-Transfer-Encoding": "binary",
        "X-Experience-API-Hash": hashlib.sha256(content).hexdigest(),
    }
    out.update({name.replace("_", "-"): value for name, value in headers.items()})
    return out, content


def post_multipart(xapi: Lrs, first: Any, parts: list[Part], **params: Any) -> Any:
    return xapi.send("POST", multipart_body(first, parts), MULTIPART, **params)


# --- sending -----------------------------------------------------------------------------------


def test_statement_with_an_attachment_part_is_stored_and_returned_with_its_bytes(
    xapi: Lrs, make_statement: MakeStatement
) -> None:
    statement = make_statement(attachments=[meta(DRAWING)])

    response = post_multipart(xapi, statement, [part(DRAWING)])

    assert response.status_code == 200, response.get_data(as_text=True)
    [statement_id] = response.get_json()
    got = xapi.get(statementId=statement_id, attachments=True)
    assert got.status_code == 200
    (json_headers, json_body), (headers, content) = parse_multipart(got)
    assert json_headers["content-type"] == "application/json"
    assert json.loads(json_body)["attachments"] == [meta(DRAWING)]
    assert content == DRAWING
    assert headers["x-experience-api-hash"] == hashlib.sha256(DRAWING).hexdigest()
    assert headers["content-transfer-encoding"] == "binary"
    assert headers["content-type"] == "image/png"


def test_query_with_attachments_returns_every_attachment_once(
    xapi: Lrs, make_statement: MakeStatement
) -> None:
    batch = [
        make_statement(attachments=[meta(DRAWING), meta(ESSAY, "text/plain; charset=utf-8")]),
        make_statement(attachments=[meta(ESSAY, "text/plain; charset=utf-8")]),
        make_statement(),
    ]
    response = post_multipart(
        xapi, batch, [part(DRAWING), part(ESSAY, "text/plain; charset=utf-8")]
    )
    assert response.status_code == 200, response.get_data(as_text=True)

    got = xapi.get(attachments=True)

    (_, json_body), *parts = parse_multipart(got)
    assert len(json.loads(json_body)["statements"]) == 3
    assert sorted(content for _, content in parts) == sorted([DRAWING, ESSAY])


def test_put_with_an_attachment(xapi: Lrs, make_statement: MakeStatement) -> None:
    statement_id = new_id()

    response = xapi.send(
        "PUT",
        multipart_body(make_statement(attachments=[meta(ESSAY)]), [part(ESSAY)]),
        MULTIPART,
        statementId=statement_id,
    )

    assert response.status_code == 204, response.get_data(as_text=True)
    (_, _), (_, content) = parse_multipart(xapi.get(statementId=statement_id, attachments=True))
    assert content == ESSAY


def test_without_attachments_true_the_answer_is_plain_json(
    xapi: Lrs, make_statement: MakeStatement
) -> None:
    response = post_multipart(xapi, make_statement(attachments=[meta(DRAWING)]), [part(DRAWING)])
    [statement_id] = response.get_json()

    for got in (xapi.get(statementId=statement_id), xapi.get(attachments=False)):
        assert got.mimetype == "application/json"
        assert DRAWING not in got.get_data()


def test_attachment_with_only_a_file_url_needs_no_part(
    xapi: Lrs, make_statement: MakeStatement
) -> None:
    attachment = meta(DRAWING, fileUrl="https://files.example.jp/drawings/1.png")

    [statement_id] = xapi.store(make_statement(attachments=[attachment]))

    assert xapi.statement(statement_id)["attachments"] == [attachment]
    (_, _), *parts = parse_multipart(xapi.get(statementId=statement_id, attachments=True))
    assert parts == []


def test_a_file_url_attachment_may_still_be_sent_as_a_part(
    xapi: Lrs, make_statement: MakeStatement
) -> None:
    attachment = meta(DRAWING, fileUrl="https://files.example.jp/drawings/1.png")

    response = post_multipart(xapi, make_statement(attachments=[attachment]), [part(DRAWING)])

    assert response.status_code == 200, response.get_data(as_text=True)


# --- refusing ----------------------------------------------------------------------------------


def _refused(
    xapi: Lrs,
    stored_counts: Callable[[], dict[str, int]],
    body: bytes,
    content_type: str,
    reason: str,
) -> None:
    """The request is refused with 400 for `reason` (part of the message); nothing is stored."""
    before = stored_counts()
    message = assert_error(xapi.send("POST", body, content_type), 400)
    assert reason in message
    assert stored_counts() == before


def test_part_whose_hash_does_not_match_its_content_is_refused(
    xapi: Lrs, make_statement: MakeStatement, stored_counts: Callable[[], dict[str, int]]
) -> None:
    headers, _ = part(DRAWING)
    body = multipart_body(make_statement(attachments=[meta(DRAWING)]), [(headers, DRAWING[:-1])])

    _refused(xapi, stored_counts, body, MULTIPART, "does not match its content")


def test_statement_whose_attachment_hash_matches_no_part_is_refused(
    xapi: Lrs, make_statement: MakeStatement, stored_counts: Callable[[], dict[str, int]]
) -> None:
    statement = make_statement(attachments=[meta(DRAWING), meta(ESSAY)])
    body = multipart_body(statement, [part(DRAWING)])

    _refused(xapi, stored_counts, body, MULTIPART, "no matching part")


def test_attachment_without_file_url_sent_as_plain_json_is_refused(
    xapi: Lrs, make_statement: MakeStatement, stored_counts: Callable[[], dict[str, int]]
) -> None:
    body = json.dumps(make_statement(attachments=[meta(DRAWING)])).encode()

    _refused(xapi, stored_counts, body, "application/json", "no matching part")


def test_part_that_no_statement_mentions_is_refused(
    xapi: Lrs, make_statement: MakeStatement, stored_counts: Callable[[], dict[str, int]]
) -> None:
    statement = make_statement(attachments=[meta(DRAWING)])
    body = multipart_body(statement, [part(DRAWING), part(ESSAY)])

    _refused(xapi, stored_counts, body, MULTIPART, "match no attachment")


@pytest.mark.parametrize(
    "drop", ["Content-Transfer-Encoding", "X-Experience-API-Hash"], ids=["no-encoding", "no-hash"]
)
def test_part_missing_a_required_header_is_refused(
    xapi: Lrs,
    make_statement: MakeStatement,
    stored_counts: Callable[[], dict[str, int]],
    drop: str,
) -> None:
    headers, content = part(DRAWING)
    del headers[drop]
    body = multipart_body(make_statement(attachments=[meta(DRAWING)]), [(headers, content)])

    _refused(xapi, stored_counts, body, MULTIPART, drop)


def test_part_with_another_transfer_encoding_is_refused(
    xapi: Lrs, make_statement: MakeStatement, stored_counts: Callable[[], dict[str, int]]
) -> None:
    encoded = base64.b64encode(DRAWING)
    headers, _ = part(DRAWING, Content_Transfer_Encoding="base64")
    body = multipart_body(make_statement(attachments=[meta(DRAWING)]), [(headers, encoded)])

    _refused(xapi, stored_counts, body, MULTIPART, "Content-Transfer-Encoding: binary")


_JSON_PART = f"--{BOUNDARY}\r\nContent-Type: application/json\r\n\r\n{{}}\r\n"


@pytest.mark.parametrize(
    ("body", "content_type", "reason"),
    [
        pytest.param(
            b"--x\r\nContent-Type: application/json\r\n\r\n{}\r\n--x--\r\n",
            "multipart/mixed",
            "needs a boundary",
            id="no-boundary",
        ),
        pytest.param(b"no delimiter at all", MULTIPART, "does not contain", id="boundary-absent"),
        pytest.param(_JSON_PART.encode(), MULTIPART, "not closed", id="not-closed"),
        pytest.param(
            f"--{BOUNDARY}\r\nContent-Type: text/plain\r\n\r\nhi\r\n--{BOUNDARY}--\r\n".encode(),
            MULTIPART,
            "must be application/json",
            id="first-part-not-json",
        ),
    ],
)
def test_malformed_multipart_is_refused(
    xapi: Lrs,
    stored_counts: Callable[[], dict[str, int]],
    body: bytes,
    content_type: str,
    reason: str,
) -> None:
    _refused(xapi, stored_counts, body, content_type, reason)


# --- signed statements -------------------------------------------------------------------------


def _self_signed(key: rsa.RSAPrivateKey) -> str:
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "ashiato test signer")])
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
    """An RSA key and a self-signed certificate for it (base64 DER, as x5c wants)."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return key, _self_signed(key)


def signed_request(statement: dict[str, Any], jws: str) -> bytes:
    """The statement plus its signature attachment, as a multipart body."""
    signature = jws.encode("ascii")
    attachment = meta(signature, "application/octet-stream", usageType=SIGNATURE)
    body = {**statement, "attachments": [*statement.get("attachments", []), attachment]}
    return multipart_body(body, [part(signature, "application/octet-stream")])


def rs256(payload: dict[str, Any], signer: tuple[rsa.RSAPrivateKey, str], **header: Any) -> str:
    key, certificate = signer
    return jwt.encode(payload, key, algorithm="RS256", headers={"x5c": [certificate], **header})


def test_signed_statement_is_accepted_with_its_signature(
    xapi: Lrs, make_statement: MakeStatement, signer: tuple[rsa.RSAPrivateKey, str]
) -> None:
    statement = make_statement(id=new_id())
    jws = rs256(statement, signer)

    response = xapi.send("POST", signed_request(statement, jws), MULTIPART)

    assert response.status_code == 200, response.get_data(as_text=True)
    got = xapi.get(statementId=statement["id"], attachments=True)
    (_, json_body), (headers, content) = parse_multipart(got)
    assert json.loads(json_body)["attachments"][0]["usageType"] == SIGNATURE
    assert content == jws.encode("ascii")
    assert headers["content-type"] == "application/octet-stream"


def test_signed_statement_may_leave_id_and_timestamp_to_the_lrs(
    xapi: Lrs, make_statement: MakeStatement, signer: tuple[rsa.RSAPrivateKey, str]
) -> None:
    statement = make_statement(timestamp="2024-05-14T09:31:00+09:00")
    jws = rs256(statement, signer)

    response = xapi.send("POST", signed_request(statement, jws), MULTIPART)

    assert response.status_code == 200, response.get_data(as_text=True)


def test_signed_statement_whose_payload_differs_is_refused(
    xapi: Lrs,
    make_statement: MakeStatement,
    signer: tuple[rsa.RSAPrivateKey, str],
    stored_counts: Callable[[], dict[str, int]],
) -> None:
    signed = make_statement(id=new_id())
    jws = rs256(signed, signer)
    tampered = {**signed, "result": {"completion": True, "score": {"scaled": 1.0}}}

    _refused(
        xapi,
        stored_counts,
        signed_request(tampered, jws),
        MULTIPART,
        "does not match the Statement",
    )


def test_signature_whose_bytes_were_tampered_with_is_refused(
    xapi: Lrs,
    make_statement: MakeStatement,
    signer: tuple[rsa.RSAPrivateKey, str],
    stored_counts: Callable[[], dict[str, int]],
) -> None:
    statement = make_statement(id=new_id())
    header, _payload, signature = rs256(statement, signer).split(".")
    other = {**statement, "result": {"completion": False}}
    forged_payload = base64.urlsafe_b64encode(json.dumps(other).encode()).rstrip(b"=").decode()
    forged = f"{header}.{forged_payload}.{signature}"

    _refused(xapi, stored_counts, signed_request(other, forged), MULTIPART, "does not verify")


def test_signature_not_made_with_the_x5c_certificate_key_is_refused(
    xapi: Lrs,
    make_statement: MakeStatement,
    signer: tuple[rsa.RSAPrivateKey, str],
    stored_counts: Callable[[], dict[str, int]],
) -> None:
    statement = make_statement(id=new_id())
    _, certificate = signer
    other_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    jws = jwt.encode(statement, other_key, algorithm="RS256", headers={"x5c": [certificate]})

    _refused(xapi, stored_counts, signed_request(statement, jws), MULTIPART, "does not verify")


def test_signature_with_hs256_is_refused(
    xapi: Lrs, make_statement: MakeStatement, stored_counts: Callable[[], dict[str, int]]
) -> None:
    statement = make_statement(id=new_id())
    jws = jwt.encode(statement, "a-shared-secret-of-at-least-32-bytes!!", algorithm="HS256")

    _refused(
        xapi, stored_counts, signed_request(statement, jws), MULTIPART, '"alg" must be "RS256"'
    )


def test_signature_that_is_not_a_jws_is_refused(
    xapi: Lrs, make_statement: MakeStatement, stored_counts: Callable[[], dict[str, int]]
) -> None:
    statement = make_statement(id=new_id())

    _refused(xapi, stored_counts, signed_request(statement, "not.a-jws"), MULTIPART, "not a JWS")


def test_signature_attachment_must_be_octet_stream(
    xapi: Lrs,
    make_statement: MakeStatement,
    signer: tuple[rsa.RSAPrivateKey, str],
    stored_counts: Callable[[], dict[str, int]],
) -> None:
    statement = make_statement(id=new_id())
    signature = rs256(statement, signer).encode()
    attachment = meta(signature, "application/jose", usageType=SIGNATURE)
    body = multipart_body(
        {**statement, "attachments": [attachment]}, [part(signature, "application/jose")]
    )

    _refused(xapi, stored_counts, body, MULTIPART, "application/octet-stream")
