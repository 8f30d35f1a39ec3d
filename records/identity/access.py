"""Who may see whom. One place for the rule, checked on every request against current data.

- pupil: their own records;
- teacher: pupils of classes they teach now (both enrollments current, the class in a current
  term); access ends the day an enrollment ends;
- school admin: people with a current enrollment or membership in their school;
- board analyst: aggregates of their region only, never a person;
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
