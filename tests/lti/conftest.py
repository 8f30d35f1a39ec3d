"""An Ashiato school with a registered LTI platform, and that platform running on localhost."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select
from werkzeug.test import TestResponse

from app.db import new_session
from app.lti_views import _KEYS
from lti.net import UrlPolicy
from lti.people import platform_agent
from lti.platform_keys import PlatformKeyCache
from lti.registrations import add_deployment, register_platform
from records.identity.accounts import create_account
from records.identity.oneroster.identifiers import account_agent, oneroster_home_page
from records.identity.people import link_identifier
from records.models import StoredStatement
from tests.conftest import SERVICE_URL
from tests.factories import PASSWORD, build_school_world
from tests.lti.platform import CLIENT_ID, DEPLOYMENT_ID, ISSUER, PendingLaunch, TestPlatform

BASE = "https://lrs.test"
LOGIN_URL = f"{BASE}/lti/login"
LAUNCH_URL = f"{SERVICE_URL}lti/launch"  # the launch URL Ashiato registers (its PUBLIC_URL)
PUPIL_SUB = "portal-user-p1"
TEACHER_SOURCED_ID = "t-0001"
LAUNCHED = "http://adlnet.gov/expapi/verbs/launched"
# The test platform runs on localhost over http: what LTI_ALLOW_HTTP and LTI_ALLOW_PRIVATE_URLS
# allow outside production.
LOCAL_PLATFORM = UrlPolicy(allow_http=True, allow_private=True)


@pytest.fixture
def platform() -> Iterator[TestPlatform]:
    running = TestPlatform(LOGIN_URL, LAUNCH_URL)
    running.start()
    yield running
    running.stop()


@pytest.fixture
def lti_school(
    db_app: Flask, platform: TestPlatform, monkeypatch: pytest.MonkeyPatch
) -> dict[str, Any]:
    """School A (code = the deployment id) with accounts; the platform registered for it; P1
    linked to the platform by sub, T1 known by a OneRoster sourcedId only."""
    # A fresh key cache per test, refetching at once on an unknown kid.
    monkeypatch.setitem(
        db_app.extensions, _KEYS, PlatformKeyCache(cooldown_seconds=0, policy=LOCAL_PLATFORM)
    )
    with db_app.app_context(), new_session() as session:
        world = build_school_world(session, SERVICE_URL)
        people = world["people"]
        # Accounts of the pupil and the teacher the launches sign in (argon2 is slow: only two).
        for name, role in (("P1", "pupil"), ("T1", "teacher")):
            create_account(
                session,
                f"{name.lower()}@school.example.jp",
                PASSWORD,
                role,
                "B113210000015",
                person_id=people[name].id,
            )
        registered = register_platform(
            session,
            issuer=ISSUER,
            client_id=CLIENT_ID,
            auth_login_url=platform.auth_url,
            token_url=platform.token_url,
            jwks_url=platform.jwks_url,
            org_code="B113210000015",
            unknown_users="refuse",
            policy=LOCAL_PLATFORM,  # the test platform serves plain http on localhost
        )
        deployment = add_deployment(session, registered.id, DEPLOYMENT_ID)
        assert deployment.org_id == world["school_a"].id  # the deployment id is its school code
        link_identifier(session, people["P1"].id, platform_agent(ISSUER, PUPIL_SUB), source="lti")
        roster_agent = account_agent(oneroster_home_page(SERVICE_URL, "sourcedId"), "t-0001")
        link_identifier(session, people["T1"].id, roster_agent, source="oneroster")
        session.commit()
        return {
            "platform_id": registered.id,
            "ids": {name: person.public_id for name, person in people.items()},
            "person_ids": {name: person.id for name, person in people.items()},
        }


def launch(
    client: FlaskClient,
    platform: TestPlatform,
    pending: PendingLaunch,
    headers: dict[str, str] | None = None,
) -> TestResponse:
    """The browser's part: login initiation, the platform's authentication, the form post."""
    form = authenticated_form(client, platform, pending)
    return post_launch(client, form, headers)


def authenticated_form(
    client: FlaskClient, platform: TestPlatform, pending: PendingLaunch
) -> dict[str, Any]:
    started = client.get(platform.start_launch(pending))
    assert started.status_code == 302, started.get_data(as_text=True)
    return platform.authenticate(started.location)


def post_launch(
    client: FlaskClient, form: dict[str, Any], headers: dict[str, str] | None = None
) -> TestResponse:
    return client.post(
        f"{BASE}/lti/launch",
        data={"id_token": form["id_token"], "state": form["state"]},
        headers=headers or {},
    )


def pupil(**overrides: Any) -> PendingLaunch:
    fields: dict[str, Any] = {
        "user": PUPIL_SUB,
        "roles": ["http://purl.imsglobal.org/vocab/lis/v2/membership#Learner"],
    }
    return PendingLaunch(**(fields | overrides))


def teacher(**overrides: Any) -> PendingLaunch:
    fields: dict[str, Any] = {
        "user": "portal-user-t1",
        "roles": ["http://purl.imsglobal.org/vocab/lis/v2/membership#Instructor"],
        "claims": {
            "https://purl.imsglobal.org/spec/lti/claim/lis": {
                "person_sourcedid": TEACHER_SOURCED_ID
            }
        },
    }
    return PendingLaunch(**(fields | overrides))


def signed_in(client: FlaskClient) -> bool:
    """Whether the client's session is signed in (the portfolio does not send it to sign-in)."""
    answer = client.get(f"{BASE}/portfolio")
    return not (answer.status_code == 302 and "/sign-in" in answer.location)


def launched_count(app: Flask) -> int:
    with app.app_context(), new_session() as session:
        count = session.scalar(
            select(func.count())
            .select_from(StoredStatement)
            .where(StoredStatement.verb_id == LAUNCHED)
        )
    return int(count or 0)
