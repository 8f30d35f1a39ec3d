"""A teacher's LMS course pages in a real browser: from the class page, sync the course's members
(NRPS) and send an assessment to the LMS gradebook (AGS), against the test LTI platform running
on localhost. Pages are Japanese, keep the app's CSP (no inline script) and pass axe-core."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import select

from lti.people import platform_agent
from lti.registrations import add_deployment, register_platform
from records.identity.models import Enrollment, Person
from records.identity.people import link_identifier
from tests.conftest import SERVICE_URL
from tests.e2e.conftest import LiveServer
from tests.lti.conftest import LOCAL_PLATFORM
from tests.lti.platform import (
    CLIENT_ID,
    DEPLOYMENT_ID,
    INSTRUCTOR,
    ISSUER,
    LEARNER,
    PendingLaunch,
    TestPlatform,
)

Shoot = Callable[[Page, str], Path]
CheckA11y = Callable[[Page], list[dict[str, Any]]]
TOOL = "https://lrs.test"  # the Flask test client that plays the LMS's browser for the launch


@pytest.fixture
def platform() -> Iterator[TestPlatform]:
    running = TestPlatform(f"{TOOL}/lti/login", f"{SERVICE_URL}lti/launch")
    running.start()
    yield running
    running.stop()


@pytest.fixture
def course(
    live_server: LiveServer, school: dict[str, Any], platform: TestPlatform
) -> dict[str, Any]:
    """The platform registered for school A; T1 opened Ashiato from its course as instructor."""
    with live_server.session() as session:
        registered = register_platform(
            session,
            issuer=ISSUER,
            client_id=CLIENT_ID,
            auth_login_url=platform.auth_url,
            token_url=platform.token_url,
            jwks_url=platform.jwks_url,
            org_code="B113210000015",
            policy=LOCAL_PLATFORM,
        )
        add_deployment(session, registered.id, DEPLOYMENT_ID)
        people = {p.public_id: p.id for p in session.scalars(select(Person))}
        for name, sub in (("P1", "lms-p1"), ("P3", "lms-p3"), ("T1", "lms-t1")):
            person_id = people[school["ids"][name]]
            link_identifier(session, person_id, platform_agent(ISSUER, sub), source="lti")
        session.commit()
    client = live_server.app.test_client()
    platform.tool_jwks = client.get(f"{TOOL}/lti/jwks.json").get_json()
    services = {
        "https://purl.imsglobal.org/spec/lti-nrps/claim/namesroleservice": {
            "context_memberships_url": platform.base_url + "/memberships",
            "service_versions": ["2.0"],
        },
        "https://purl.imsglobal.org/spec/lti-ags/claim/endpoint": {
            "lineitems": platform.base_url + "/lineitems"
        },
    }
    started = client.get(
        platform.start_launch(PendingLaunch(user="lms-t1", roles=[INSTRUCTOR], claims=services))
    )
    form = platform.authenticate(started.location)
    launched = client.post(
        f"{TOOL}/lti/launch", data={"id_token": form["id_token"], "state": form["state"]}
    )
    assert launched.status_code == 302, launched.get_data(as_text=True)
    return {"people": people}


def test_a_teacher_syncs_members_and_sends_an_assessment_from_the_class_page(
    page: Page,
    live_server: LiveServer,
    school: dict[str, Any],
    course: dict[str, Any],
    platform: TestPlatform,
    sign_in: Callable[..., None],
    shoot: Shoot,
    check_a11y: CheckA11y,
) -> None:
    platform.members = [
        {"user_id": "lms-p1", "roles": [LEARNER]},
        {"user_id": "lms-p3", "roles": [LEARNER]},
        {"user_id": "lms-t1", "roles": [INSTRUCTOR]},
        {"user_id": "lms-unknown", "roles": [LEARNER]},
    ]
    item = platform.base_url + "/lineitems/1"
    platform.line_items = [
        {
            "id": item,
            "label": "ふりかえり: 分数",
            "scoreMaximum": 10,
            "resourceId": "ashiato:reflection:分数",
            "tag": "ashiato",
        }
    ]
    platform.set_result(item, "lms-p1", 6, 10, "もう少し")
    sign_in(page, "T1")
    page.goto(f"/classes/{school['classes']['4-1']}")
    courses = page.locator("ul.lti-courses")
    expect(courses).to_contain_text("4年1組 算数")
    check_a11y(page)

    courses.locator("form[action$='/sync'] [type=submit]").click()
    expect(page.locator("h1")).to_have_text("LMSから取り込んだメンバー")
    expect(page.locator("main")).to_contain_text("高橋 三郎")  # P3, added to 4年1組
    expect(page.locator("main")).to_contain_text("lms-unknown")
    shoot(page, "lti-sync-report")
    check_a11y(page)
    with live_server.session() as session:
        p3 = course["people"][school["ids"]["P3"]]
        enrolled = session.scalars(
            select(Enrollment.class_id).where(Enrollment.person_id == p3, Enrollment.active)
        ).all()
        assert school["classes"]["4-1"] in enrolled

    page.goto(f"/classes/{school['classes']['4-1']}")
    page.locator("ul.lti-courses a[href$='/grades']").click()
    expect(page.locator("h1")).to_have_text("LMSの成績表")
    expect(page.locator("main")).to_contain_text("6 / 10")
    shoot(page, "lti-gradebook")
    check_a11y(page)
    row = page.locator("tr", has_text="山田 花子")
    row.get_by_label(re.compile("山田 花子")).fill("8")
    row.get_by_label("コメント").fill("よく考えました")
    row.locator("[type=submit]").click()
    expect(page.get_by_role("status").filter(has_text="8 / 10")).to_be_visible()
    expect(page.locator("main")).to_contain_text("8 / 10")
    [sent] = platform.scores
    assert (sent["userId"], sent["scoreGiven"], sent["comment"]) == ("lms-p1", 8, "よく考えました")
