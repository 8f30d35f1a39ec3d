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


def choose(
    client: FlaskClient, location: str, kind: str, unit: str, points: str = ""
) -> tuple[str, str]:
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
            "points": points,
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
    # It asks for a gradebook column, which the teacher's assessments go to (AGS).
    assert item["lineItem"] == {
        "scoreMaximum": 10,
        "label": item["title"],
        "resourceId": "ashiato:reflection:分数",
        "tag": "ashiato",
    }
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


def test_the_teacher_chooses_the_points_and_a_platform_may_refuse_line_items(
    db_app: Flask, platform: TestPlatform, lti_school: dict[str, Any]
) -> None:
    platform.tool_jwks = db_app.test_client().get(f"{BASE}/lti/jwks.json").get_json()
    client = db_app.test_client()
    claims = teacher().claims | deep_linking_request(platform)
    answer = launch(client, platform, teacher(message_type="LtiDeepLinkingRequest", claims=claims))
    page, _ = choose(client, answer.location, "goal", "漢字", points="20")
    [item] = platform.accept_deep_link(_field(page, "JWT"))
    assert item["lineItem"]["scoreMaximum"] == 20
    assert platform.line_items[0]["tag"] == "ashiato"
    claims = teacher().claims | deep_linking_request(platform, accept_lineitem=False)
    answer = launch(client, platform, teacher(message_type="LtiDeepLinkingRequest", claims=claims))
    page, _ = choose(client, answer.location, "activity", "")
    [item] = platform.accept_deep_link(_field(page, "JWT"))
    assert "lineItem" not in item
    assert item["custom"] == {"activity": "activity"}


@pytest.mark.parametrize("points", ["0", "1001", "ten", "-5"])
def test_unusable_points_are_refused(
    db_app: Flask, platform: TestPlatform, lti_school: dict[str, Any], points: str
) -> None:
    client = db_app.test_client()
    claims = teacher().claims | deep_linking_request(platform)
    answer = launch(client, platform, teacher(message_type="LtiDeepLinkingRequest", claims=claims))
    client.environ_base["HTTP_REFERER"] = f"{BASE}/"
    text = client.get(BASE + answer.location).get_data(as_text=True)
    refused = client.post(
        f"{BASE}/lti/deep-link",
        data={
            "csrf_token": _field(text, "csrf_token"),
            "request": _field(text, "request"),
            "kind": "reflection",
            "unit": "分数",
            "points": points,
        },
    )
    assert refused.status_code == 400
    assert "points" in html.unescape(refused.get_data(as_text=True))


def test_deep_linking_data_is_returned_exactly_as_sent(
    db_app: Flask, platform: TestPlatform, lti_school: dict[str, Any]
) -> None:
    platform.tool_jwks = db_app.test_client().get(f"{BASE}/lti/jwks.json").get_json()
    data = "  " + "x" * 600 + "  "  # longer than a title, with spaces at both ends
    client = db_app.test_client()
    claims = teacher().claims | deep_linking_request(platform, data=data)
    answer = launch(client, platform, teacher(message_type="LtiDeepLinkingRequest", claims=claims))
    page, _ = choose(client, answer.location, "reflection", "分数")
    config = platform.config()
    config.get_registration().set_tool_key_set(platform.tool_jwks)
    decoded = config.tool_validate_and_decode(_field(page, "JWT"))
    assert decoded["https://purl.imsglobal.org/spec/lti-dl/claim/data"] == data
