"""Reading people and classes on behalf of a signed-in account: access rules applied, every
read of a person's data recorded in the access log in the same transaction."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from records.audit import Accessor, record_access, record_accesses
from records.errors import BadRequestError, ForbiddenError, NotFoundError
from records.identity.access import (
    can_read_person,
    current_enrollment,
    readable_classes,
    readable_people,
    school_members,
)
from records.identity.accounts import AccountInfo
from records.identity.administration import School, administered_school
from records.identity.models import Enrollment, Person, SchoolClass
from records.identity.people import PERSON_KINDS, find_person, person_agent_keys
from records.query import Reader, StatementPage, StatementQuery, find_statements


def purpose_of(viewer: AccountInfo, person_id: int) -> str:
    """Why this viewer reads this person's data, for the access log."""
    if viewer.person_id == person_id:
        return "self"
    if viewer.has_role("teacher"):
        return "teaching"
    if viewer.has_role("school_admin"):
        return "administration"
    return "support"


def list_people(
    session: Session,
    viewer: AccountInfo,
    today: date,
    *,
    class_id: int | None = None,
    after_id: int = 0,
    limit: int = 50,
) -> list[Person]:
    stmt = select(Person).where(Person.id.in_(readable_people(viewer, today)), Person.id > after_id)
    if class_id is not None:
        if not _class_readable(session, viewer, class_id, today):
            raise ForbiddenError(f"you may not see class {class_id}")
        stmt = stmt.where(
            Person.id.in_(
                select(Enrollment.person_id).where(
                    Enrollment.class_id == class_id, Enrollment.active.is_(True)
                )
            )
        )
    people = list(session.scalars(stmt.order_by(Person.id).limit(limit)))
    accessor = Accessor(account_id=viewer.id)
    record_accesses(
        session,
        accessor,
        [(person.id, "people.list", purpose_of(viewer, person.id), 1) for person in people],
    )
    return people


def read_person(session: Session, viewer: AccountInfo, public_id: str, today: date) -> Person:
    person = find_person(session, public_id)
    if not can_read_person(session, viewer, person.id, today):
        raise ForbiddenError(
            "you may not see this person's records (only your own, pupils you teach now, or "
            "your school's people)"
        )
    record_access(
        session, Accessor(account_id=viewer.id), person.id, "person", purpose_of(viewer, person.id)
    )
    return person


def person_statements(
    session: Session,
    viewer: AccountInfo,
    public_id: str,
    today: date,
    query: StatementQuery,
    page_size: int,
) -> StatementPage:
    """All statements of a person (every linked identifier, every organisation)."""
    person = find_person(session, public_id)
    if not can_read_person(session, viewer, person.id, today):
        raise ForbiddenError("you may not see this person's records")
    keys = tuple(person_agent_keys(session, person.id))
    if not keys:  # never widen to "no filter": a person without identifiers has no statements
        raise NotFoundError(f"person {public_id!r} has no identifiers yet")
    page = find_statements(session, Reader(org_id=None), _with_keys(query, keys), page_size)
    record_access(
        session,
        Accessor(account_id=viewer.id),
        person.id,
        "statements",
        purpose_of(viewer, person.id),
        count=len(page.texts),
    )
    return page


def list_classes(session: Session, viewer: AccountInfo, today: date) -> list[SchoolClass]:
    return list(
        session.scalars(
            select(SchoolClass)
            .where(SchoolClass.id.in_(readable_classes(viewer, today)))
            .order_by(SchoolClass.org_id, SchoolClass.title)
        )
    )


def _class_readable(session: Session, viewer: AccountInfo, class_id: int, today: date) -> bool:
    found = session.scalar(
        select(SchoolClass.id).where(
            SchoolClass.id == class_id, SchoolClass.id.in_(readable_classes(viewer, today))
        )
    )
    return found is not None


def _with_keys(query: StatementQuery, keys: tuple[str, ...]) -> StatementQuery:
    return replace(query, person_keys=keys, agent_key=None)


# --- a school's people and classes, for its admins ----------------------------------------------


@dataclass(frozen=True, slots=True)
class SchoolPeople:
    school: School
    people: list[Person]
    class_title: str  # of the class the list is limited to, or ""


@dataclass(frozen=True, slots=True)
class ClassSize:
    id: int
    title: str
    code: str
    class_type: str
    grades: str
    active: bool
    pupils: int  # current student enrollments
    teachers: int  # current teacher enrollments


@dataclass(frozen=True, slots=True)
class SchoolClasses:
    school: School
    classes: list[ClassSize]


def list_school_people(
    session: Session,
    viewer: AccountInfo,
    school_code: str,
    today: date,
    *,
    kind: str | None = None,
    class_id: int | None = None,
    after_id: int = 0,
    limit: int = 50,
) -> SchoolPeople:
    """The school's current people (enrolled or members today) that `viewer` may read, by id,
    `limit` at a time after `after_id`; optionally one kind, or one class of the school. Every
    person listed is recorded in the access log."""
    school = administered_school(session, viewer, school_code)
    if kind is not None and kind not in PERSON_KINDS:
        raise BadRequestError(f"kind {kind!r} is not one of {', '.join(sorted(PERSON_KINDS))}")
    stmt = select(Person).where(
        Person.id.in_(readable_people(viewer, today)),
        Person.id.in_(school_members(school.id, today)),
        Person.id > after_id,
    )
    if kind is not None:
        stmt = stmt.where(Person.kind == kind)
    class_title = ""
    if class_id is not None:
        klass = session.get(SchoolClass, class_id)
        if klass is None or klass.org_id != school.id:
            raise NotFoundError(f"{school.code} has no class {class_id}")
        class_title = klass.title
        stmt = stmt.where(
            Person.id.in_(
                select(Enrollment.person_id).where(
                    Enrollment.class_id == class_id, current_enrollment(Enrollment, today)
                )
            )
        )
    people = list(session.scalars(stmt.order_by(Person.id).limit(limit)))
    accessor = Accessor(account_id=viewer.id)
    record_accesses(
        session,
        accessor,
        [(person.id, "people.list", purpose_of(viewer, person.id), 1) for person in people],
    )
    return SchoolPeople(school, people, class_title)


def list_school_classes(
    session: Session, viewer: AccountInfo, school_code: str, today: date
) -> SchoolClasses:
    """The school's classes with how many pupils and teachers each has today (counts only: no
    person's data is read)."""
    school = administered_school(session, viewer, school_code)
    current = current_enrollment(Enrollment, today)
    pupils = func.count(Enrollment.id).filter(Enrollment.role == "student", current)
    teachers = func.count(Enrollment.id).filter(Enrollment.role == "teacher", current)
    rows = session.execute(
        select(SchoolClass, pupils, teachers)
        .outerjoin(Enrollment, Enrollment.class_id == SchoolClass.id)
        .where(
            SchoolClass.org_id == school.id,
            SchoolClass.id.in_(readable_classes(viewer, today)),
        )
        .group_by(SchoolClass.id)
        .order_by(SchoolClass.active.desc(), SchoolClass.title, SchoolClass.id)
    )
    return SchoolClasses(
        school,
        [
            ClassSize(
                klass.id,
                klass.title,
                klass.class_code,
                klass.class_type,
                klass.grades,
                klass.active,
                int(n_pupils or 0),
                int(n_teachers or 0),
            )
            for klass, n_pupils, n_teachers in rows
        ],
    )
