"""A CLR 2.0 ClrCredential wrapping one Open Badges 3.0 AchievementCredential per achievement a
teacher marked in the pupil's portfolio, each secured with an eddsa-rdfc-2022 proof by the
exporting school's key; and the check of such a credential on import."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from records.portability.dataintegrity import ProofError, add_proof, verify_proofs
from records.portability.multibase import ed25519_from_multikey

CREDENTIALS_V2 = "https://www.w3.org/ns/credentials/v2"
OB_CONTEXT = "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json"
CLR_CONTEXT = "https://purl.imsglobal.org/spec/clr/v2p0/context-2.0.1.json"


@dataclass(frozen=True, slots=True)
class Achievement:
    """An entry a teacher recognised: the entry's statement, the recognising statement."""

    entry_statement_id: str
    recognised_statement_id: str
    title: str
    description: str
    criteria: str
    recognised_at: datetime


@dataclass(frozen=True, slots=True)
class Issuer:
    id: str  # a URL of the school
    name: str
    key: Ed25519PrivateKey
    multikey: str

    @property
    def verification_method(self) -> str:
        return f"{self.id}#{self.multikey}"

    def profile(self) -> dict[str, Any]:
        return {"id": self.id, "type": ["Profile"], "name": self.name}


def build_clr(
    issuer: Issuer,
    learner_id: str,
    learner_name: str,
    achievements: Sequence[Achievement],
    credential_id: str,
    now: datetime,
) -> dict[str, Any]:
    created = _instant(now)
    subject_identifier = [
        {
            "type": "IdentityObject",
            "hashed": False,
            "identityHash": learner_id,
            "identityType": "identifier",
        }
    ]
    credentials = [
        add_proof(
            _achievement_credential(issuer, subject_identifier, a),
            issuer.key,
            issuer.verification_method,
            created,
        )
        for a in achievements
    ]
    clr = {
        "@context": [CREDENTIALS_V2, CLR_CONTEXT, OB_CONTEXT],
        "id": f"urn:uuid:{credential_id}",
        "type": ["VerifiableCredential", "ClrCredential"],
        "issuer": issuer.profile(),
        "validFrom": created,
        "name": f"学習の記録 {learner_name}".strip(),
        "credentialSubject": {
            "type": ["ClrSubject"],
            "identifier": subject_identifier,
            "verifiableCredential": credentials,
            "achievement": [_achievement(issuer, a) for a in achievements],
        },
    }
    return add_proof(clr, issuer.key, issuer.verification_method, created)


def _achievement(issuer: Issuer, a: Achievement) -> dict[str, Any]:
    return {
        "id": f"urn:uuid:{a.entry_statement_id}",
        "type": ["Achievement"],
        "name": a.title,
        "description": a.description,
        "criteria": {"narrative": a.criteria},
        "creator": issuer.profile(),
    }


def _achievement_credential(
    issuer: Issuer, identifier: list[dict[str, Any]], a: Achievement
) -> dict[str, Any]:
    return {
        "@context": [CREDENTIALS_V2, OB_CONTEXT],
        "id": f"urn:uuid:{a.recognised_statement_id}",
        "type": ["VerifiableCredential", "AchievementCredential"],
        "issuer": issuer.profile(),
        "validFrom": _instant(a.recognised_at),
        "name": a.title,
        "credentialSubject": {
            "type": ["AchievementSubject"],
            "identifier": identifier,
            "achievement": _achievement(issuer, a),
        },
    }


def verify_clr(document: Any, signer_multikey: str) -> int:
    """Check the ClrCredential's proof and every wrapped credential's proof; all must be made
    with the package signer's key. Returns how many achievement credentials it holds."""
    if not isinstance(document, dict) or "ClrCredential" not in (document.get("type") or []):
        raise ProofError("data/credentials/clr.json is not a ClrCredential")
    key_for = _signer_only(signer_multikey)
    verify_proofs(document, key_for)
    subject = document.get("credentialSubject")
    wrapped = subject.get("verifiableCredential") if isinstance(subject, dict) else None
    if not isinstance(wrapped, list):
        raise ProofError("the ClrCredential's credentialSubject has no verifiableCredential list")
    for credential in wrapped:
        if not isinstance(credential, dict):
            raise ProofError("a wrapped credential must be a JSON object")
        verify_proofs(credential, key_for)
    return len(wrapped)


def _signer_only(signer_multikey: str) -> Callable[[str], Ed25519PublicKey]:
    key = Ed25519PublicKey.from_public_bytes(ed25519_from_multikey(signer_multikey))

    def key_for(method: str) -> Ed25519PublicKey:
        if method.rpartition("#")[2] != signer_multikey:
            raise ProofError(
                f"a credential proof names verification method {method}, which is not the key "
                "that signed the package"
            )
        return key

    return key_for


def _instant(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
