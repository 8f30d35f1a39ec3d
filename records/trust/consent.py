"""The consent ledger ("information bank" style): a pupil, or their guardian, consents to share
part of the pupil's data with a recipient for a purpose, and may revoke it at any time. Every
change gives a signed receipt the pupil can download. Data leaving the school checks
`require_consent` at that moment, so a revocation takes effect at once."""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

import orjson
from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from records.audit import Accessor, audit_key, record_access
from records.errors import BadRequestError, ForbiddenError, NotFoundError
from records.identity.access import may_manage_privacy
from records.identity.accounts import AccountInfo
from records.identity.models import Person
from records.identity.people import find_person
from records.models import Organisation
from records.portfolio.vocabulary import Words
from records.trust.models import Consent, ConsentReceipt

# Why data may leave the school, in words for the pupil.
SHARING_PURPOSES: dict[str, Words] = {
    "transfer": Words("転校先の学校に記録をわたす", "give my records to a new school"),
    "admissions": Words("進学先に学びの記録を見せる", "show my learning to a school I apply to"),
    "learning_service": Words(
        "学習サービスの会社が記録を使う", "let a learning service company use my records"
    ),
    "research": Words("研究に記録を使う", "use my records for research"),
    "portfolio_share": Words("ポートフォリオの一部を見せる", "show part of my portfolio"),
}
RECIPIENT_KINDS: dict[str, Words] = {
    "school": Words("学校", "a school"),
    "board": Words("教育委員会", "an education board"),
    "third_party": Words("学校の外の人や会社", "someone outside school"),
}
SCOPES: dict[str, Words] = {
    "portfolio": Words("ポートフォリオ（自分で書いた記録）", "my portfolio (my own entries)"),
    "statements": Words("学習の記録すべて", "all my learning records"),
    "all": Words("名前などをふくむ、すべて", "everything, with my name and details"),
}


@dataclass(frozen=True, slots=True)
class ConsentRequest:
    purpose: str
    recipient_kind: str
    scope: str
    recipient_org_code: str | None = None
    recipient_name: str = ""

    def problems(self) -> list[str]:
        found = []
        if self.purpose not in SHARING_PURPOSES:
            found.append(f"unknown purpose {self.purpose!r}")
        if self.recipient_kind not in RECIPIENT_KINDS:
            found.append(f"unknown kind of recipient {self.recipient_kind!r}")
        if self.scope not in SCOPES:
            found.append(f"unknown scope {self.scope!r}")
        if not self.recipient_org_code and not self.recipient_name.strip():
            found.append("say who receives the data (a school code or a name)")
        if len(self.recipient_name) > 255:
            found.append("the recipient's name is longer than 255 characters")
        return found


def give_consent(
    session: Session,
    viewer: AccountInfo,
    pupil_public_id: str,
    request: ConsentRequest,
    today: date,
) -> tuple[Consent, ConsentReceipt]:
    pupil = _pupil_for(session, viewer, pupil_public_id, today)
    problems = request.problems()
    if problems:
        raise BadRequestError("; ".join(problems))
    org_id = None
    if request.recipient_org_code:
        org = session.scalar(
            select(Organisation).where(Organisation.code == request.recipient_org_code.strip())
        )
        if org is None:
            raise BadRequestError(f"no organisation with code {request.recipient_org_code!r}")
        org_id = org.id
    consent = Consent(
        person_id=pupil.id,
        purpose=request.purpose,
        recipient_kind=request.recipient_kind,
        recipient_org_id=org_id,
        recipient_name=request.recipient_name.strip(),
        scope=request.scope,
        given_by_account_id=viewer.id,
        given_at=datetime.now(UTC),
    )
    session.add(consent)
    session.flush()
    receipt = _receipt(session, consent, "given", viewer)
    _log(session, viewer, pupil.id)
    return consent, receipt


def revoke_consent(
    session: Session, viewer: AccountInfo, consent_id: int, today: date
) -> ConsentReceipt:
    consent = session.get(Consent, consent_id)
    if consent is None:
        raise NotFoundError(f"no consent {consent_id}")
    pupil = session.get(Person, consent.person_id)
    assert pupil is not None  # noqa: S101 - the foreign key holds
    _pupil_for(session, viewer, pupil.public_id, today)
    if consent.revoked_at is not None:
        raise BadRequestError("this consent was already revoked")
    consent.revoked_at = datetime.now(UTC)
    consent.revoked_by_account_id = viewer.id
    receipt = _receipt(session, consent, "revoked", viewer)
    _log(session, viewer, pupil.id)
    return receipt


def consents_of(
    session: Session, viewer: AccountInfo, pupil_public_id: str, today: date
) -> list[Consent]:
    pupil = _pupil_for(session, viewer, pupil_public_id, today)
    _log(session, viewer, pupil.id)
    return list(
        session.scalars(
            select(Consent).where(Consent.person_id == pupil.id).order_by(Consent.id.desc())
        )
    )


def receipt_of(
    session: Session, viewer: AccountInfo, receipt_id: int, today: date
) -> ConsentReceipt:
    receipt = session.get(ConsentReceipt, receipt_id)
    consent = session.get(Consent, receipt.consent_id) if receipt else None
    pupil = session.get(Person, consent.person_id) if consent else None
    if receipt is None or pupil is None:
        raise NotFoundError(f"no receipt {receipt_id}")
    _pupil_for(session, viewer, pupil.public_id, today)
    _log(session, viewer, pupil.id)
    return receipt


def active_consent(
    session: Session,
    person_id: int,
    purpose: str,
    *,
    recipient_org_id: int | None = None,
    scope: str | None = None,
) -> Consent | None:
    """The consent in force now for this purpose (and recipient organisation), if any."""
    stmt = select(Consent).where(
        Consent.person_id == person_id,
        Consent.purpose == purpose,
        Consent.revoked_at.is_(None),
    )
    if recipient_org_id is not None:
        stmt = stmt.where(Consent.recipient_org_id == recipient_org_id)
    if scope is not None:
        stmt = stmt.where(or_(Consent.scope == scope, Consent.scope == "all"))
    return session.scalars(stmt.order_by(Consent.id.desc()).limit(1)).first()


def require_consent(
    session: Session,
    person_id: int,
    purpose: str,
    *,
    recipient_org_id: int | None = None,
    scope: str | None = None,
) -> Consent:
    """Where data leaves: refuse (403, with the reason) without a consent in force now."""
    found = active_consent(
        session, person_id, purpose, recipient_org_id=recipient_org_id, scope=scope
    )
    if found is None:
        raise ForbiddenError(
            f"the pupil has not consented to {purpose!r} for this recipient (or revoked it); "
            "ask the pupil or their guardian to give consent first"
        )
    return found


def receipt_document(receipt: ConsentReceipt) -> dict[str, Any]:
    """What the pupil downloads: the change and its signature (HMAC-SHA256, hex)."""
    return {**receipt.body, "signature": {"alg": "HS256", "value": receipt.signature}}


def receipt_is_genuine(session: Session, document: dict[str, Any]) -> bool:
    body = {k: v for k, v in document.items() if k != "signature"}
    signature = document.get("signature", {}).get("value", "")
    return hmac.compare_digest(_sign(audit_key(session), body), str(signature))


def _receipt(
    session: Session, consent: Consent, change: str, viewer: AccountInfo
) -> ConsentReceipt:
    at = datetime.now(UTC)
    body = {
        "type": "AshiatoConsentReceipt",
        "consent": consent.id,
        "change": change,
        "at": at.isoformat(),
        "pupil": _public_id(session, consent.person_id),
        "purpose": consent.purpose,
        "recipient": {
            "kind": consent.recipient_kind,
            "organisation": _org_code(session, consent.recipient_org_id),
            "name": consent.recipient_name,
        },
        "scope": consent.scope,
        "by_account": viewer.id,
        "given_at": consent.given_at.isoformat(),
        "revoked_at": consent.revoked_at.isoformat() if consent.revoked_at else None,
    }
    receipt = ConsentReceipt(
        consent_id=consent.id,
        change=change,
        at=at,
        body=body,
        signature=_sign(audit_key(session), body),
    )
    session.add(receipt)
    session.flush()
    return receipt


def _sign(key: bytes, body: dict[str, Any]) -> str:
    canonical = orjson.dumps(body, option=orjson.OPT_SORT_KEYS)
    return hmac.new(key, b"consent-receipt\x1f" + canonical, hashlib.sha256).hexdigest()


def _pupil_for(session: Session, viewer: AccountInfo, public_id: str, today: date) -> Person:
    pupil = find_person(session, public_id)
    if not may_manage_privacy(session, viewer, pupil.id, today):
        raise ForbiddenError("only the pupil or their guardian manage the pupil's consents")
    return pupil


def _log(session: Session, viewer: AccountInfo, person_id: int) -> None:
    purpose = "self" if viewer.person_id == person_id else "support"
    record_access(session, Accessor(account_id=viewer.id), person_id, "consent", purpose)


def _public_id(session: Session, person_id: int) -> str:
    person = session.get(Person, person_id)
    return person.public_id if person else ""


def _org_code(session: Session, org_id: int | None) -> str | None:
    if org_id is None:
        return None
    org = session.get(Organisation, org_id)
    return org.code if org else None
