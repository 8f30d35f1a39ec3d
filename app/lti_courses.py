"""A teacher's LMS course pages, reached from the class page: sync the course's members into the
class (NRPS 2.0), read its gradebook and send an assessment of a pupil's work (AGS 2.0).

Routes are added to the lti blueprint by app/lti_views.py (`add_course_routes`). Forms are
CSRF-checked (the lti blueprint is exempt for the platform's own posts). Every page that shows
pupils writes the access log in its transaction; every refusal is a 4xx page with its reason.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext
from flask_login import login_required
from sqlalchemy.orm import Session

from app.auth import current_account
from app.csrf import csrf
from app.db import get_session
from app.lti_common import refused, url_policy
from app.lti_stores import SqlRegistrations, SqlToolKeys
from app.urls import public_url
from lti.contexts import LinkedCourse, course_for_class, courses_for_class
from lti.errors import LtiError, RegistrationError
from lti.gradebook import parse_points, read_gradebook, send_assessment
from lti.models import LtiContext
from lti.ports import Deployment, Registration
from lti.roster_sync import sync_course
from lti.services import SafeHttp
from records.identity.access import readable_classes
from records.identity.accounts import AccountInfo
from records.identity.models import Person, SchoolClass
from records.portfolio.access import record_seen_many
from records.portfolio.entries import current_pupils
from records.school_calendar import JST


@dataclass(frozen=True, slots=True)
class _Course:
    klass: SchoolClass
    row: LtiContext
    registration: Registration
    deployment: Deployment


def add_course_routes(bp: Blueprint) -> None:
    base = "/classes/<int:class_id>/courses/<int:course_id>"
    bp.add_url_rule(f"{base}/sync", view_func=login_required(course_sync), methods=["POST"])
    bp.add_url_rule(f"{base}/grades", view_func=login_required(course_grades), methods=["GET"])
    bp.add_url_rule(f"{base}/grades", view_func=login_required(course_grade_post), methods=["POST"])


def linked_courses(session: Session, account: AccountInfo, class_id: int) -> list[LinkedCourse]:
    """The LMS courses linked to a class the account may see (for the class page)."""
    klass = session.get(SchoolClass, class_id)
    if klass is None:
        return []
    return courses_for_class(session, klass, _person(session, account), public_url())


def course_sync(class_id: int, course_id: int) -> ResponseReturnValue:
    """Names and Role Provisioning: bring the course's members into the class, and show what
    was linked, created, enrolled and ended."""
    csrf.protect()
    session = get_session()
    account = viewer()
    now = datetime.now(UTC)
    try:
        course = _course(session, account, class_id, course_id)
        if not course.row.memberships_url:
            raise RegistrationError("the LMS did not offer its member list (NRPS) for this course")
        key = SqlToolKeys(session).signing_key()
        session.commit()  # the tool key, when this is its first use
        report = sync_course(
            session,
            registration=course.registration,
            deployment=course.deployment,
            klass=course.klass,
            memberships_url=course.row.memberships_url,
            http=SafeHttp(url_policy()),
            key=key,
            service_url=public_url(),
            now=now,
            today=today(),
        )
    except LtiError as exc:
        session.rollback()
        return refused(exc)
    people = {p.id: p for p in _people(session, [s.person_id for s in report.people])}
    record_seen_many(session, account, list(people), "lti.members-sync")
    session.commit()
    return render_template(
        "lti/sync_report.html",
        klass=course.klass,
        course=course.row,
        report=report,
        people=people,
    )


def course_grades(class_id: int, course_id: int) -> ResponseReturnValue:
    """The course's gradebook: its line items; for Ashiato activities, each pupil's result."""
    session = get_session()
    account = viewer()
    try:
        course = _course(session, account, class_id, course_id)
        pupils = _pupils(session, class_id)
        key = SqlToolKeys(session).signing_key()
        session.commit()  # the tool key, when this is its first use
        gradebook = read_gradebook(
            session,
            http=SafeHttp(url_policy()),
            registration=course.registration,
            key=key,
            course=course.row,
            pupils=pupils,
            service_url=public_url(),
            now=datetime.now(UTC),
        )
    except LtiError as exc:
        session.rollback()
        return refused(exc)
    record_seen_many(session, account, [p.id for p in pupils], "lti.gradebook")
    session.commit()
    return render_template(
        "lti/grades.html", klass=course.klass, course=course.row, gradebook=gradebook
    )


def course_grade_post(class_id: int, course_id: int) -> ResponseReturnValue:
    """Send the teacher's score of a pupil's work to the gradebook (and record it)."""
    csrf.protect()
    session = get_session()
    account = viewer()
    form = request.form
    try:
        course = _course(session, account, class_id, course_id)
        pupil = {p.public_id: p for p in _pupils(session, class_id)}.get(form.get("pupil", ""))
        if pupil is None:
            raise RegistrationError("choose a pupil of this class")
        given = parse_points(form.get("score", ""))
        key = SqlToolKeys(session).signing_key()
        session.commit()
        item = send_assessment(
            session,
            http=SafeHttp(url_policy()),
            registration=course.registration,
            key=key,
            course=course.row,
            pupil=pupil,
            teacher=_person(session, account),
            lineitem_id=form.get("lineitem", ""),
            given=given,
            comment=form.get("comment", ""),
            service_url=public_url(),
            now=datetime.now(UTC),
        )
    except LtiError as exc:
        session.rollback()
        return refused(exc)
    record_seen_many(session, account, [pupil.id], "lti.gradebook")
    session.commit()
    score, maximum = f"{given:g}", f"{item.score_maximum:g}"
    flash(
        gettext(
            "Sent %(score)s / %(max)s for %(name)s to the LMS gradebook (%(item)s).",
            score=score,
            max=maximum,
            name=_name(pupil),
            item=item.label,
        )
    )
    return redirect(url_for("lti.course_grades", class_id=class_id, course_id=course_id))


def _course(session: Session, account: AccountInfo, class_id: int, course_id: int) -> _Course:
    klass = session.get(SchoolClass, class_id)
    if klass is None:
        abort(404)
    if class_id not in set(session.scalars(readable_classes(account, today()))):
        abort(403)
    row = course_for_class(session, klass, course_id, _person(session, account), public_url())
    registrations = SqlRegistrations(session)
    registration = registrations.get(row.platform_id)
    deployment = registrations.deployment(row.platform_id, row.deployment_id)
    if registration is None or deployment is None:
        raise RegistrationError("the LMS of this course is no longer registered")
    return _Course(klass, row, registration, deployment)


def viewer() -> AccountInfo:
    account = current_account()
    if account is None:  # pragma: no cover - login_required
        abort(401)
    return account


def today() -> date:
    """Schools live by the date in Japan (as app/web/common.py; not imported from there, since
    the class pages import this module)."""
    return datetime.now(JST).date()


def _person(session: Session, account: AccountInfo) -> Person | None:
    return session.get(Person, account.person_id) if account.person_id is not None else None


def _pupils(session: Session, class_id: int) -> list[Person]:
    return sorted(
        current_pupils(session, class_id, today()).values(),
        key=lambda p: (p.kana_family_name, p.kana_given_name, p.family_name, p.given_name),
    )


def _people(session: Session, person_ids: list[int]) -> list[Person]:
    return [p for p in (session.get(Person, pid) for pid in dict.fromkeys(person_ids)) if p]


def _name(person: Person) -> str:
    return " ".join(x for x in (person.family_name, person.given_name) if x) or person.public_id
