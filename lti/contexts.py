"""Courses (LTI contexts) Ashiato was launched from, with their NRPS and AGS endpoints as the
latest launch sent them, so members can be synced and scores sent later. Flushes only.

A course is linked to an Ashiato class of the same school when its context id is the class's
OneRoster sourcedId (LMSs rostered from the same OneRoster data), or, for one teacher, when that
teacher has opened Ashiato from the course as an instructor (their launch statements are
grouped by course). Only a teacher of the class (or its school's admins, for roster links) may
use the link.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import exists, select
from sqlalchemy.orm import Session, aliased

from lti import claims as c
from lti.errors import CourseNotLinkedError, RegistrationError
from lti.launch import Launch
from lti.models import LtiContext, LtiPlatform
from lti.record import LAUNCHED, course_activity_id
from records.identity.models import Person, SchoolClass
from records.identity.people import own_agent
from records.keys import index_key
from records.models import StatementIndex, StoredStatement
from records.xapi import agent_key


@dataclass(frozen=True, slots=True)
class LinkedCourse:
    """An LMS course linked to a class, as the class page shows it."""

    id: int  # the LtiContext row
    title: str
    platform: str
    linked_by: str  # roster (same sourcedId) | launch (this teacher opened Ashiato from it)
    has_members_service: bool
    has_grades_service: bool


def remember_context(session: Session, launch: Launch, now: datetime) -> LtiContext | None:
    if launch.context_id is None:
        return None
    row = session.scalar(
        select(LtiContext).where(
            LtiContext.platform_id == launch.registration.id,
            LtiContext.deployment_id == launch.deployment.deployment_id,
            LtiContext.context_id == launch.context_id,
        )
    )
    if row is None:
        row = LtiContext(
            platform_id=launch.registration.id,
            deployment_id=launch.deployment.deployment_id,
            context_id=launch.context_id,
            org_id=launch.deployment.org_id,
        )
        session.add(row)
    row.title = launch.context_title or row.title or launch.context_id
    row.org_id = launch.deployment.org_id
    row.memberships_url = launch.memberships_url or row.memberships_url
    row.lineitems_url = launch.lineitems_url or row.lineitems_url
    row.updated_at = now
    session.flush()
    return row


def contexts_of(session: Session, org_ids: Iterable[int]) -> list[LtiContext]:
    return list(
        session.scalars(
            select(LtiContext)
            .where(LtiContext.org_id.in_(list(org_ids)))
            .order_by(LtiContext.title, LtiContext.id)
        )
    )


def get_context(session: Session, context_row_id: int) -> LtiContext:
    row = session.get(LtiContext, context_row_id)
    if row is None:
        raise RegistrationError(f"no LTI course {context_row_id}")
    return row


def roster_class(session: Session, org_id: int, context_id: str | None) -> SchoolClass | None:
    """The class of the school whose OneRoster sourcedId the course's context id is, if any."""
    if not context_id:
        return None
    return session.scalar(
        select(SchoolClass).where(
            SchoolClass.org_id == org_id,
            SchoolClass.sourced_id == context_id,
            SchoolClass.active.is_(True),
        )
    )


def courses_for_class(
    session: Session, klass: SchoolClass, person: Person | None, service_url: str
) -> list[LinkedCourse]:
    """The LMS courses linked to the class (see the module's docstring), for `person`."""
    rows: list[tuple[LtiContext, LtiPlatform]] = [
        (row, platform)
        for row, platform in session.execute(
            select(LtiContext, LtiPlatform)
            .join(LtiPlatform, LtiPlatform.id == LtiContext.platform_id)
            .where(LtiContext.org_id == klass.org_id, LtiPlatform.active.is_(True))
            .order_by(LtiContext.title, LtiContext.id)
        )
    ]
    opened = _opened_as_instructor(session, person, rows, klass.org_id, service_url)
    found = []
    for row, platform in rows:
        if row.context_id == klass.sourced_id:
            linked_by = "roster"
        elif row.id in opened:
            linked_by = "launch"
        else:
            continue
        found.append(
            LinkedCourse(
                id=row.id,
                title=row.title or row.context_id,
                platform=platform.title or platform.issuer,
                linked_by=linked_by,
                has_members_service=bool(row.memberships_url),
                has_grades_service=bool(row.lineitems_url),
            )
        )
    return found


def course_for_class(
    session: Session, klass: SchoolClass, course_id: int, person: Person | None, service_url: str
) -> LtiContext:
    """The course, if it is linked to the class for `person`; CourseNotLinkedError otherwise."""
    linked = {course.id for course in courses_for_class(session, klass, person, service_url)}
    row = session.get(LtiContext, course_id)
    if row is None or course_id not in linked:
        raise CourseNotLinkedError("this LMS course is not linked to this class")
    return row


def _opened_as_instructor(
    session: Session,
    person: Person | None,
    rows: Sequence[tuple[LtiContext, LtiPlatform]],
    org_id: int,
    service_url: str,
) -> set[int]:
    """The courses (LtiContext ids) the person has launched Ashiato from with an instructor
    role: one query over the statement index (launch statements are grouped by course)."""
    if person is None or not rows:
        return set()
    by_key = {
        index_key(
            course_activity_id(platform.issuer, row.deployment_id, row.context_id, service_url)
        ): row.id
        for row, platform in rows
    }
    actor = agent_key(own_agent(person.public_id, service_url))
    if actor is None:  # pragma: no cover - an account agent always has a key
        return set()
    course, by_actor, verb = (aliased(StatementIndex) for _ in range(3))
    launches = session.execute(
        select(course.key, StoredStatement.full)
        .join(StoredStatement, StoredStatement.seq == course.seq)
        .where(
            course.kind == "C",
            course.key.in_(list(by_key)),
            course.org_id == org_id,
            StoredStatement.voided.is_(False),
            exists().where(
                by_actor.seq == course.seq,
                by_actor.kind == "a",
                by_actor.key == index_key(actor),
            ),
            exists().where(
                verb.seq == course.seq, verb.kind == "v", verb.key == index_key(LAUNCHED)
            ),
        )
    )
    roles_key = f"{service_url}xapi/extensions/lti/roles"
    opened: set[int] = set()
    for key, statement in launches:
        roles = statement.get("context", {}).get("extensions", {}).get(roles_key)
        if isinstance(roles, list) and any(role in c.INSTRUCTOR_ROLES for role in roles):
            opened.add(by_key[key])
    return opened
