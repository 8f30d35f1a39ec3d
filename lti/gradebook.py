"""A class's view of an LMS course's gradebook (AGS 2.0), for its teacher: the line items, and
for each Ashiato activity placed by deep linking, every pupil of the class with the result the
gradebook holds (recorded as xAPI when it is news); and sending a teacher's assessment of a
pupil's work as a score. Flushes; the edge commits and writes the access log."""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session

from lti import ags
from lti.errors import RegistrationError
from lti.models import LtiContext
from lti.people import platform_user_id
from lti.ports import Registration, SigningKey
from lti.services import (
    PlatformHttp,
    ScopeNotGrantedError,
    ServiceError,
    access_token,
    require_platform_url,
)
from records.identity.models import Person


@dataclass(frozen=True, slots=True)
class PupilResult:
    pupil: Person
    user_id: str | None  # the pupil's user at the platform; None: not linked (cannot be graded)
    result: ags.Result | None


@dataclass(frozen=True, slots=True)
class Column:
    """An Ashiato activity's gradebook column and the class's pupils in it."""

    item: ags.LineItem
    pupils: list[PupilResult]


@dataclass(frozen=True, slots=True)
class Gradebook:
    items: list[ags.LineItem]  # every line item of the course
    columns: list[Column]  # the Ashiato activities among them
    results_read: bool  # False when the platform does not let Ashiato read results
    recorded: int  # results recorded as new xAPI statements by this reading


def _lineitems_url(course: LtiContext, registration: Registration) -> str:
    if not course.lineitems_url:
        raise ServiceError("the LMS did not offer its gradebook (AGS) for this course")
    return require_platform_url(registration, course.lineitems_url, "line items URL")


def read_gradebook(
    session: Session,
    *,
    http: PlatformHttp,
    registration: Registration,
    key: SigningKey,
    course: LtiContext,
    pupils: list[Person],
    service_url: str,
    now: datetime,
) -> Gradebook:
    url = _lineitems_url(course, registration)
    try:
        scopes = [ags.SCOPE_LINEITEM_READ, ags.SCOPE_RESULT_READ]
        token = access_token(http, registration, key, scopes, now)
        results_read = True
    except ScopeNotGrantedError:
        token = access_token(http, registration, key, [ags.SCOPE_LINEITEM_READ], now)
        results_read = False
    # Every call to the platform first: statements are written after the last one, so the
    # writing transaction (which holds the store's write order) never waits on the network.
    items = ags.line_items(http, url, token)
    read: dict[str, dict[str, ags.Result]] = {}
    for item in items:
        if item.is_ashiato_activity and results_read:
            item_url = require_platform_url(registration, item.id, "line item")
            read[item.id] = {r.user_id: r for r in ags.results(http, item_url, token)}
    users = {p.id: platform_user_id(session, p.id, registration.issuer) for p in pupils}
    columns = []
    recorded = 0
    for item in items:
        if not item.is_ashiato_activity:
            continue
        by_user = read.get(item.id, {})
        rows = []
        for pupil in pupils:
            user_id = users[pupil.id]
            result = by_user.get(user_id) if user_id is not None else None
            if result is not None:
                new = ags.record_result(
                    session,
                    pupil=pupil,
                    lineitem_id=item.id,
                    label=item.label,
                    result=result,
                    org_id=course.org_id,
                    service_url=service_url,
                )
                recorded += new is not None
            rows.append(PupilResult(pupil, user_id, result))
        columns.append(Column(item, rows))
    return Gradebook(items, columns, results_read, recorded)


def parse_points(text: str) -> float:
    """A score as typed (half-width or full-width digits, a decimal point)."""
    try:
        value = float(text.strip())
    except ValueError:
        raise RegistrationError("the score must be a number") from None
    if not math.isfinite(value):
        raise RegistrationError("the score must be a number")
    return value


def send_assessment(
    session: Session,
    *,
    http: PlatformHttp,
    registration: Registration,
    key: SigningKey,
    course: LtiContext,
    pupil: Person,
    teacher: Person | None,
    lineitem_id: str,
    given: float,
    comment: str,
    service_url: str,
    now: datetime,
) -> ags.LineItem:
    """Send the teacher's score of the pupil's work on an Ashiato activity of the course to the
    gradebook, and record it as xAPI. The line item must be one of this course's."""
    url = _lineitems_url(course, registration)
    user_id = platform_user_id(session, pupil.id, registration.issuer)
    if user_id is None:
        raise RegistrationError(
            "this pupil is not linked to a user of the LMS yet (sync the members first)"
        )
    comment = comment.strip()[:1000]
    scopes = [ags.SCOPE_LINEITEM_READ, ags.SCOPE_SCORE]
    token = access_token(http, registration, key, scopes, now)
    item = next((i for i in ags.line_items(http, url, token) if i.id == lineitem_id), None)
    if item is None or not item.is_ashiato_activity:
        raise RegistrationError("this gradebook column is not an Ashiato activity of the course")
    require_platform_url(registration, item.id, "line item")
    ags.check_score(given, item.score_maximum)
    score = ags.Score(user_id, given, item.score_maximum, comment, now)
    ags.post_score(http, item.id, token, score)
    ags.record_score(
        session,
        pupil=pupil,
        teacher=teacher,
        lineitem_id=item.id,
        label=item.label,
        score=score,
        org_id=course.org_id,
        service_url=service_url,
    )
    return item
