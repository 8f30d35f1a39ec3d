"""The one door to a pupil's portfolio: checks who may look, and records that they looked.

Every page and download that shows a pupil's data goes through `open_portfolio` (or
`record_seen` for pages that list several pupils), so the access log is complete by
construction; the trust issue builds the pupil's own log viewer on these rows.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy.orm import Session

from records.audit import Accessor, record_access, record_accesses
from records.errors import ForbiddenError
from records.identity.access import can_read_person
from records.identity.accounts import AccountInfo
from records.identity.directory import purpose_of
from records.identity.models import Person
from records.identity.people import find_person, person_agent_keys


@dataclass(frozen=True, slots=True)
class Pupil:
    id: int
    public_id: str
    name: str
    kana: str
    grade: str | None
    agent_keys: tuple[str, ...]  # index keys of every identifier linked to the pupil


def open_portfolio(
    session: Session, viewer: AccountInfo, public_id: str, today: date, resource: str
) -> Pupil:
    """The pupil, if `viewer` may see them today; the access is logged in this transaction."""
    person = find_person(session, public_id)
    if not can_read_person(session, viewer, person.id, today):
        raise ForbiddenError(
            "you may not see this portfolio (only your own, pupils you teach now, "
            "or your school's pupils)"
        )
    record_seen(session, viewer, person.id, resource)
    return _pupil(session, person)


def own_portfolio(session: Session, viewer: AccountInfo, today: date, resource: str) -> Pupil:
    if viewer.person_id is None:
        raise ForbiddenError("this account has no portfolio of its own")
    person = session.get(Person, viewer.person_id)
    if person is None:
        raise ForbiddenError("this account has no portfolio of its own")
    return open_portfolio(session, viewer, person.public_id, today, resource)


def record_seen_many(
    session: Session, viewer: AccountInfo, person_ids: list[int], resource: str
) -> None:
    accessor = Accessor(account_id=viewer.id)
    record_accesses(
        session, accessor, [(pid, resource, purpose_of(viewer, pid), 1) for pid in person_ids]
    )


def record_seen(
    session: Session, viewer: AccountInfo, person_id: int, resource: str, count: int = 1
) -> None:
    record_access(
        session,
        Accessor(account_id=viewer.id),
        person_id,
        resource,
        purpose_of(viewer, person_id),
        count=count,
    )


def _pupil(session: Session, person: Person) -> Pupil:
    name = " ".join(p for p in (person.family_name, person.given_name) if p)
    kana = " ".join(p for p in (person.kana_family_name, person.kana_given_name) if p)
    return Pupil(
        id=person.id,
        public_id=person.public_id,
        name=name or person.public_id,
        kana=kana,
        grade=person.grade,
        agent_keys=tuple(person_agent_keys(session, person.id)),
    )
