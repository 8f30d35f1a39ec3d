"""The Data Integrity code reproduces 1EdTech's published eddsa-rdfc-2022 test vectors for
Open Badges 3.0 and CLR 2.0 (tests/portability/vectors/README.md), and loads JSON-LD contexts
only from the pinned copies."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from records.portability import dataintegrity
from records.portability.dataintegrity import (
    ProofError,
    RefusedContextError,
    add_proof,
    canonical_nquads,
    local_document_loader,
    signing_input,
    verify_proofs,
)
from records.portability.multibase import ed25519_multikey

VECTORS = Path(__file__).parent / "vectors"
CONTEXTS = Path(dataintegrity.__file__).parent / "contexts"
# The key pair of the published vectors (seed = first half of the 64-byte secret key).
SECRET = "6241a409e6707bb640a0140a8a32bc3d193c33a661747284d6adfa4ed4180be4"
PUBLIC = "4bdeafde2ea8beefadd8c699b5c7e0704cf51154d52e17b20b71337ca04cc5a5"
MULTIKEY = "z6MkjZRZv3aez3r18pB1RBFJR1kwUVJ5jHt92JmQwXbd5hwi"
PUBLISHED = {
    "obv3p0": {
        "document_hash": "87f65a76d40146205e3b3e06cb0fbd153f97f9ce70372390f52566bb7f9e0773",
        "proof_hash": "d34009cea0dbc1ca941e09dc01c8c9d3e3ce3c5b853f67ee44698dcea10f5d19",
        "signature": "f7a017acf7d27983267ec362657c0fb08e955549f49dac5bf36a03c4f2c3a4f1"
        "e3738a6c5ecd7ffba7135cb9cd754e6196f4b73082ea8df8e703c8ecd4333503",
        "proof_value": "z5x9aCBYovW3CQCbKdNyhEm7ffYSw1YpEdPywQJoNbzDD2gkzQDKJ1sYKJaWvqZtkMtSbz35"
        "HcbgXVEDYHxCzgkCr",
    },
    "clrv2p0": {
        "document_hash": "768d7015ae69e0210e1c2a45194d9c1d15d7a6022e52b946574a2a27f6fa85fe",
        "proof_hash": "d34009cea0dbc1ca941e09dc01c8c9d3e3ce3c5b853f67ee44698dcea10f5d19",
        "signature": "0c220dadbcfcaa64ab8a8c5002dbe258e6c7746ca71c25e2ea3b7fbffd665684"
        "13f53b1d34f5655f3057864bd372bbf0d1e74ea2f8c72e2f4b5790f21a22b70a",
        "proof_value": "zF52sU1nfPAjcwCqtgxPNSor6SJnAzRBwZW5VNQXPt8xXCHkd39sgqj32DnMjhFCzbyHsLkh"
        "Q8HpBqQTkMgXy329",
    },
}
PINNED = {
    "credentials-v2.json": "8a9f494a89ecc51db093e90e84713e07e84d6d9204364a9b3c7868b21751236f",
    "data-integrity-v2.json": "0f77743daf5b4e8fc067fc5ba5b21044283053aa717fc6b0219843bed3b00363",
    "ob-v3p0-3.0.3.json": "ef2fa9c7846dce233cc166b43639027278be4ee44f00bb1d45c75de2dd0cd761",
    "ob-v3p0-extensions.json": "146f85aa16effd7ca1da8056eb443f53ce1eca8a34186cb062832c0a97d889c3",
    "clr-v2p0-2.0.1.json": "880f1902d4158f2f33ce06af41b90719977cd1ea337a9de2e41edb3ff5e543d6",
}


def _key() -> Ed25519PrivateKey:
    return Ed25519PrivateKey.from_private_bytes(bytes.fromhex(SECRET))


def _signed(name: str) -> dict[str, Any]:
    document: dict[str, Any] = json.loads((VECTORS / f"{name}-signed.json").read_text("utf-8"))
    return document


def _proof(document: dict[str, Any]) -> dict[str, Any]:
    proof = document["proof"]
    return dict(proof[0] if isinstance(proof, list) else proof)


def test_the_vector_key_is_the_published_multikey() -> None:
    public = _key().public_key().public_bytes_raw()
    assert public.hex() == PUBLIC
    assert ed25519_multikey(public) == MULTIKEY


@pytest.mark.parametrize("name", ["obv3p0", "clrv2p0"])
def test_canonical_forms_match_the_published_ones(name: str) -> None:
    signed = _signed(name)
    unsecured = {k: v for k, v in signed.items() if k != "proof"}
    document = canonical_nquads(unsecured)
    assert document == (VECTORS / f"{name}-document-canon.nq").read_text("utf-8")
    options = {k: v for k, v in _proof(signed).items() if k != "proofValue"}
    options["@context"] = signed["@context"]
    assert canonical_nquads(options) == (VECTORS / f"{name}-proof-canon.nq").read_text("utf-8")
    assert hashlib.sha256(document.encode()).hexdigest() == PUBLISHED[name]["document_hash"]


@pytest.mark.parametrize("name", ["obv3p0", "clrv2p0"])
def test_signing_reproduces_the_published_proof(name: str) -> None:
    signed = _signed(name)
    proof = _proof(signed)
    unsecured = {k: v for k, v in signed.items() if k != "proof"}
    data = signing_input(unsecured, proof)
    assert data.hex() == PUBLISHED[name]["proof_hash"] + PUBLISHED[name]["document_hash"]
    assert _key().sign(data).hex() == PUBLISHED[name]["signature"]
    ours = add_proof(unsecured, _key(), proof["verificationMethod"], proof["created"])
    assert ours["proof"]["proofValue"] == PUBLISHED[name]["proof_value"]
    assert ours["proof"] == proof


@pytest.mark.parametrize("name", ["obv3p0", "clrv2p0"])
def test_published_credentials_verify_and_tampering_is_caught(name: str) -> None:
    signed = _signed(name)
    verify_proofs(signed, lambda _method: _key().public_key())
    signed["name"] = signed["name"] + "!"
    with pytest.raises(ProofError, match="does not verify"):
        verify_proofs(signed, lambda _method: _key().public_key())


def test_contexts_come_only_from_the_pinned_copies() -> None:
    for name, digest in PINNED.items():
        assert hashlib.sha256((CONTEXTS / name).read_bytes()).hexdigest() == digest, name
    assert set(dataintegrity.CONTEXTS.values()) == set(PINNED)
    readme = (CONTEXTS / "README.md").read_text("utf-8")
    for name, digest in PINNED.items():
        assert name in readme
        assert digest in readme
    with pytest.raises(RefusedContextError):
        local_document_loader("https://example.org/evil-context.jsonld")


def test_an_unpinned_context_is_refused_not_fetched() -> None:
    document = {
        "@context": ["https://www.w3.org/ns/credentials/v2", "https://evil.example/ctx.json"],
        "type": ["VerifiableCredential"],
    }
    with pytest.raises(ProofError, match="not one of the pinned contexts"):
        canonical_nquads(document)
