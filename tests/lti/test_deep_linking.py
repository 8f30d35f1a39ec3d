"""Deep Linking 2.0 round trip: the teacher picks "write a reflection on unit X", the platform
(lti1p3platform) verifies our signed LtiDeepLinkingResponse with our published key set, and a
pupil launching the placed link lands on the reflection form."""

from __future__ import annotations

import html
import re
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from tests.lti.conftest import BASE, launch, pupil, signed_in, teacher
from tests.lti.platform import DEPLOYMENT_ID, ISSUER, TestPlatform

pytestmark = pytest.mark.db

DL_SETTINGS = "https://purl.imsglobal.org/spec/lti-dl/claim/deep_linking_settings"
CUSTOM = "https://purl.imsglobal.org/spec/lti/claim/custom"


def deep_linking_request(platform: TestPlatform, **claims: Any) -> dict[str, Any]:
    settings = {
        "deep_link_return_url": platform.base_url + "/deep-link-return",
        "accept_types": ["ltiResourceLink"],
        "accept_presentation_document_targets": ["iframe", "window"],
        "data": "opaque-platform-data",
    }
    return {
        DL_SETTINGS: settings | claims,
        "https://purl.imsglobal.org/spec/lti/claim/resource_link": None,
    }


def _field(page: str, name: str) -> str:
    found = re.search(rf'name="{name}" value="([^"]+)"', page)
    assert found is not None, page
    return html.unescape(found.group(1))


def choose(client: FlaskClient, location: str, kind: str, unit: str) -> tuple[str, str]:
    """The response page and its Content-Security-Policy."""
    client.environ_base["HTTP_REFERER"] = f"{BASE}/"  # flask-wtf checks it on HTTPS posts
    page = client.get(BASE + location)
    assert page.status_code == 200, page.get_data(as_text=True)
    text = page.get_data(as_text=True)
    answer = client.post(
        f"{BASE}/lti/deep-link",
        data={
            "csrf_token": _field(text, "csrf_token"),
            "request": _field(text, "request"),
            "kind": kind,
            "unit": unit,
        },
    )
    assert answer.status_code == 200, answer.get_data(as_text=True)
    return answer.get_data(as_text=True), answer.headers["Content-Security-Policy"]


def test_deep_linking_round_trip_places_a_reflection_that_opens_the_reflection_form(
    db_app: Flask, platform: TestPlatform, lti_school: dict[str, Any]
) -> None:
    client = db_app.test_client()
    claims = teacher().claims | deep_linking_request(platform)
    answer = launch(client, platform, teacher(message_type="LtiDeepLinkingRequest", claims=claims))
    assert answer.status_code == 302, answer.get_data(as_text=True)
    assert answer.location.startswith("/lti/deep-link?request=")
    page, policy = choose(client, answer.location, "reflection", "分数")
    # The page's policy lets its form post to the platform (and nowhere else).
    assert f"form-action 'self' {platform.base_url};" in policy
    assert f'action="{platform.base_url}/deep-link-return"' in page
    response_jwt = _field(page, "JWT")
    # The platform verifies our response with the key set we publish.
    config = platform.config()
    config.get_registration().set_tool_key_set(client.get(f"{BASE}/lti/jwks.json").get_json())
    items = config.validate_deeplinking_resp({"JWT": response_jwt})
    decoded = config.tool_validate_and_decode(response_jwt)
    assert decoded["aud"] == ISSUER
    assert decoded["https://purl.imsglobal.org/spec/lti/claim/deployment_id"] == DEPLOYMENT_ID
    assert decoded["https://purl.imsglobal.org/spec/lti-dl/claim/data"] == "opaque-platform-data"
    assert len(items) == 1
    item = items[0]
    assert item["type"] == "ltiResourceLink"
    assert item["custom"] == {"activity": "reflection", "unit": "分数"}
    assert "分数" in item["title"]
    # The pupil launches the placed link: the reflection form opens.
    pupil_client = db_app.test_client()
    opened = launch(pupil_client, platform, pupil(claims={CUSTOM: item["custom"]}))
    assert opened.status_code == 302
    assert "/portfolio/new?kind=reflection" in opened.location
    assert pupil_client.get(BASE + opened.location).status_code == 200


def test_a_learner_cannot_deep_link(
    db_app: Flask, platform: TestPlatform, lti_school: dict[str, Any]
) -> None:
    client = db_app.test_client()
    answer = launch(
        client,
        platform,
        pupil(message_type="LtiDeepLinkingRequest", claims=deep_linking_request(platform)),
    )
    assert answer.status_code == 403
    assert not signed_in(client)


def test_a_deep_linking_request_without_return_url_is_refused(
    db_app: Flask, platform: TestPlatform, lti_school: dict[str, Any]
) -> None:
    claims = teacher().claims | deep_linking_request(platform, deep_link_return_url=None)
    answer = launch(
        db_app.test_client(), platform, teacher(message_type="LtiDeepLinkingRequest", claims=claims)
    )
    assert answer.status_code == 401


def test_a_changed_deep_linking_page_is_refused(
    db_app: Flask, platform: TestPlatform, lti_school: dict[str, Any]
) -> None:
    client = db_app.test_client()
    claims = teacher().claims | deep_linking_request(platform)
    answer = launch(client, platform, teacher(message_type="LtiDeepLinkingRequest", claims=claims))
    assert answer.status_code == 302
    forged = client.get(BASE + answer.location + "x")
    assert forged.status_code == 401
