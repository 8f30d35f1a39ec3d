"""Syncing a course's NRPS members into an Ashiato class: identity links (iss + user_id, and the
OneRoster sourcedId when sent) and enrollments. Somebody nobody is linked to is created or left
out, as the registration says. Members the platform reports inactive or deleted lose the
enrollment this sync made. Flushes; the edge commits."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from lti import claims as c
from lti import nrps
from lti.errors import RegistrationError
from lti.nrps import Member
from lti.oidc import digest
from lti.people import KIND_OF_ROLE, platform_agent
from lti.ports import Deployment, Registration, SigningKey
from lti.services import PlatformHttp, access_token, require_platform_url
from records.identity.models import Enrollment, Person, SchoolClass
from records.identity.oneroster.identifiers import account_agent, oneroster_home_page
from records.identity.people import Names, create_person, link_identifier, person_for_agent

ENROLLMENT_ROLE = {"teacher": "teacher", "pupil": "student"}


@dataclass(frozen=True, slots=True)
class SyncedPerson:
    """One member the sync linked, and what it did for them."""

    person_id: int
    user_id: str
    role: str  # teacher | pupil
    created: bool  # a new person
    change: str  # enrolled | ended | unchanged


@dataclass
class SyncReport:
    linked: int = 0
    created: int = 0
    enrolled: int = 0
    ended: int = 0
    unlinked: list[str] = field(default_factory=list)  # user_ids nobody is linked to
    skipped: int = 0  # members neither instructor nor learner
    people: list[SyncedPerson] = field(default_factory=list)


def find_class(session: Session, org_id: int, class_sourced_id: str) -> SchoolClass:
    klass = session.scalar(
        select(SchoolClass).where(
            SchoolClass.org_id == org_id, SchoolClass.sourced_id == class_sourced_id
        )
    )
    if klass is None:
        raise RegistrationError(f"the deployment's school has no class {class_sourced_id!r}")
    return klass


def sync_course(
    session: Session,
    *,
    registration: Registration,
    deployment: Deployment,
    klass: SchoolClass,
    memberships_url: str,
    http: PlatformHttp,
    key: SigningKey,
    service_url: str,
    now: datetime,
    today: date,
) -> SyncReport:
    """Token (client credentials, signed assertion), every page of members, then the sync. The
    memberships URL must be on the platform's registered origins."""
    require_platform_url(registration, memberships_url, "memberships URL")
    token = access_token(http, registration, key, [nrps.SCOPE], now)
    members = list(nrps.members(http, memberships_url, token))
    return sync_members(session, registration, deployment, klass, members, service_url, today)


def sync_members(
    session: Session,
    registration: Registration,
    deployment: Deployment,
    klass: SchoolClass,
    members: Iterable[Member],
    service_url: str,
    today: date,
) -> SyncReport:
    if klass.org_id != deployment.org_id:
        raise RegistrationError("the class is not in the deployment's school")
    report = SyncReport()
    for member in members:
        role = _role(member)
        if role is None:
            report.skipped += 1
            continue
        created_before = report.created
        person = _person(session, registration, member, role, service_url, report)
        if person is None:
            continue
        link_identifier(
            session,
            person.id,
            platform_agent(registration.issuer, member.user_id),
            source="lti",
            org_id=deployment.org_id,
        )
        report.linked += 1
        change = _enroll(session, registration, klass, person, member, role, today, report)
        report.people.append(
            SyncedPerson(person.id, member.user_id, role, report.created > created_before, change)
        )
    session.flush()
    return report


def _role(member: Member) -> str | None:
    if any(role in c.INSTRUCTOR_ROLES for role in member.roles):
        return "teacher"
    if any(role in c.LEARNER_ROLES for role in member.roles):
        return "pupil"
    return None


def _person(
    session: Session,
    registration: Registration,
    member: Member,
    role: str,
    service_url: str,
    report: SyncReport,
) -> Person | None:
    person = person_for_agent(session, platform_agent(registration.issuer, member.user_id))
    if person is None and member.person_sourcedid:
        home = oneroster_home_page(service_url, "sourcedId")
        roster = account_agent(home, member.person_sourcedid)
        person = person_for_agent(session, roster)
    if person is not None:
        return person
    if registration.unknown_users != "create" or member.status != "Active":
        report.unlinked.append(member.user_id)
        return None
    report.created += 1
    return create_person(
        session,
        KIND_OF_ROLE[role],
        Names(family=member.family_name or member.name, given=member.given_name),
        service_url,
    )


def _enroll(
    session: Session,
    registration: Registration,
    klass: SchoolClass,
    person: Person,
    member: Member,
    role: str,
    today: date,
    report: SyncReport,
) -> str:
    """enrolled | ended | unchanged"""
    key = f"{registration.issuer}\n{klass.id}\n{member.user_id}\n{role}"
    sourced_id = "lti-" + digest(key)[:40]
    enrollment = session.scalar(
        select(Enrollment).where(
            Enrollment.org_id == klass.org_id, Enrollment.sourced_id == sourced_id
        )
    )
    active = member.status == "Active"
    if enrollment is None:
        if not active:
            return "unchanged"
        already = session.scalar(
            select(Enrollment.id).where(
                Enrollment.person_id == person.id,
                Enrollment.class_id == klass.id,
                Enrollment.role == ENROLLMENT_ROLE[role],
                Enrollment.active.is_(True),
            )
        )
        if already is not None:
            return "unchanged"  # enrolled by the roster already
        session.add(
            Enrollment(
                org_id=klass.org_id,
                sourced_id=sourced_id,
                person_id=person.id,
                class_id=klass.id,
                role=ENROLLMENT_ROLE[role],
                primary=False,
                begin_date=today,
                end_date=None,
                active=True,
            )
        )
        report.enrolled += 1
        return "enrolled"
    if enrollment.active and not active:
        enrollment.active = False
        enrollment.end_date = today
        report.ended += 1
        return "ended"
    if not enrollment.active and active:
        enrollment.active = True
        enrollment.end_date = None
        report.enrolled += 1
        return "enrolled"
    return "unchanged"
