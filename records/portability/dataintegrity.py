"""W3C Data Integrity proofs with the `eddsa-rdfc-2022` cryptosuite, as Open Badges 3.0 and
CLR 2.0 use them: RDF Dataset Canonicalization (URDNA2015, which RDFC-1.0 standardised) by pyld,
SHA-256, Ed25519 by `cryptography`, the signature as a base58btc multibase `proofValue`.

JSON-LD contexts come only from the pinned copies in `contexts/` (see its README): the document
loader refuses every other URL, so canonicalising never reaches the network.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Mapping
from functools import cache
from importlib import resources
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from pyld import jsonld  # type: ignore[import-untyped]  # pyld ships no type information

from records.errors import BadRequestError
from records.portability.multibase import multibase_decode, multibase_encode

CRYPTOSUITE = "eddsa-rdfc-2022"
PROOF_TYPE = "DataIntegrityProof"

# Context URL -> pinned file in records/portability/contexts.
CONTEXTS: dict[str, str] = {
    "https://www.w3.org/ns/credentials/v2": "credentials-v2.json",
    "https://w3id.org/security/data-integrity/v2": "data-integrity-v2.json",
    "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json": "ob-v3p0-3.0.3.json",
    "https://purl.imsglobal.org/spec/ob/v3p0/extensions.json": "ob-v3p0-extensions.json",
    "https://purl.imsglobal.org/spec/clr/v2p0/context-2.0.1.json": "clr-v2p0-2.0.1.json",
}


class ProofError(BadRequestError):
    """A Data Integrity proof is missing, malformed or does not verify."""


class RefusedContextError(ProofError):
    """A JSON-LD context outside the pinned set was asked for."""


@cache
def _context_document(url: str) -> Any:
    name = CONTEXTS[url]
    folder = resources.files("records.portability").joinpath("contexts")
    text = folder.joinpath(name).read_text("utf-8")
    return json.loads(text)


def local_document_loader(url: str, _options: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """pyld document loader over the pinned contexts; anything else is refused, offline."""
    if url not in CONTEXTS:
        raise RefusedContextError(
            f"JSON-LD context {url} is not one of the pinned contexts; "
            "only locally pinned contexts are loaded"
        )
    return {"contextUrl": None, "documentUrl": url, "document": _context_document(url)}


def canonical_nquads(document: Mapping[str, Any]) -> str:
    """The RDF canonical form (N-Quads) of a JSON-LD document."""
    try:
        text: str = jsonld.normalize(
            dict(document),
            {
                "algorithm": "URDNA2015",
                "format": "application/n-quads",
                "documentLoader": local_document_loader,
                "safe": True,
            },
        )
    except jsonld.JsonLdError as exc:
        raise ProofError(f"the credential is not valid JSON-LD: {_root_cause(exc)}") from None
    return text


def _root_cause(exc: BaseException) -> str:
    while True:
        nested = getattr(exc, "cause", None) or exc.__cause__
        if not isinstance(nested, BaseException):
            break
        exc = nested
    return getattr(exc, "message", None) or str(exc).splitlines()[0]


def signing_input(document: Mapping[str, Any], proof_config: Mapping[str, Any]) -> bytes:
    """hash(canonical proof options) || hash(canonical document without proof)."""
    unsecured = {k: v for k, v in document.items() if k != "proof"}
    options = {k: v for k, v in proof_config.items() if k != "proofValue"}
    options["@context"] = document.get("@context")
    proof_hash = hashlib.sha256(canonical_nquads(options).encode("utf-8")).digest()
    document_hash = hashlib.sha256(canonical_nquads(unsecured).encode("utf-8")).digest()
    return proof_hash + document_hash


def add_proof(
    document: Mapping[str, Any],
    key: Ed25519PrivateKey,
    verification_method: str,
    created: str,
    purpose: str = "assertionMethod",
) -> dict[str, Any]:
    """The document with an eddsa-rdfc-2022 DataIntegrityProof added."""
    proof: dict[str, Any] = {
        "type": PROOF_TYPE,
        "created": created,
        "verificationMethod": verification_method,
        "cryptosuite": CRYPTOSUITE,
        "proofPurpose": purpose,
    }
    proof["proofValue"] = multibase_encode(key.sign(signing_input(document, proof)))
    return {**document, "proof": proof}


def verify_proofs(
    document: Mapping[str, Any], public_key_for: Callable[[str], Ed25519PublicKey]
) -> None:
    """Check every proof of the document; `public_key_for(verificationMethod)` decides which
    keys are acceptable (it raises ProofError for one it does not accept)."""
    proofs = document.get("proof")
    if isinstance(proofs, Mapping):
        proofs = [proofs]
    if not isinstance(proofs, list) or not proofs:
        raise ProofError(f"credential {document.get('id', '')} has no proof")
    for proof in proofs:
        if not isinstance(proof, Mapping):
            raise ProofError("a proof must be a JSON object")
        if proof.get("type") != PROOF_TYPE or proof.get("cryptosuite") != CRYPTOSUITE:
            raise ProofError(
                f"only {PROOF_TYPE} proofs with cryptosuite {CRYPTOSUITE} are accepted"
            )
        method = proof.get("verificationMethod")
        value = proof.get("proofValue")
        if not isinstance(method, str) or not isinstance(value, str):
            raise ProofError("a proof needs a verificationMethod and a proofValue")
        key = public_key_for(method)
        try:
            key.verify(multibase_decode(value), signing_input(document, proof))
        except (InvalidSignature, BadRequestError):
            raise ProofError(
                f"the proof of credential {document.get('id', '')} does not verify: "
                "its content changed after signing, or it was signed by another key"
            ) from None
