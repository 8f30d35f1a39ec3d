"""Who may see whom. One place for the rule, checked on every request against current data.

- pupil: their own records;
- teacher: pupils of classes they teach now (both enrollments current, the class in a current
  term); access ends the day an enrollment ends;
- school admin: people with a current enrollment or membership in their school;
- board analyst: aggregates of their region only, never a person;
- guardian: the access log and consents of the pupils they are guardian of (not the portfolio);
- system admin: everyone (and, like everyone, every read is logged).
"""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import Select, and_, exists, or_, select
from sqlalchemy.orm import Session, aliased

from records.identity.accounts import AccountInfo
from records.identity.models import (
    AcademicSession,
    ClassTerm,
    Enrollment,
    Guardianship,
    OrgMembership,
    Person,
    SchoolClass,
)


def readable_people(viewer: AccountInfo, today: date) -> Select[Any]:
    """Ids of the people `viewer` may read today, as a subquery-ready select."""
    if viewer.has_role("system_admin"):
        return select(Person.id)
    clauses: list[Any] = []
    if viewer.person_id is not None and viewer.has_role("pupil", "teacher", "school_admin"):
        clauses.append(Person.id == viewer.person_id)
    if viewer.has_role("teacher") and viewer.person_id is not None:
        clauses.append(Person.id.in_(_pupils_taught_by(viewer.person_id, today)))
    admin_orgs = viewer.orgs_for("school_admin")
    if admin_orgs:
        clauses.append(Person.id.in_(_members_of(admin_orgs, today)))
    if not clauses:
        return select(Person.id).where(Person.id.is_(None))
    return select(Person.id).where(or_(*clauses))


def can_read_person(session: Session, viewer: AccountInfo, person_id: int, today: date) -> bool:
    allowed = readable_people(viewer, today).where(Person.id == person_id)
    return session.scalar(select(exists(allowed))) is True


def readable_classes(viewer: AccountInfo, today: date) -> Select[Any]:
    if viewer.has_role("system_admin"):
        return select(SchoolClass.id)
    clauses: list[Any] = []
    if viewer.has_role("teacher") and viewer.person_id is not None:
        clauses.append(SchoolClass.id.in_(_classes_taught_by(viewer.person_id, today)))
    admin_orgs = viewer.orgs_for("school_admin")
    if admin_orgs:
        clauses.append(SchoolClass.org_id.in_(admin_orgs))
    if not clauses:
        return select(SchoolClass.id).where(SchoolClass.id.is_(None))
    return select(SchoolClass.id).where(or_(*clauses))


def _current(enrollment: type[Enrollment] | Any, today: date) -> Any:
    return and_(
        enrollment.active.is_(True),
        or_(enrollment.begin_date.is_(None), enrollment.begin_date <= today),
        or_(enrollment.end_date.is_(None), enrollment.end_date >= today),
    )


def _class_is_current(today: date) -> Any:
    term = aliased(AcademicSession)
    has_terms = exists().where(ClassTerm.class_id == SchoolClass.id)
    in_current_term = exists().where(
        ClassTerm.class_id == SchoolClass.id,
        ClassTerm.session_id == term.id,
        term.start_date <= today,
        term.end_date >= today,
    )
    return and_(SchoolClass.active.is_(True), or_(~has_terms, in_current_term))


def _classes_taught_by(teacher_person_id: int, today: date) -> Select[Any]:
    teaching = aliased(Enrollment)
    return (
        select(SchoolClass.id)
        .join(teaching, teaching.class_id == SchoolClass.id)
        .where(
            teaching.person_id == teacher_person_id,
            teaching.role == "teacher",
            _current(teaching, today),
            _class_is_current(today),
        )
    )


def _pupils_taught_by(teacher_person_id: int, today: date) -> Select[Any]:
    learning = aliased(Enrollment)
    return select(learning.person_id).where(
        learning.role == "student",
        _current(learning, today),
        learning.class_id.in_(_classes_taught_by(teacher_person_id, today)),
    )


def _members_of(org_ids: set[int], today: date) -> Select[Any]:
    enrolled = aliased(Enrollment)
    by_enrollment = select(enrolled.person_id).where(
        enrolled.org_id.in_(org_ids), _current(enrolled, today)
    )
    by_membership = select(OrgMembership.person_id).where(
        OrgMembership.org_id.in_(org_ids),
        or_(OrgMembership.begin_date.is_(None), OrgMembership.begin_date <= today),
        or_(OrgMembership.end_date.is_(None), OrgMembership.end_date >= today),
    )
    return select(Person.id).where(or_(Person.id.in_(by_enrollment), Person.id.in_(by_membership)))


def school_members(org_id: int, today: date) -> Select[Any]:
    """Ids of the people with a current enrollment or membership in this organisation (whom
    its school admins may read)."""
    return _members_of({org_id}, today)


def current_enrollment(enrollment: type[Enrollment] | Any, today: date) -> Any:
    """The condition that an enrollment is current today (active, and today within its dates)."""
    return _current(enrollment, today)


def analysis_regions(viewer: AccountInfo) -> set[int] | None:
    """Organisations whose regions (each one's subtree) `viewer` may see aggregates of: None
    for a system admin (the whole nation); the organisations of board-analyst grants (a
    prefecture or a municipality); otherwise none. Aggregates only: never a person."""
    if viewer.has_role("system_admin"):
        return None
    return viewer.orgs_for("board_analyst")


def wards_of(session: Session, viewer: AccountInfo, today: date) -> set[int]:
    """The pupils this account is a guardian of today."""
    if viewer.person_id is None or not viewer.has_role("guardian"):
        return set()
    return set(
        session.scalars(
            select(Guardianship.pupil_person_id).where(
                Guardianship.guardian_person_id == viewer.person_id,
                or_(Guardianship.begin_date.is_(None), Guardianship.begin_date <= today),
                or_(Guardianship.end_date.is_(None), Guardianship.end_date >= today),
            )
        )
    )


def may_manage_privacy(session: Session, viewer: AccountInfo, person_id: int, today: date) -> bool:
    """Who may see a pupil's access log and give or revoke their consents: the pupil, a
    guardian of theirs, and (to see the log) their school's admins and system admins."""
    if viewer.person_id == person_id and viewer.has_role("pupil"):
        return True
    return person_id in wards_of(session, viewer, today)


def may_read_access_log(session: Session, viewer: AccountInfo, person_id: int, today: date) -> bool:
    if may_manage_privacy(session, viewer, person_id, today):
        return True
    if viewer.has_role("system_admin"):
        return True
    admin_orgs = viewer.orgs_for("school_admin")
    if not admin_orgs:
        return False
    members = _members_of(admin_orgs, today).where(Person.id == person_id)
    return session.scalar(select(exists(members))) is True


def administered_people(viewer: AccountInfo, today: date) -> Select[Any]:
    """Ids of the people of the schools this account administers (for the school's log)."""
    if viewer.has_role("system_admin"):
        return select(Person.id)
    admin_orgs = viewer.orgs_for("school_admin")
    if not admin_orgs:
        return select(Person.id).where(Person.id.is_(None))
    return _members_of(admin_orgs, today)
