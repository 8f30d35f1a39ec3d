"""SSRF refusals through the app: registrations (CLI and admin page) refuse URLs Ashiato must not
call, key sets and services are fetched only from allowed addresses, and service URLs a launch
or an operator names must be on the registered platform's origins."""

from __future__ import annotations

import html
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from app.db import new_session
from app.lti_common import url_policy
from app.lti_views import _KEYS
from lti.models import LtiContext, LtiPlatform
from lti.net import UrlPolicy
from lti.platform_keys import PlatformKeyCache
from records.organisations import create_organisation
from tests.lti.conftest import BASE, launch, launched_count, pupil, signed_in, teacher
from tests.lti.platform import DEPLOYMENT_ID, TestPlatform
from tests.lti.test_admin_pages import _csrf, admins  # noqa: F401 - the fixture

pytestmark = pytest.mark.db

SCHOOL = "B113210000015"
GOOD = {
    "--issuer": "https://portal.example.jp",
    "--client-id": "c-1",
    "--auth-url": "https://portal.example.jp/auth",
    "--token-url": "https://portal.example.jp/token",
    "--jwks-url": "https://portal.example.jp/jwks",
    "--org": SCHOOL,
}


@pytest.fixture
def production_urls(db_app: Flask, monkeypatch: pytest.MonkeyPatch) -> None:
    """What production allows: https and public addresses only."""
    monkeypatch.setitem(db_app.config, "LTI_ALLOW_HTTP", False)
    monkeypatch.setitem(db_app.config, "LTI_ALLOW_PRIVATE_URLS", False)


def test_the_url_policy_is_strict_in_production_and_set_by_flags() -> None:
    assert url_policy({"PRODUCTION": True}) == UrlPolicy(allow_http=False, allow_private=False)
    assert url_policy({"PRODUCTION": False}) == UrlPolicy(allow_http=True, allow_private=True)
    strict_dev = url_policy({"PRODUCTION": False, "LTI_ALLOW_PRIVATE_URLS": False})
    assert (strict_dev.allow_http, strict_dev.allow_private) == (True, False)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (("--jwks-url", "https://127.0.0.1/jwks"), "key-set URL is refused"),
        (("--jwks-url", "https://localhost:8443/jwks"), "local host name"),
        (("--jwks-url", "http://portal.example.jp/jwks"), "not an https URL"),
        (("--token-url", "https://169.254.169.254/latest/meta-data"), "169.254.169.254"),
        (("--token-url", "https://[::1]/token"), "token endpoint is refused"),
        (("--token-url", "https://10.0.0.1/token"), "private"),
        (("--token-url", "https://[::ffff:192.168.1.1]/token"), "refused"),
        (("--auth-url", "http://portal.example.jp/auth"), "auth endpoint is refused"),
        (("--issuer", "http://portal.example.jp"), "issuer is refused"),
    ],
)
def test_the_cli_refuses_urls_ashiato_must_not_call(
    db_app: Flask, production_urls: None, change: tuple[str, str], message: str
) -> None:
    with db_app.app_context(), new_session() as session:
        create_organisation(session, SCHOOL, "千代田区立第一小学校")
        session.commit()
    args = GOOD | {change[0]: change[1]}
    flat = [part for pair in args.items() for part in pair]
    result = db_app.test_cli_runner().invoke(args=["lti", "register-platform", *flat])
    assert result.exit_code != 0
    assert message in result.output, result.output
    with db_app.app_context(), new_session() as session:
        assert session.scalars(select(LtiPlatform)).all() == []


@pytest.mark.parametrize(
    ("field", "url", "message"),
    [
        ("jwks_url", "https://127.0.0.1:9000/jwks", "key-set URL is refused"),
        ("token_url", "https://169.254.169.254/token", "169.254.169.254"),
        ("jwks_url", "http://portal2.example.jp/jwks", "not an https URL"),
    ],
)
def test_the_admin_page_refuses_urls_ashiato_must_not_call(
    db_app: Flask,
    production_urls: None,
    admins: dict[str, FlaskClient],  # noqa: F811 - the fixture
    field: str,
    url: str,
    message: str,
) -> None:
    admin = admins["A"]
    page = admin.get(f"{BASE}/lti/schools/{SCHOOL}/platforms").get_data(as_text=True)
    form = {
        "csrf_token": _csrf(page),
        "issuer": "https://portal2.example.jp",
        "client_id": "c-2",
        "auth_login_url": "https://portal2.example.jp/auth",
        "token_url": "https://portal2.example.jp/token",
        "jwks_url": "https://portal2.example.jp/jwks",
        "unknown_users": "refuse",
    } | {field: url}
    answer = admin.post(f"{BASE}/lti/schools/{SCHOOL}/platforms", data=form)
    assert answer.status_code == 400
    assert message in html.unescape(answer.get_data(as_text=True))
    with db_app.app_context(), new_session() as session:
        assert (
            session.scalars(select(LtiPlatform).where(LtiPlatform.client_id == "c-2")).all() == []
        )


def test_a_key_set_on_a_private_address_is_not_fetched_when_the_policy_forbids_it(
    db_app: Flask,
    platform: TestPlatform,
    lti_school: dict[str, Any],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Registered on localhost while allowed (development); production refuses to fetch it."""
    strict = PlatformKeyCache(cooldown_seconds=0, policy=UrlPolicy(allow_http=True))
    monkeypatch.setitem(db_app.extensions, _KEYS, strict)
    client = db_app.test_client()
    answer = launch(client, platform, pupil())
    assert answer.status_code == 401
    page = html.unescape(answer.get_data(as_text=True))
    assert "key-set URL is refused" in page
    assert "127.0.0.1" in page
    assert platform.jwks_requests == 0
    assert not signed_in(client)
    assert launched_count(db_app) == 0


def _nrps_and_ags(memberships: str, lineitems: str) -> dict[str, Any]:
    return {
        "https://purl.imsglobal.org/spec/lti-nrps/claim/namesroleservice": {
            "context_memberships_url": memberships,
            "service_versions": ["2.0"],
        },
        "https://purl.imsglobal.org/spec/lti-ags/claim/endpoint": {"lineitems": lineitems},
    }


def test_service_urls_a_launch_claims_on_another_origin_are_not_kept(
    db_app: Flask, platform: TestPlatform, lti_school: dict[str, Any]
) -> None:
    claims = teacher().claims | _nrps_and_ags(
        "https://evil.example.jp/memberships", platform.base_url + "/lineitems"
    )
    assert launch(db_app.test_client(), platform, teacher(claims=claims)).status_code == 302
    with db_app.app_context(), new_session() as session:
        course = session.scalars(select(LtiContext)).one()
        assert course.memberships_url is None
        assert course.lineitems_url == platform.base_url + "/lineitems"
    # A later launch claiming a metadata address is not kept either.
    claims = teacher().claims | _nrps_and_ags(
        platform.base_url + "/memberships", "http://169.254.169.254/lineitems"
    )
    assert launch(db_app.test_client(), platform, teacher(claims=claims)).status_code == 302
    with db_app.app_context(), new_session() as session:
        course = session.scalars(select(LtiContext)).one()
        assert course.memberships_url == platform.base_url + "/memberships"
        assert course.lineitems_url == platform.base_url + "/lineitems"


@pytest.mark.parametrize(
    "command",
    [
        ["sync-members", "--deployment", DEPLOYMENT_ID, "--class", "4-2", "--memberships-url"],
        ["line-items", "--lineitems-url"],
        [
            "post-score",
            "--pupil",
            "P1",
            "--teacher",
            "T1",
            "--score",
            "1",
            "--max",
            "2",
            "--lineitem",
        ],
    ],
)
@pytest.mark.parametrize(
    "url", ["https://evil.example.jp/api", "http://169.254.169.254/latest/meta-data"]
)
def test_the_cli_calls_services_only_on_the_platforms_origins(
    db_app: Flask,
    platform: TestPlatform,
    lti_school: dict[str, Any],
    command: list[str],
    url: str,
) -> None:
    platform.tool_jwks = db_app.test_client().get(f"{BASE}/lti/jwks.json").get_json()
    args = [lti_school["ids"].get(part, part) for part in command]
    result = db_app.test_cli_runner().invoke(
        args=["lti", args[0], "--platform", str(lti_school["platform_id"]), *args[1:], url]
    )
    assert result.exit_code != 0
    assert "registered origins" in result.output, result.output
    assert platform.token_requests == 0


def test_services_on_a_private_address_are_not_called_when_the_policy_forbids_it(
    db_app: Flask,
    platform: TestPlatform,
    lti_school: dict[str, Any],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setitem(db_app.config, "LTI_ALLOW_PRIVATE_URLS", False)  # http still allowed
    platform.tool_jwks = db_app.test_client().get(f"{BASE}/lti/jwks.json").get_json()
    result = db_app.test_cli_runner().invoke(
        args=[
            "lti",
            "sync-members",
            "--platform",
            str(lti_school["platform_id"]),
            "--deployment",
            DEPLOYMENT_ID,
            "--memberships-url",
            platform.base_url + "/memberships",
            "--class",
            "4-2",
            "--json",
        ]
    )
    assert result.exit_code != 0
    assert "127.0.0.1" in result.output
    assert "loopback" in result.output
    assert platform.token_requests == 0
