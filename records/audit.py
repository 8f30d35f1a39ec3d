"""The one place that records access to a person's data (the access log).

Every code path that reads, exports or changes a person's personal data calls `record_access`
in the same transaction, so nothing is read without a trace. The trust issue adds the hash chain
and the pupil's own view of the log on top of these rows.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy.orm import Session

from records.errors import BadRequestError
from records.identity.models import AccessLogEntry

PURPOSES = frozenset(
    {"self", "teaching", "administration", "transfer", "analytics", "support", "legal"}
)


@dataclass(frozen=True, slots=True)
class Accessor:
    """Who is reading: a signed-in account or an LRS credential, and their organisation."""

    account_id: int | None = None
    credential_id: int | None = None
    org_id: int | None = None


def record_access(
    session: Session,
    accessor: Accessor,
    subject_person_id: int,
    resource: str,
    purpose: str,
    count: int = 1,
) -> None:
    if purpose not in PURPOSES:
        raise BadRequestError(f"unknown purpose {purpose!r}")
    session.add(
        AccessLogEntry(
            at=datetime.now(UTC),
            subject_person_id=subject_person_id,
            actor_account_id=accessor.account_id,
            actor_credential_id=accessor.credential_id,
            actor_org_id=accessor.org_id,
            resource=resource,
            count=count,
            purpose=purpose,
        )
    )
