"""Where an export goes, and the consent it needs (issue 8: consent is checked where data
leaves). The pupil's own copy and the transfer to a school follow the transfer rules; a board or
a third party (an admissions office, a learning-service provider) receives a package only under
the pupil's consent for that purpose and recipient, covering all their data, in force at the
moment it is asked for, built and downloaded. Flushes, never commits."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from records.errors import BadRequestError, ForbiddenError
from records.identity.accounts import AccountInfo
from records.identity.models import Person
from records.models import Organisation
from records.portability.models import TransferExport
from records.trust.consent import SHARING_PURPOSES, active_consent

# Why a package may go to a board or a third party: each needs the pupil's consent ("all" data).
CONSENTED_PURPOSES = ("admissions", "learning_service", "research")
BOARD_KINDS = ("nation", "prefecture", "municipality")
NEEDS_CONSENT = ("board", "third_party")


class ConsentRequiredError(ForbiddenError):
    """An export to a board or third party without the pupil's consent in force (HTTP 403)."""


@dataclass(frozen=True, slots=True)
class Recipient:
    kind: str  # self | school | board | third_party | "" (the transfer flow, not named)
    org_id: int | None
    purpose: str  # self | transfer | a consented purpose


def recipient_of(
    session: Session,
    viewer: AccountInfo,
    person: Person,
    code: str | None,
    purpose: str | None,
) -> Recipient:
    code = (code or "").strip()
    purpose = (purpose or "").strip() or None
    if not code:
        if purpose not in (None, "transfer", "self"):
            raise BadRequestError(
                f"an export for {purpose!r} must name its recipient (an organisation code)"
            )
        own = viewer.person_id == person.id
        return Recipient("self" if own else "", None, "self" if own else "transfer")
    org = None
    if len(code) <= 64 and "\x00" not in code:
        org = session.scalar(select(Organisation).where(Organisation.code == code))
    if org is None:
        raise BadRequestError(f"no organisation with code {code[:80]!r}")
    if org.kind == "school":
        if purpose not in (None, "transfer"):
            raise BadRequestError(
                f"an export to a school ({org.code}) is a transfer: purpose 'transfer' or none"
            )
        return Recipient("school", org.id, "transfer")
    if purpose not in CONSENTED_PURPOSES:
        raise BadRequestError(
            f"say why the records go to {org.name} ({org.code}): purpose must be one of "
            f"{', '.join(CONSENTED_PURPOSES)}"
        )
    return Recipient("board" if org.kind in BOARD_KINDS else "third_party", org.id, purpose)


def require_export_consent(session: Session, person_id: int, to: Recipient) -> None:
    """Where data leaves: the pupil's consent for this purpose and recipient, covering all
    their data (the package holds everything), in force at this moment."""
    if to.org_id is None:
        raise ForbiddenError("an export to a board or third party must name the organisation")
    found = active_consent(session, person_id, to.purpose, recipient_org_id=to.org_id, scope="all")
    if found is None:
        org = session.get(Organisation, to.org_id)
        whom = f"{org.name} ({org.code})" if org is not None else "this recipient"
        words = SHARING_PURPOSES[to.purpose].en if to.purpose in SHARING_PURPOSES else to.purpose
        raise ConsentRequiredError(
            f"no consent in force: the pupil has not agreed (or has taken back their agreement) "
            f"to give all their records to {whom} for {to.purpose!r} ({words}); the pupil or "
            "their guardian can agree under 'Sharing and consent'"
        )


def check_consent(session: Session, row: TransferExport) -> None:
    if row.recipient_kind in NEEDS_CONSENT:
        require_export_consent(
            session, row.person_id, Recipient(row.recipient_kind, row.recipient_org_id, row.purpose)
        )


def log_purpose(row: TransferExport, viewer: AccountInfo | None = None) -> str:
    """The access log's purpose: the pupil themselves, consented sharing, a transfer, or an
    admin handling a pupil's own copy."""
    if row.recipient_kind in NEEDS_CONSENT:
        return "consented"  # the data leaves under the pupil's consent, whoever carries it
    if viewer is not None and viewer.person_id == row.person_id:
        return "self"
    if row.recipient_kind == "self":
        return "self" if viewer is None else "administration"
    return "transfer"
