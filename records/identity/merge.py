"""Merging a duplicate person into another, and undoing it. Admin operations, recorded.

A merge moves the duplicate's identifiers, enrollments, memberships and accounts to the
survivor and retires the duplicate; the ids of every moved row are kept on the PersonMerge row,
so undoing moves exactly those rows back. Statements are never touched: they follow the links.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from records.errors import BadRequestError, ForbiddenError, NotFoundError
from records.identity.access import can_read_person
from records.identity.accounts import AccountInfo
from records.identity.models import (
    Account,
    ActorLink,
    Enrollment,
    OrgMembership,
    Person,
    PersonMerge,
)
from records.identity.people import find_person

_MOVABLE: dict[str, Any] = {
    "actor_links": ActorLink,
    "enrollments": Enrollment,
    "org_memberships": OrgMembership,
    "accounts": Account,
}


def merge_people(
    session: Session, viewer: AccountInfo, survivor_id: str, duplicate_id: str, today: date
) -> PersonMerge:
    survivor = find_person(session, survivor_id)
    duplicate = find_person(session, duplicate_id)
    _authorise(session, viewer, [survivor, duplicate], today)
    if survivor.id == duplicate.id:
        raise BadRequestError("a person cannot be merged into themself")
    if duplicate.merged_into_id is not None or survivor.merged_into_id is not None:
        raise BadRequestError("one of these people was already merged; undo that merge first")
    moved: dict[str, list[int]] = {}
    for name, model in _MOVABLE.items():
        ids = list(session.scalars(select(model.id).where(model.person_id == duplicate.id)))
        if ids:
            session.execute(update(model).where(model.id.in_(ids)).values(person_id=survivor.id))
        moved[name] = ids
    duplicate.merged_into_id = survivor.id
    duplicate.active = False
    record = PersonMerge(
        survivor_id=survivor.id,
        merged_id=duplicate.id,
        moved=moved,
        by_account_id=viewer.id,
        at=datetime.now(UTC),
    )
    session.add(record)
    session.flush()
    return record


def undo_merge(session: Session, viewer: AccountInfo, merge_id: int, today: date) -> PersonMerge:
    record = session.get(PersonMerge, merge_id)
    if record is None:
        raise NotFoundError(f"no merge with id {merge_id}")
    if record.undone_at is not None:
        raise BadRequestError("this merge was already undone")
    survivor = session.get(Person, record.survivor_id)
    duplicate = session.get(Person, record.merged_id)
    if survivor is None or duplicate is None:  # people are never deleted
        raise NotFoundError("a person of this merge no longer exists")
    _authorise(session, viewer, [survivor], today)
    for name, model in _MOVABLE.items():
        ids = [int(i) for i in record.moved.get(name, [])]
        if ids:
            session.execute(
                update(model)
                .where(model.id.in_(ids), model.person_id == survivor.id)
                .values(person_id=duplicate.id)
            )
    duplicate.merged_into_id = None
    duplicate.active = True
    record.undone_at = datetime.now(UTC)
    record.undone_by_account_id = viewer.id
    session.flush()
    return record


def _authorise(session: Session, viewer: AccountInfo, people: list[Person], today: date) -> None:
    if not viewer.has_role("school_admin", "system_admin"):
        raise ForbiddenError("only a school admin or a system admin may merge people")
    for person in people:
        if not can_read_person(session, viewer, person.id, today):
            raise ForbiddenError(f"person {person.public_id} is not in your school")
