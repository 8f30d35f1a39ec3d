"""School admins register platforms and deployments for their own school only."""

from __future__ import annotations

import re
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from app.db import new_session
from lti.models import LtiDeployment, LtiPlatform
from records.identity.accounts import create_account
from records.models import Organisation
from tests.factories import PASSWORD
from tests.lti.conftest import BASE
from tests.lti.platform import ISSUER

pytestmark = pytest.mark.db

SCHOOL_A = "B113210000015"
SCHOOL_B = "B113211000013"


def _signed_in(app: Flask, email: str) -> FlaskClient:
    client = app.test_client()
    client.environ_base["HTTP_REFERER"] = f"{BASE}/"  # flask-wtf checks it on HTTPS posts
    token = _csrf(client.get(f"{BASE}/sign-in").get_data(as_text=True))
    answer = client.post(
        f"{BASE}/sign-in", data={"email": email, "password": PASSWORD, "csrf_token": token}
    )
    assert answer.status_code == 302
    return client


def _csrf(page: str) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert found is not None
    return found.group(1)


@pytest.fixture
def admins(db_app: Flask, lti_school: dict[str, Any]) -> dict[str, FlaskClient]:
    with db_app.app_context(), new_session() as session:
        create_account(session, "admin-a@school.example.jp", PASSWORD, "school_admin", SCHOOL_A)
        create_account(session, "admin-b@school.example.jp", PASSWORD, "school_admin", SCHOOL_B)
        session.commit()
    return {
        "A": _signed_in(db_app, "admin-a@school.example.jp"),
        "B": _signed_in(db_app, "admin-b@school.example.jp"),
    }


def test_a_school_admin_registers_a_platform_and_a_deployment_for_their_school(
    db_app: Flask, lti_school: dict[str, Any], admins: dict[str, FlaskClient]
) -> None:
    admin = admins["A"]
    page = admin.get(f"{BASE}/lti/schools/{SCHOOL_A}/platforms")
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    assert ISSUER in text
    assert "/lti/jwks.json" in text
    assert "/lti/login" in text
    answer = admin.post(
        f"{BASE}/lti/schools/{SCHOOL_A}/platforms",
        data={
            "csrf_token": _csrf(text),
            "title": "学習eポータル",
            "issuer": "https://portal2.example.jp",
            "client_id": "c-2",
            "auth_login_url": "https://portal2.example.jp/auth",
            "token_url": "https://portal2.example.jp/token",
            "jwks_url": "https://portal2.example.jp/jwks",
            "unknown_users": "create",
        },
    )
    assert answer.status_code == 302, answer.get_data(as_text=True)
    with db_app.app_context(), new_session() as session:
        new = session.scalars(select(LtiPlatform).where(LtiPlatform.client_id == "c-2")).one()
        assert new.unknown_users == "create"
        new_id = new.id
    # A deployment id that is another school's code still belongs to this school.
    added = admin.post(
        f"{BASE}/lti/schools/{SCHOOL_A}/platforms/{new_id}/deployments",
        data={"csrf_token": _csrf(text), "deployment_id": SCHOOL_B},
    )
    assert added.status_code == 302
    with db_app.app_context(), new_session() as session:
        deployment = session.scalars(
            select(LtiDeployment).where(LtiDeployment.platform_id == new_id)
        ).one()
        platform = session.get(LtiPlatform, new_id)
        assert platform is not None
        assert deployment.org_id == platform.org_id
    assert "学習eポータル" in admin.get(f"{BASE}/lti/schools/{SCHOOL_A}/platforms").get_data(
        as_text=True
    )


def test_a_form_without_csrf_token_is_refused(
    db_app: Flask, lti_school: dict[str, Any], admins: dict[str, FlaskClient]
) -> None:
    answer = admins["A"].post(
        f"{BASE}/lti/schools/{SCHOOL_A}/platforms",
        data={"issuer": "https://x.example.jp", "client_id": "c"},
    )
    assert answer.status_code == 400


def test_another_schools_admin_and_pupils_cannot_manage_registrations(
    db_app: Flask, lti_school: dict[str, Any], admins: dict[str, FlaskClient]
) -> None:
    other = admins["B"]
    assert other.get(f"{BASE}/lti/schools/{SCHOOL_A}/platforms").status_code == 403
    own = other.get(f"{BASE}/lti/schools/{SCHOOL_B}/platforms")
    assert own.status_code == 200
    assert ISSUER not in own.get_data(as_text=True)
    sneaky = other.post(
        f"{BASE}/lti/schools/{SCHOOL_B}/platforms/{lti_school['platform_id']}/deployments",
        data={"csrf_token": _csrf(own.get_data(as_text=True)), "deployment_id": "d-x"},
    )
    assert sneaky.status_code == 404
    pupil = _signed_in(db_app, "p1@school.example.jp")
    assert pupil.get(f"{BASE}/lti/schools/{SCHOOL_A}/platforms").status_code == 403


def test_a_system_admin_manages_any_schools_registrations(
    db_app: Flask, lti_school: dict[str, Any]
) -> None:
    with db_app.app_context(), new_session() as session:
        create_account(session, "ops@example.jp", PASSWORD, "system_admin", "131016")
        session.commit()
    ops = _signed_in(db_app, "ops@example.jp")
    for school in (SCHOOL_A, SCHOOL_B):
        page = ops.get(f"{BASE}/lti/schools/{school}/platforms")
        assert page.status_code == 200
    answer = ops.post(
        f"{BASE}/lti/schools/{SCHOOL_B}/platforms",
        data={
            "csrf_token": _csrf(page.get_data(as_text=True)),
            "issuer": "https://moodle.example.jp",
            "client_id": "m-1",
            "auth_login_url": "https://moodle.example.jp/auth",
            "token_url": "https://moodle.example.jp/token",
            "jwks_url": "https://moodle.example.jp/jwks",
            "unknown_users": "refuse",
        },
    )
    assert answer.status_code == 302, answer.get_data(as_text=True)
    with db_app.app_context(), new_session() as session:
        new = session.scalars(select(LtiPlatform).where(LtiPlatform.client_id == "m-1")).one()
        org_b = session.scalars(select(Organisation.id).where(Organisation.code == SCHOOL_B)).one()
        assert new.org_id == org_b


def test_a_school_admin_stops_and_resumes_a_platforms_launches(
    db_app: Flask,
    platform: Any,
    lti_school: dict[str, Any],
    admins: dict[str, FlaskClient],
) -> None:
    from tests.lti.conftest import launch, pupil

    admin = admins["A"]
    path = f"{BASE}/lti/schools/{SCHOOL_A}/platforms/{lti_school['platform_id']}/active"
    token = _csrf(admin.get(f"{BASE}/lti/schools/{SCHOOL_A}/platforms").get_data(as_text=True))
    # Another school's admin cannot.
    other = admins["B"]
    other_token = _csrf(
        other.get(f"{BASE}/lti/schools/{SCHOOL_B}/platforms").get_data(as_text=True)
    )
    sneaky = f"{BASE}/lti/schools/{SCHOOL_B}/platforms/{lti_school['platform_id']}/active"
    assert other.post(sneaky, data={"csrf_token": other_token, "active": "0"}).status_code == 404
    assert admin.post(path, data={"active": "0"}).status_code == 400  # no CSRF token
    assert admin.post(path, data={"csrf_token": token, "active": "0"}).status_code == 302
    page = admin.get(f"{BASE}/lti/schools/{SCHOOL_A}/platforms").get_data(as_text=True)
    assert 'name="active" value="1"' in page  # offers to allow launches again
    client = db_app.test_client()
    started = client.get(platform.start_launch(pupil()))
    assert started.status_code == 400  # the login initiation of an inactive platform
    assert admin.post(path, data={"csrf_token": token, "active": "1"}).status_code == 302
    assert launch(db_app.test_client(), platform, pupil()).status_code == 302
