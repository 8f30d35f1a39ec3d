"""Full launches from a real LTI 1.3 platform (lti1p3platform, served on localhost)."""

from __future__ import annotations

from typing import Any

import pytest
from flask import Flask
from sqlalchemy import select

from app.db import new_session
from records.identity.models import Account, ActorLink, Person, SecurityEvent
from records.models import StoredStatement
from tests.conftest import SERVICE_URL
from tests.lti.conftest import (
    BASE,
    LAUNCHED,
    authenticated_form,
    launch,
    launched_count,
    post_launch,
    pupil,
    signed_in,
    teacher,
)
from tests.lti.platform import ISSUER, TestPlatform

pytestmark = pytest.mark.db


def test_pupil_launch_signs_in_and_lands_on_the_portfolio(
    db_app: Flask, platform: TestPlatform, lti_school: dict[str, Any]
) -> None:
    client = db_app.test_client()
    portal = {"guid": "portal-guid-0001", "name": "学習eポータル"}
    claims = {"https://purl.imsglobal.org/spec/lti/claim/tool_platform": portal}
    answer = launch(client, platform, pupil(claims=claims))
    assert answer.status_code == 302, answer.get_data(as_text=True)
    assert answer.location.endswith("/portfolio")
    assert "lti1p3-state-" in answer.headers.get("Set-Cookie", "")  # the state cookie is dropped
    page = client.get(f"{BASE}/portfolio")
    assert page.status_code == 200
    with db_app.app_context(), new_session() as session:
        statement = session.scalars(
            select(StoredStatement).where(StoredStatement.verb_id == LAUNCHED)
        ).one()
        actor = statement.full["actor"]["account"]
        assert actor == {"homePage": SERVICE_URL, "name": lti_school["ids"]["P1"]}
        assert statement.full["context"]["platform"] == "portal-guid-0001"
        extensions = statement.full["context"]["extensions"]
        assert extensions[f"{SERVICE_URL}xapi/extensions/lti/issuer"] == ISSUER
        event = session.scalars(select(SecurityEvent).where(SecurityEvent.kind == "lti_sign_in"))
        assert event.one().detail == ISSUER


def test_teacher_found_by_oneroster_sourced_id_lands_on_classes_and_is_linked(
    db_app: Flask, platform: TestPlatform, lti_school: dict[str, Any]
) -> None:
    client = db_app.test_client()
    answer = launch(client, platform, teacher())
    assert answer.status_code == 302, answer.get_data(as_text=True)
    assert answer.location.endswith("/classes")
    assert client.get(f"{BASE}/classes").status_code == 200
    with db_app.app_context(), new_session() as session:
        links = session.scalars(
            select(ActorLink).where(ActorLink.person_id == lti_school["person_ids"]["T1"])
        ).all()
        lti_links = [link for link in links if link.source == "lti"]
        assert [link.agent["account"] for link in lti_links] == [
            {"homePage": ISSUER, "name": "portal-user-t1"}
        ]
    # The next launch finds the teacher by iss + sub alone.
    again = launch(db_app.test_client(), platform, teacher(claims={}))
    assert again.status_code == 302
    assert again.location.endswith("/classes")


def test_a_reflection_activity_opens_the_reflection_form(
    db_app: Flask, platform: TestPlatform, lti_school: dict[str, Any]
) -> None:
    custom = {"https://purl.imsglobal.org/spec/lti/claim/custom": {"activity": "reflection"}}
    answer = launch(db_app.test_client(), platform, pupil(claims=custom))
    assert answer.status_code == 302
    assert answer.location.endswith("/portfolio/new?kind=reflection")


def test_the_platform_key_set_is_cached_and_a_rotation_mid_test_keeps_launches_working(
    db_app: Flask, platform: TestPlatform, lti_school: dict[str, Any]
) -> None:
    assert launch(db_app.test_client(), platform, pupil()).status_code == 302
    assert launch(db_app.test_client(), platform, pupil()).status_code == 302
    assert platform.jwks_requests == 1  # cached
    old_kid = platform.kid()
    platform.rotate_key()
    assert platform.kid() != old_kid
    client = db_app.test_client()
    answer = launch(client, platform, pupil())
    assert answer.status_code == 302, answer.get_data(as_text=True)
    assert platform.jwks_requests == 2  # the unknown kid refetched the key set once
    assert signed_in(client)


def test_unknown_user_is_refused_when_the_school_says_so(
    db_app: Flask, platform: TestPlatform, lti_school: dict[str, Any]
) -> None:
    client = db_app.test_client()
    with db_app.app_context(), new_session() as session:
        people_before = len(session.scalars(select(Person.id)).all())
    answer = launch(client, platform, pupil(user="someone-new"))
    assert answer.status_code == 403
    assert "administrator" in answer.get_data(as_text=True)
    assert not signed_in(client)
    assert launched_count(db_app) == 0
    with db_app.app_context(), new_session() as session:
        assert len(session.scalars(select(Person.id)).all()) == people_before


def test_unknown_user_is_created_when_the_school_says_so(
    db_app: Flask, platform: TestPlatform, lti_school: dict[str, Any]
) -> None:
    from lti.models import LtiPlatform

    with db_app.app_context(), new_session() as session:
        registered = session.get(LtiPlatform, lti_school["platform_id"])
        assert registered is not None
        registered.unknown_users = "create"
        session.commit()
    client = db_app.test_client()
    custom = {
        "https://purl.imsglobal.org/spec/lti/claim/custom": {"grade": "P5"},
        "given_name": "次郎",
        "family_name": "伊藤",
    }
    answer = launch(client, platform, pupil(user="someone-new", claims=custom))
    assert answer.status_code == 302, answer.get_data(as_text=True)
    assert signed_in(client)
    with db_app.app_context(), new_session() as session:
        person = session.scalars(select(Person).where(Person.family_name == "伊藤")).one()
        assert (person.kind, person.grade, person.given_name) == ("student", "P5", "次郎")
        account = session.scalars(select(Account).where(Account.person_id == person.id)).one()
        assert account.email.endswith("@lti.invalid")


def test_a_learner_linked_to_a_teacher_is_refused(
    db_app: Flask, platform: TestPlatform, lti_school: dict[str, Any]
) -> None:
    client = db_app.test_client()
    answer = launch(
        client,
        platform,
        teacher(roles=["http://purl.imsglobal.org/vocab/lis/v2/membership#Learner"]),
    )
    assert answer.status_code == 403
    assert not signed_in(client)


def test_inside_a_frame_the_launch_continues_in_a_new_window_once(
    db_app: Flask, platform: TestPlatform, lti_school: dict[str, Any]
) -> None:
    frame = db_app.test_client()
    answer = launch(frame, platform, pupil(), headers={"Sec-Fetch-Dest": "iframe"})
    assert answer.status_code == 200
    page = answer.get_data(as_text=True)
    assert 'target="_blank"' in page
    # The platform's pages may frame this one (and only they).
    policy = answer.headers["Content-Security-Policy"]
    assert f"frame-ancestors {platform.base_url} https://portal.example.jp" in policy
    link = page.split('href="/lti/continue/')[1].split('"')[0]
    assert not signed_in(frame)
    window = db_app.test_client()
    opened = window.get(f"{BASE}/lti/continue/{link}")
    assert opened.status_code == 302
    assert opened.location.endswith("/portfolio")
    assert signed_in(window)
    thief = db_app.test_client()
    assert thief.get(f"{BASE}/lti/continue/{link}").status_code == 401
    assert not signed_in(thief)


def test_state_cookie_is_samesite_none_and_secure(
    db_app: Flask, platform: TestPlatform, lti_school: dict[str, Any]
) -> None:
    client = db_app.test_client()
    started = client.get(platform.start_launch(pupil()))
    cookie = started.headers["Set-Cookie"]
    assert "SameSite=None" in cookie
    assert "Secure" in cookie
    assert "HttpOnly" in cookie
    # The authentication request carries lti_message_hint back unaltered (the platform checks).
    form = platform.authenticate(started.location)
    assert post_launch(client, form).status_code == 302


def test_a_launch_without_the_browsers_cookie_offers_a_new_window(
    db_app: Flask, platform: TestPlatform, lti_school: dict[str, Any]
) -> None:
    form = authenticated_form(db_app.test_client(), platform, pupil())
    other_browser = db_app.test_client()
    answer = post_launch(other_browser, form)
    assert answer.status_code == 401
    page = answer.get_data(as_text=True)
    assert 'action="/lti/login"' in page
    assert 'target="_blank"' in page
    assert platform.base_url in answer.headers["Content-Security-Policy"]
    assert not signed_in(other_browser)


def test_a_teacher_launching_from_their_classs_course_lands_on_that_class(
    db_app: Flask, platform: TestPlatform, lti_school: dict[str, Any]
) -> None:
    """A course whose context id is the class's OneRoster sourcedId opens that class."""
    from records.identity.models import SchoolClass

    with db_app.app_context(), new_session() as session:
        ids = {k.sourced_id: k.id for k in session.scalars(select(SchoolClass))}
    context = {"https://purl.imsglobal.org/spec/lti/claim/context": {"id": "4-1", "title": "算数"}}
    client = db_app.test_client()
    answer = launch(client, platform, teacher(claims=teacher().claims | context))
    assert answer.status_code == 302
    assert answer.location.endswith(f"/classes/{ids['4-1']}")
    assert client.get(BASE + answer.location).status_code == 200
    # 4-2 is not T1's class: the list of their classes instead.
    context = {"https://purl.imsglobal.org/spec/lti/claim/context": {"id": "4-2", "title": "国語"}}
    answer = launch(db_app.test_client(), platform, teacher(claims=teacher().claims | context))
    assert answer.location.endswith("/classes")
