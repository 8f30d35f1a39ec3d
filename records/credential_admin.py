"""A school's LRS credentials as its admins see them: list (with last use), issue, revoke.

Every function opens the school through records.identity.administration, so a school admin
sees and changes only their own school's credentials. Creating and revoking are
records.credentials' own functions; this module adds who may, and reading them back.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from records.credentials import (
    SCOPES,
    create_credential,
    parse_scopes,
    revoke_credential,
)
from records.errors import BadRequestError, NotFoundError, RecordsError
from records.identity.accounts import AccountInfo
from records.identity.administration import School, administered_school
from records.models import Credential

MAX_LABEL = 255  # Credential.label


class CredentialInputError(BadRequestError):
    """A field of a new credential is wrong: `field` is "scopes" or "label". -> 400"""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


class AlreadyRevokedError(RecordsError):
    """The credential was revoked before; revoking is done once. (The pages answer 409.)"""


@dataclass(frozen=True, slots=True)
class CredentialRow:
    key: str
    label: str
    scopes: tuple[str, ...]
    created_at: datetime
    last_used_at: datetime | None
    revoked_at: datetime | None

    @property
    def revoked(self) -> bool:
        return self.revoked_at is not None


@dataclass(frozen=True, slots=True)
class SchoolCredentials:
    school: School
    credentials: list[CredentialRow]


@dataclass(frozen=True, slots=True)
class IssuedCredential:
    school: School
    credential: CredentialRow
    secret: str  # shown once, never stored


def known_scopes() -> list[str]:
    """The scopes the LRS knows, in a stable order for forms."""
    return sorted(SCOPES)


def school_credentials(
    session: Session, viewer: AccountInfo, school_code: str
) -> SchoolCredentials:
    """The school's credentials: ones in use first, newest first; revoked ones after them."""
    school = administered_school(session, viewer, school_code)
    rows = session.scalars(
        select(Credential)
        .where(Credential.org_id == school.id)
        .order_by(Credential.revoked_at.is_not(None), Credential.created_at.desc(), Credential.id)
    )
    return SchoolCredentials(school, [_row(row) for row in rows])


def school_credential(
    session: Session, viewer: AccountInfo, school_code: str, key: str
) -> tuple[School, CredentialRow]:
    """One credential of the school; NotFoundError when the school has no such key."""
    school = administered_school(session, viewer, school_code)
    return school, _row(_find(session, school, key))


def issue_credential(
    session: Session,
    viewer: AccountInfo,
    school_code: str,
    scopes: Iterable[str],
    label: str,
    hash_key: bytes,
) -> IssuedCredential:
    """A new credential of the school with these scopes; its secret is returned only here."""
    school = administered_school(session, viewer, school_code)
    label = label.strip()
    if len(label) > MAX_LABEL:
        raise CredentialInputError(
            "label", f"the name is too long (at most {MAX_LABEL} characters)"
        )
    try:
        chosen = parse_scopes(" ".join(scopes))
    except BadRequestError as exc:
        raise CredentialInputError("scopes", exc.message) from None
    new = create_credential(session, school.code, chosen, label, hash_key)
    return IssuedCredential(school, _row(_find(session, school, new.info.key)), new.secret)


def revoke_school_credential(
    session: Session, viewer: AccountInfo, school_code: str, key: str
) -> CredentialRow:
    """Revoke one of the school's credentials, at once; AlreadyRevokedError the second time."""
    school = administered_school(session, viewer, school_code)
    row = _find(session, school, key)
    if row.revoked_at is not None:
        raise AlreadyRevokedError(f"credential {key} was revoked already")
    revoke_credential(session, key)  # the same row: its revoked_at is set and flushed
    return _row(row)


def _find(session: Session, school: School, key: str) -> Credential:
    row = session.scalar(
        select(Credential).where(Credential.key == key, Credential.org_id == school.id)
    )
    if row is None:
        raise NotFoundError(f"{school.code} has no credential with key {key!r}")
    return row


def _row(row: Credential) -> CredentialRow:
    return CredentialRow(
        key=row.key,
        label=row.label,
        scopes=tuple(sorted(row.scopes.split())),
        created_at=_aware(row.created_at),
        last_used_at=_aware(row.last_used_at) if row.last_used_at else None,
        revoked_at=_aware(row.revoked_at) if row.revoked_at else None,
    )


def _aware(moment: datetime) -> datetime:
    # SQLite hands back naive datetimes; everything we store is UTC.
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
