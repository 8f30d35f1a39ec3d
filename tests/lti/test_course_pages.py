"""A teacher's LMS course pages, from the class page: NRPS member sync (with paging) and the AGS
gradebook (line items, results received, a teacher's assessment sent), against the platform on
localhost. Scores sent and received are recorded as xAPI, received ones idempotently; every page
that shows pupils writes the access log; forms need their CSRF token."""

from __future__ import annotations

import html
import re
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from app.db import new_session
from lti.models import LtiPlatform
from records.identity.accounts import create_account
from records.identity.models import AccessLogEntry, Enrollment, SchoolClass
from records.identity.people import link_identifier
from records.models import StoredStatement
from tests.conftest import SERVICE_URL
from tests.factories import PASSWORD
from tests.lti.conftest import BASE, PUPIL_SUB, launch, pupil, teacher
from tests.lti.platform import (
    INSTRUCTOR,
    LEARNER,
    LINEITEM_READ_SCOPE,
    TestPlatform,
)
from tests.lti.test_deep_linking import choose, deep_linking_request

pytestmark = pytest.mark.db

SCORED = "http://adlnet.gov/expapi/verbs/scored"
SOURCE = f"{SERVICE_URL}xapi/extensions/lti/score-source"
CONTEXT = "https://purl.imsglobal.org/spec/lti/claim/context"


def service_claims(platform: TestPlatform) -> dict[str, Any]:
    return {
        "https://purl.imsglobal.org/spec/lti-nrps/claim/namesroleservice": {
            "context_memberships_url": platform.base_url + "/memberships",
            "service_versions": ["2.0"],
        },
        "https://purl.imsglobal.org/spec/lti-ags/claim/endpoint": {
            "scope": [LINEITEM_READ_SCOPE],
            "lineitems": platform.base_url + "/lineitems",
        },
    }


@pytest.fixture
def course(db_app: Flask, platform: TestPlatform, lti_school: dict[str, Any]) -> dict[str, Any]:
    """T1 opened Ashiato from the course (4年1組 算数) as its instructor, and is signed in."""
    platform.tool_jwks = db_app.test_client().get(f"{BASE}/lti/jwks.json").get_json()
    client = db_app.test_client()
    claims = teacher().claims | service_claims(platform)
    assert launch(client, platform, teacher(claims=claims)).status_code == 302
    client.environ_base["HTTP_REFERER"] = f"{BASE}/"  # flask-wtf checks it on HTTPS posts
    with db_app.app_context(), new_session() as session:
        classes = {k.sourced_id: k.id for k in session.scalars(select(SchoolClass))}
    return lti_school | {"client": client, "classes": classes}


def csrf_of(page: str) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert found is not None, page
    return found.group(1)


def action(page: str, ending: str) -> str:
    found = re.search(rf'action="(/lti/classes/\d+/courses/\d+/{ending})"', page)
    assert found is not None, page
    return found.group(1)


def log_rows(app: Flask, person_id: int) -> int:
    with app.app_context(), new_session() as session:
        count = session.scalar(
            select(func.count())
            .select_from(AccessLogEntry)
            .where(AccessLogEntry.subject_person_id == person_id)
        )
    return int(count or 0)


def scored(app: Flask) -> list[dict[str, Any]]:
    with app.app_context(), new_session() as session:
        rows = session.scalars(
            select(StoredStatement.full)
            .where(StoredStatement.verb_id == SCORED)
            .order_by(StoredStatement.seq)
        )
        return list(rows)


def sign_in(app: Flask, email: str, person_id: int, role: str = "teacher") -> FlaskClient:
    with app.app_context(), new_session() as session:
        create_account(session, email, PASSWORD, role, "B113210000015", person_id=person_id)
        session.commit()
    client = app.test_client()
    client.environ_base["HTTP_REFERER"] = f"{BASE}/"
    token = csrf_of(client.get(f"{BASE}/sign-in").get_data(as_text=True))
    answer = client.post(
        f"{BASE}/sign-in", data={"email": email, "password": PASSWORD, "csrf_token": token}
    )
    assert answer.status_code == 302
    return client


# --- NRPS --------------------------------------------------------------------------------------


def test_a_teacher_syncs_the_course_members_into_the_class_from_the_class_page(
    db_app: Flask, platform: TestPlatform, course: dict[str, Any]
) -> None:
    from lti.people import platform_agent
    from tests.lti.platform import ISSUER

    people = course["person_ids"]
    with db_app.app_context(), new_session() as session:
        link_identifier(
            session, people["P3"], platform_agent(ISSUER, "portal-user-p3"), source="lti"
        )
        session.commit()
    platform.members = [
        {"user_id": PUPIL_SUB, "roles": [LEARNER], "status": "Active"},
        {"user_id": "portal-user-p3", "roles": [LEARNER], "status": "Active"},
        {"user_id": "portal-user-t1", "roles": [INSTRUCTOR]},
        {"user_id": "portal-user-new", "roles": [LEARNER], "name": "新しい 生徒"},
        {
            "user_id": "portal-guest",
            "roles": ["http://purl.imsglobal.org/vocab/lis/v2/membership#Mentor"],
        },
    ]  # three pages of two
    client = course["client"]
    page = client.get(f"{BASE}/classes/{course['classes']['4-1']}").get_data(as_text=True)
    assert "4年1組 算数" in page
    before = log_rows(db_app, people["P3"])
    answer = client.post(BASE + action(page, "sync"), data={"csrf_token": csrf_of(page)})
    assert answer.status_code == 200, answer.get_data(as_text=True)
    report = html.unescape(answer.get_data(as_text=True))
    assert "高橋 三郎" in report  # P3, added to the class
    assert "portal-user-new" in report  # nobody in Ashiato yet (the school refuses unknowns)
    for shown in ("Linked to their LMS account: 3", "Added to the class: 1", "left out): 1"):
        assert shown in report or _ja(shown) in report, report
    with db_app.app_context(), new_session() as session:
        enrolled = {
            e.person_id
            for e in session.scalars(
                select(Enrollment).where(
                    Enrollment.class_id == course["classes"]["4-1"], Enrollment.active
                )
            )
        }
    assert people["P3"] in enrolled
    assert log_rows(db_app, people["P3"]) > before  # the report shows P3: logged
    assert platform.token_requests == 1


def _ja(english: str) -> str:
    """The Japanese of a report line (the teacher's pages are Japanese first)."""
    wording = {
        "Linked to their LMS account: 3": "LMSのアカウントと結びつけた人: 3",
        "Added to the class: 1": "クラスに加えた人: 1",
        "left out): 1": "対象外）: 1",
    }
    return wording[english]


def test_the_sync_form_needs_its_csrf_token(
    db_app: Flask, platform: TestPlatform, course: dict[str, Any]
) -> None:
    page = course["client"].get(f"{BASE}/classes/{course['classes']['4-1']}")
    sync = action(page.get_data(as_text=True), "sync")
    platform.members = [{"user_id": PUPIL_SUB, "roles": [LEARNER]}]
    assert course["client"].post(BASE + sync, data={}).status_code == 400
    assert platform.token_requests == 0


def test_only_a_teacher_of_the_class_who_opened_the_course_may_use_it(
    db_app: Flask, platform: TestPlatform, course: dict[str, Any]
) -> None:
    people, classes = course["person_ids"], course["classes"]
    page = course["client"].get(f"{BASE}/classes/{classes['4-1']}").get_data(as_text=True)
    sync = action(page, "sync")
    course_id = sync.split("/")[5]
    other = sign_in(db_app, "t2@school.example.jp", people["T2"])
    token = csrf_of(other.get(f"{BASE}/classes/{classes['4-2']}").get_data(as_text=True))
    # T2 does not teach 4-1, and never opened the course: neither class shows it to them.
    assert other.post(BASE + sync, data={"csrf_token": token}).status_code == 403
    into_own = f"{BASE}/lti/classes/{classes['4-2']}/courses/{course_id}/sync"
    refused = other.post(into_own, data={"csrf_token": token})
    assert refused.status_code == 403
    assert "not linked" in html.unescape(refused.get_data(as_text=True))
    assert (
        other.get(f"{BASE}/lti/classes/{classes['4-2']}/courses/{course_id}/grades").status_code
        == 403
    )
    assert "/sync" not in other.get(f"{BASE}/classes/{classes['4-2']}").get_data(as_text=True)
    assert platform.token_requests == 0
    # A pupil cannot reach the course pages either.
    learner = sign_in(db_app, "p2@school.example.jp", people["P2"], "pupil")
    assert (
        learner.get(f"{BASE}/lti/classes/{classes['4-1']}/courses/{course_id}/grades").status_code
        == 403
    )


def test_a_course_whose_context_is_the_classs_roster_id_is_linked_for_its_teachers(
    db_app: Flask, platform: TestPlatform, course: dict[str, Any]
) -> None:
    """An LMS rostered from the same OneRoster data uses the class's sourcedId as context id."""
    claims = service_claims(platform) | {CONTEXT: {"id": "4-2", "title": "4年2組 国語"}}
    assert launch(db_app.test_client(), platform, pupil(claims=claims)).status_code == 302
    other = sign_in(db_app, "t2@school.example.jp", course["person_ids"]["T2"])
    page = other.get(f"{BASE}/classes/{course['classes']['4-2']}").get_data(as_text=True)
    assert "4年2組 国語" in page
    assert "4年1組 算数" not in page  # T2 never opened that one
    platform.members = [{"user_id": PUPIL_SUB, "roles": [LEARNER]}]
    answer = other.post(BASE + action(page, "sync"), data={"csrf_token": csrf_of(page)})
    assert answer.status_code == 200, answer.get_data(as_text=True)


# --- AGS ---------------------------------------------------------------------------------------


def place_reflection(db_app: Flask, platform: TestPlatform, client: FlaskClient) -> str:
    """Deep Linking round trip: the teacher places "reflection on 分数"; the platform makes its
    gradebook column. Returns the column's id."""
    claims = teacher().claims | deep_linking_request(platform) | service_claims(platform)
    answer = launch(client, platform, teacher(message_type="LtiDeepLinkingRequest", claims=claims))
    assert answer.status_code == 302, answer.get_data(as_text=True)
    page, _ = choose(client, answer.location, "reflection", "分数")
    found = re.search(r'name="JWT" value="([^"]+)"', page)
    assert found is not None
    [item] = platform.accept_deep_link(found.group(1))
    assert item["lineItem"]["tag"] == "ashiato"
    assert item["lineItem"]["scoreMaximum"] == 10
    [column] = platform.line_items
    return str(column["id"])


def test_a_teacher_reads_the_gradebook_and_sends_an_assessment_recorded_as_xapi(
    db_app: Flask, platform: TestPlatform, course: dict[str, Any]
) -> None:
    client, people = course["client"], course["person_ids"]
    item = place_reflection(db_app, platform, client)
    platform.line_items.append(
        {"id": platform.base_url + "/lineitems/99", "label": "期末テスト", "scoreMaximum": 100}
    )
    platform.set_result(item, PUPIL_SUB, 7, 10, "がんばった")  # graded in the LMS
    platform.set_result(platform.base_url + "/lineitems/99", PUPIL_SUB, 80, 100)
    class_page = client.get(f"{BASE}/classes/{course['classes']['4-1']}").get_data(as_text=True)
    grades_url = re.search(r'href="(/lti/classes/\d+/courses/\d+/grades)"', class_page)
    assert grades_url is not None
    before = log_rows(db_app, people["P1"])
    page = client.get(BASE + grades_url.group(1))
    assert page.status_code == 200, page.get_data(as_text=True)
    text = html.unescape(page.get_data(as_text=True))
    assert "期末テスト" in text
    assert "分数" in text
    assert "7 / 10" in text
    assert "がんばった" in text
    assert "山田 花子" in text
    assert "田中 太郎" in text
    assert text.count('name="lineitem"') == 1  # only P1, only the Ashiato activity
    assert log_rows(db_app, people["P1"]) > before
    assert log_rows(db_app, people["P2"]) > 0
    # The score received is recorded once, however often the gradebook is read.
    client.get(BASE + grades_url.group(1))
    [received] = scored(db_app)
    assert received["context"]["extensions"][SOURCE] == "received"
    assert received["actor"]["account"]["name"] == course["ids"]["P1"]
    assert received["object"]["id"] == item
    assert received["result"]["score"] == {"raw": 7, "min": 0, "max": 10, "scaled": 0.7}
    assert received["result"]["response"] == "がんばった"
    # The teacher sends 9 with a comment.
    answer = client.post(
        BASE + action(text, "grades"),
        data={
            "csrf_token": csrf_of(text),
            "lineitem": item,
            "pupil": course["ids"]["P1"],
            "score": "\uff19",  # a full-width 9, as a Japanese keyboard types it
            "comment": "よく書けました",
        },
    )
    assert answer.status_code == 302, answer.get_data(as_text=True)
    [sent] = platform.scores
    assert (sent["userId"], sent["scoreGiven"], sent["scoreMaximum"]) == (PUPIL_SUB, 9, 10)
    assert sent["comment"] == "よく書けました"
    statements = scored(db_app)
    assert len(statements) == 2
    assert statements[1]["context"]["extensions"][SOURCE] == "sent"
    assert statements[1]["context"]["instructor"]["account"]["name"] == course["ids"]["T1"]
    # Reading back what was sent records nothing new; a change made in the LMS is recorded.
    after = html.unescape(client.get(BASE + answer.location).get_data(as_text=True))
    assert "9 / 10" in after
    assert len(scored(db_app)) == 2
    platform.set_result(item, PUPIL_SUB, 6, 10)
    client.get(BASE + grades_url.group(1))
    client.get(BASE + grades_url.group(1))
    statements = scored(db_app)
    assert len(statements) == 3
    assert statements[2]["result"]["score"]["raw"] == 6


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ({"score": "11"}, "between 0 and the maximum"),
        ({"score": "-1"}, "between 0 and the maximum"),
        ({"score": "nan"}, "must be a number"),
        ({"score": "abc"}, "must be a number"),
        ({"pupil": "P3"}, "pupil of this class"),
        ({"pupil": "P2"}, "not linked to a user of the LMS"),
        ({"lineitem": "other"}, "not an Ashiato activity"),
        ({"csrf_token": ""}, ""),  # flask-wtf's own 400 page
    ],
)
def test_an_unusable_assessment_is_refused_and_nothing_is_sent(
    db_app: Flask,
    platform: TestPlatform,
    course: dict[str, Any],
    change: dict[str, str],
    reason: str,
) -> None:
    client = course["client"]
    item = place_reflection(db_app, platform, client)
    other = platform.base_url + "/lineitems/99"
    platform.line_items.append({"id": other, "label": "期末テスト", "scoreMaximum": 100})
    page = client.get(f"{BASE}/classes/{course['classes']['4-1']}").get_data(as_text=True)
    grades = re.search(r'href="(/lti/classes/\d+/courses/\d+/grades)"', page)
    assert grades is not None
    form = {"csrf_token": csrf_of(page), "lineitem": item, "pupil": "P1", "score": "8"}
    form |= change
    form["pupil"] = course["ids"].get(form["pupil"], form["pupil"])
    form["lineitem"] = other if form["lineitem"] == "other" else form["lineitem"]
    answer = client.post(BASE + grades.group(1), data=form)
    assert answer.status_code == 400
    assert reason in html.unescape(answer.get_data(as_text=True))
    assert platform.scores == []
    assert [s for s in scored(db_app) if s["context"]["extensions"][SOURCE] == "sent"] == []


def test_without_the_results_scope_the_gradebook_still_takes_assessments(
    db_app: Flask, platform: TestPlatform, course: dict[str, Any]
) -> None:
    client = course["client"]
    place_reflection(db_app, platform, client)
    platform.grant_results = False
    page = client.get(f"{BASE}/classes/{course['classes']['4-1']}").get_data(as_text=True)
    grades = re.search(r'href="(/lti/classes/\d+/courses/\d+/grades)"', page)
    assert grades is not None
    answer = client.get(BASE + grades.group(1))
    assert answer.status_code == 200
    assert 'name="lineitem"' in answer.get_data(as_text=True)
    assert scored(db_app) == []


def test_an_lms_that_fails_gives_a_4xx_page_with_the_reason(
    db_app: Flask, platform: TestPlatform, course: dict[str, Any]
) -> None:
    page = course["client"].get(f"{BASE}/classes/{course['classes']['4-1']}")
    text = page.get_data(as_text=True)
    platform.tool_jwks = {"keys": []}  # the platform no longer knows our key
    answer = course["client"].post(BASE + action(text, "sync"), data={"csrf_token": csrf_of(text)})
    assert answer.status_code == 424
    assert "refused an access token" in answer.get_data(as_text=True)
    grades = re.search(r'href="(/lti/classes/\d+/courses/\d+/grades)"', text)
    assert grades is not None
    assert course["client"].get(BASE + grades.group(1)).status_code == 424


def test_a_deactivated_registration_hides_its_courses(
    db_app: Flask, platform: TestPlatform, course: dict[str, Any]
) -> None:
    with db_app.app_context(), new_session() as session:
        registered = session.get(LtiPlatform, course["platform_id"])
        assert registered is not None
        registered.active = False
        session.commit()
    page = course["client"].get(f"{BASE}/classes/{course['classes']['4-1']}")
    assert "/sync" not in page.get_data(as_text=True)
