"""LTI Advantage services against the platform on localhost: a client-credentials token with our
signed assertion, NRPS membership paging into a class, AGS line items and a posted score."""

from __future__ import annotations

import json
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import select

from app.db import new_session
from lti.models import LtiPlatform
from records.identity.models import Enrollment, Person, SchoolClass
from records.models import StoredStatement
from tests.lti.conftest import BASE, PUPIL_SUB, TEACHER_SOURCED_ID
from tests.lti.platform import DEPLOYMENT_ID, LINEITEM_READ_SCOPE, TestPlatform

pytestmark = pytest.mark.db

LEARNER = "http://purl.imsglobal.org/vocab/lis/v2/membership#Learner"
INSTRUCTOR = "http://purl.imsglobal.org/vocab/lis/v2/membership#Instructor"


@pytest.fixture
def services(db_app: Flask, platform: TestPlatform, lti_school: dict[str, Any]) -> dict[str, Any]:
    platform.tool_jwks = db_app.test_client().get(f"{BASE}/lti/jwks.json").get_json()
    return lti_school


def sync(db_app: Flask, platform: TestPlatform, platform_id: int) -> Any:
    result = db_app.test_cli_runner().invoke(
        args=[
            "lti",
            "sync-members",
            "--platform",
            str(platform_id),
            "--deployment",
            DEPLOYMENT_ID,
            "--memberships-url",
            platform.base_url + "/memberships",
            "--class",
            "4-2",
            "--json",
        ]
    )
    return result


def enrolled_in_4_2(db_app: Flask) -> dict[int, str]:
    with db_app.app_context(), new_session() as session:
        klass = session.scalars(select(SchoolClass).where(SchoolClass.sourced_id == "4-2")).one()
        return {
            e.person_id: e.role
            for e in session.scalars(
                select(Enrollment).where(Enrollment.class_id == klass.id, Enrollment.active)
            )
        }


def test_nrps_sync_follows_pages_links_people_and_enrolls_them(
    db_app: Flask, platform: TestPlatform, services: dict[str, Any]
) -> None:
    platform.members = [
        {"user_id": PUPIL_SUB, "roles": [LEARNER], "status": "Active"},
        {
            "user_id": "portal-user-t1",
            "roles": [INSTRUCTOR],
            "lis_person_sourcedid": TEACHER_SOURCED_ID,
        },
        {"user_id": "portal-user-new", "roles": [LEARNER], "name": "新しい 生徒"},
        {
            "user_id": "portal-admin",
            "roles": ["http://purl.imsglobal.org/vocab/lis/v2/institution/person#Administrator"],
        },
    ]
    result = sync(db_app, platform, services["platform_id"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    assert report == {
        "linked": 2,
        "created": 0,
        "enrolled": 2,
        "ended": 0,
        "skipped": 1,
        "unlinked": ["portal-user-new"],
    }
    assert platform.token_requests == 1
    people = services["person_ids"]
    enrolled = enrolled_in_4_2(db_app)
    assert enrolled[people["P1"]] == "student"
    assert enrolled[people["T1"]] == "teacher"
    # Run again: nothing new. Then the school creates unknown people, and P1 leaves the course.
    again = json.loads(sync(db_app, platform, services["platform_id"]).output)
    assert again["enrolled"] == 0
    with db_app.app_context(), new_session() as session:
        registered = session.get(LtiPlatform, services["platform_id"])
        assert registered is not None
        registered.unknown_users = "create"
        session.commit()
    platform.members[0]["status"] = "Deleted"
    third = json.loads(sync(db_app, platform, services["platform_id"]).output)
    assert (third["created"], third["ended"], third["unlinked"]) == (1, 1, [])
    enrolled = enrolled_in_4_2(db_app)
    assert people["P1"] not in enrolled
    with db_app.app_context(), new_session() as session:
        created = session.scalars(select(Person).where(Person.family_name == "新しい 生徒")).one()
        assert enrolled[created.id] == "student"


def test_a_token_request_the_platform_refuses_stops_the_sync(
    db_app: Flask, platform: TestPlatform, services: dict[str, Any]
) -> None:
    platform.tool_jwks = {"keys": []}  # the platform does not know our key
    result = sync(db_app, platform, services["platform_id"])
    assert result.exit_code != 0
    assert "refused an access token" in result.output
    assert not enrolled_in_4_2(db_app).get(services["person_ids"]["P1"])


def test_ags_reads_line_items_and_posts_a_teachers_score_recorded_as_xapi(
    db_app: Flask, platform: TestPlatform, services: dict[str, Any]
) -> None:
    item_url = platform.base_url + "/lineitems/1"
    platform.line_items = [
        {
            "id": item_url,
            "label": "分数のふりかえり",
            "scoreMaximum": 10,
            "resourceLinkId": "link-1",
        }
    ]
    runner = db_app.test_cli_runner()
    listed = runner.invoke(
        args=[
            "lti",
            "line-items",
            "--platform",
            str(services["platform_id"]),
            "--lineitems-url",
            platform.base_url + "/lineitems",
        ]
    )
    assert listed.exit_code == 0, listed.output
    assert f"{item_url}\t分数のふりかえり\t10" in listed.output
    posted = runner.invoke(
        args=[
            "lti",
            "post-score",
            "--platform",
            str(services["platform_id"]),
            "--lineitem",
            item_url,
            "--label",
            "分数のふりかえり",
            "--pupil",
            services["ids"]["P1"],
            "--teacher",
            services["ids"]["T1"],
            "--score",
            "8",
            "--max",
            "10",
            "--comment",
            "よくできました",
        ]
    )
    assert posted.exit_code == 0, posted.output
    [score] = platform.scores
    assert score["userId"] == PUPIL_SUB
    assert (score["scoreGiven"], score["scoreMaximum"]) == (8, 10)
    assert score["gradingProgress"] == "FullyGraded"
    assert score["comment"] == "よくできました"
    with db_app.app_context(), new_session() as session:
        statement = session.scalars(
            select(StoredStatement).where(
                StoredStatement.verb_id == "http://adlnet.gov/expapi/verbs/scored"
            )
        ).one()
    assert statement.full["object"]["id"] == item_url
    assert statement.full["result"]["score"]["scaled"] == 0.8
    assert statement.full["actor"]["account"]["name"] == services["ids"]["P1"]


def test_a_score_above_the_maximum_is_refused_before_sending(
    db_app: Flask, platform: TestPlatform, services: dict[str, Any]
) -> None:
    posted = db_app.test_cli_runner().invoke(
        args=[
            "lti",
            "post-score",
            "--platform",
            str(services["platform_id"]),
            "--lineitem",
            platform.base_url + "/lineitems/1",
            "--pupil",
            services["ids"]["P1"],
            "--teacher",
            services["ids"]["T1"],
            "--score",
            "11",
            "--max",
            "10",
        ]
    )
    assert posted.exit_code != 0
    assert "between 0 and the maximum" in posted.output
    assert platform.scores == []


def test_a_launch_remembers_the_course_services_and_the_sync_uses_them(
    db_app: Flask, platform: TestPlatform, services: dict[str, Any]
) -> None:
    from tests.lti.conftest import launch, teacher

    service_claims = {
        "https://purl.imsglobal.org/spec/lti-nrps/claim/namesroleservice": {
            "context_memberships_url": platform.base_url + "/memberships",
            "service_versions": ["2.0"],
        },
        "https://purl.imsglobal.org/spec/lti-ags/claim/endpoint": {
            "scope": [LINEITEM_READ_SCOPE],
            "lineitems": platform.base_url + "/lineitems",
        },
    }
    claims = teacher().claims | service_claims
    assert launch(db_app.test_client(), platform, teacher(claims=claims)).status_code == 302
    runner = db_app.test_cli_runner()
    courses = runner.invoke(args=["lti", "courses"])
    assert courses.exit_code == 0, courses.output
    course_id, title, deployment, offered = courses.output.strip().split("\t")
    assert (title, deployment, offered) == ("4年1組 算数", DEPLOYMENT_ID, "nrps,ags")
    platform.members = [{"user_id": PUPIL_SUB, "roles": [LEARNER]}]
    result = runner.invoke(
        args=["lti", "sync-members", "--course", course_id, "--class", "4-2", "--json"]
    )
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["enrolled"] == 1
    assert enrolled_in_4_2(db_app)[services["person_ids"]["P1"]] == "student"


def test_sync_members_needs_a_course_or_its_urls(
    db_app: Flask, platform: TestPlatform, services: dict[str, Any]
) -> None:
    result = db_app.test_cli_runner().invoke(args=["lti", "sync-members", "--class", "4-2"])
    assert result.exit_code != 0
    assert "--course" in result.output
