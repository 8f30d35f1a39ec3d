"""The tamper set: each launch is refused with a 4xx page that says why, and nobody is signed in
or recorded. The platform signs every token with its real key unless the case says otherwise."""

from __future__ import annotations

import html
import time
from collections.abc import Callable
from typing import Any

import pytest
from flask import Flask

from tests.lti.conftest import (
    BASE,
    authenticated_form,
    launch,
    launched_count,
    post_launch,
    pupil,
    signed_in,
)
from tests.lti.platform import CLIENT_ID, TestPlatform, new_private_pem

pytestmark = pytest.mark.db

LTI = "https://purl.imsglobal.org/spec/lti/claim/"
Claims = dict[str, Any]
Header = dict[str, Any]


def claims_change(**changes: Any) -> Callable[[TestPlatform], Any]:
    """Tamper by changing claims (None removes one); signed with the platform's key."""

    def make(platform: TestPlatform) -> Any:
        def tamper(claims: Claims, header: Header) -> tuple[Claims, Header, Any]:
            for name, value in changes.items():
                claims[name.replace("LTI_", LTI)] = value
            return claims, header, platform.private_pem

        return tamper

    return make


def other_key(kid: str | None) -> Callable[[TestPlatform], Any]:
    """Signed with a key that is not the platform's, under its kid or another one."""

    def make(platform: TestPlatform) -> Any:
        stranger = new_private_pem()

        def tamper(claims: Claims, header: Header) -> tuple[Claims, Header, Any]:
            header["kid"] = kid or header["kid"]
            return claims, header, stranger

        return tamper

    return make


def header_alg(alg: str, key: Any) -> Callable[[TestPlatform], Any]:
    def make(platform: TestPlatform) -> Any:
        def tamper(claims: Claims, header: Header) -> tuple[Claims, Header, Any]:
            header["alg"] = alg
            return claims, header, key

        return tamper

    return make


def times(iat: int, exp: int) -> Callable[[TestPlatform], Any]:
    now = int(time.time())
    return claims_change(iat=now + iat, exp=now + exp)


CASES: dict[str, tuple[Callable[[TestPlatform], Any], str]] = {
    "wrong aud": (claims_change(aud="someone-else", azp=None), "aud"),
    "multi-aud, wrong azp": (claims_change(aud=[CLIENT_ID, "other-tool"], azp="other-tool"), "azp"),
    "multi-aud, no azp": (claims_change(aud=[CLIENT_ID, "other-tool"], azp=None), "azp"),
    "single aud, wrong azp": (claims_change(azp="other-tool"), "azp"),
    "wrong iss": (claims_change(iss="https://evil.example.jp"), "issuer"),
    "unknown deployment": (claims_change(LTI_deployment_id="B113299999999"), "deployment"),
    "wrong nonce": (claims_change(nonce="a-nonce-we-never-issued"), "nonce"),
    "missing nonce": (claims_change(nonce=None), "nonce"),
    "missing sub": (claims_change(sub=None), "sub"),
    "expired": (times(iat=-3600, exp=-600), "expired"),
    "issued in the future": (times(iat=3600, exp=4000), "future"),
    "no exp": (claims_change(exp=None), "exp"),
    "bad signature": (other_key(kid=None), "signature"),
    "unknown kid": (other_key(kid="kid-nobody-published"), "kid-nobody-published"),
    "alg none": (header_alg("none", None), "'none'"),
    "alg HS256": (header_alg("HS256", "a-shared-secret-nobody-has-1234567890"), "HS256"),
    "missing resource link": (claims_change(LTI_resource_link=None), "resource link"),
    "resource link without id": (claims_change(LTI_resource_link={"title": "x"}), "resource link"),
    "wrong LTI version": (claims_change(LTI_version="1.1.0"), "version"),
    "unsupported message type": (claims_change(LTI_message_type="LtiStartProctoring"), "type"),
    "other target_link_uri": (claims_change(LTI_target_link_uri="https://evil.example/"), "target"),
    "no roles": (claims_change(LTI_roles=None), "roles"),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_tampered_launch_is_refused(
    case: str, db_app: Flask, platform: TestPlatform, lti_school: dict[str, Any]
) -> None:
    make, reason = CASES[case]
    client = db_app.test_client()
    answer = launch(client, platform, pupil(tamper=make(platform)))
    assert 400 <= answer.status_code < 500, answer.get_data(as_text=True)
    page = html.unescape(answer.get_data(as_text=True))
    assert reason in page, page
    assert not signed_in(client)
    assert launched_count(db_app) == 0


def test_replayed_state_is_refused(
    db_app: Flask, platform: TestPlatform, lti_school: dict[str, Any]
) -> None:
    first = db_app.test_client()
    form = authenticated_form(first, platform, pupil())
    state_cookie = first.get_cookie(
        f"lti1p3-state-{form['state']}", domain="lrs.test", path="/lti/"
    )
    assert state_cookie is not None
    assert post_launch(first, form).status_code == 302
    replay = db_app.test_client()
    replay.set_cookie(state_cookie.key, state_cookie.value, domain="lrs.test", path="/lti/")
    answer = post_launch(replay, form)
    assert answer.status_code == 401
    assert "used already" in answer.get_data(as_text=True)
    assert not signed_in(replay)
    assert launched_count(db_app) == 1


def test_replayed_id_token_with_a_fresh_state_is_refused(
    db_app: Flask, platform: TestPlatform, lti_school: dict[str, Any]
) -> None:
    first = db_app.test_client()
    old = authenticated_form(first, platform, pupil())
    assert post_launch(first, old).status_code == 302
    attacker = db_app.test_client()
    fresh = authenticated_form(attacker, platform, pupil())
    answer = post_launch(attacker, {"id_token": old["id_token"], "state": fresh["state"]})
    assert answer.status_code == 401
    assert "nonce" in answer.get_data(as_text=True)
    assert not signed_in(attacker)
    assert launched_count(db_app) == 1


def test_a_refused_launch_cannot_be_retried_with_the_same_state(
    db_app: Flask, platform: TestPlatform, lti_school: dict[str, Any]
) -> None:
    client = db_app.test_client()
    form = authenticated_form(
        client, platform, pupil(tamper=claims_change(LTI_version="1.1")(platform))
    )
    assert post_launch(client, form).status_code == 401
    assert "used already" in post_launch(client, form).get_data(as_text=True)


def test_launch_without_state_or_token_is_refused(
    db_app: Flask, lti_school: dict[str, Any]
) -> None:
    client = db_app.test_client()
    assert client.post(f"{BASE}/lti/launch", data={}).status_code == 401
    assert (
        client.post(f"{BASE}/lti/launch", data={"state": "x", "id_token": "y"}).status_code == 401
    )
    assert not signed_in(client)


LOGIN = f"{BASE}/lti/login"


@pytest.mark.parametrize(
    ("params", "reason"),
    [
        ({"iss": "https://unknown.example.jp"}, "not registered"),
        ({"target_link_uri": "https://evil.example/lti/launch"}, "target_link_uri"),
        ({"login_hint": ""}, "login_hint"),
        ({"lti_deployment_id": "B113299999999"}, "deployment"),
        ({"client_id": "another-client"}, "not registered"),
    ],
)
def test_unusable_login_initiation_is_refused(
    params: dict[str, str],
    reason: str,
    db_app: Flask,
    platform: TestPlatform,
    lti_school: dict[str, Any],
) -> None:
    from tests.lti.platform import query_of

    good = query_of(platform.start_launch(pupil()))
    answer = db_app.test_client().post(LOGIN, data=good | params)
    assert answer.status_code == 400
    assert reason in answer.get_data(as_text=True)
    assert "lti1p3-state-" not in answer.headers.get("Set-Cookie", "")


def test_an_unknown_kid_refetches_the_key_set_once_and_not_again_within_the_cooldown(
    db_app: Flask,
    platform: TestPlatform,
    lti_school: dict[str, Any],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from app.lti_views import _KEYS
    from lti.platform_keys import PlatformKeyCache
    from tests.lti.conftest import LOCAL_PLATFORM

    assert launch(db_app.test_client(), platform, pupil()).status_code == 302
    assert platform.jwks_requests == 1
    unknown = pupil(tamper=other_key(kid="kid-nobody-published")(platform))
    assert launch(db_app.test_client(), platform, unknown).status_code == 401
    assert platform.jwks_requests == 2  # refetched once for the unknown kid, not more
    # With a cooldown, a storm of unknown kids refetches nothing more.
    cache = PlatformKeyCache(cooldown_seconds=60, policy=LOCAL_PLATFORM)
    monkeypatch.setitem(db_app.extensions, _KEYS, cache)
    assert launch(db_app.test_client(), platform, pupil()).status_code == 302
    for _ in range(3):
        unknown = pupil(tamper=other_key(kid="kid-nobody-published")(platform))
        assert launch(db_app.test_client(), platform, unknown).status_code == 401
    assert platform.jwks_requests == 3


def test_the_key_set_is_fetched_again_when_its_ttl_has_passed(
    db_app: Flask,
    platform: TestPlatform,
    lti_school: dict[str, Any],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from app.lti_views import _KEYS
    from lti.platform_keys import PlatformKeyCache
    from tests.lti.conftest import LOCAL_PLATFORM

    cache = PlatformKeyCache(ttl_seconds=0.5, cooldown_seconds=60, policy=LOCAL_PLATFORM)
    monkeypatch.setitem(db_app.extensions, _KEYS, cache)
    assert launch(db_app.test_client(), platform, pupil()).status_code == 302
    assert launch(db_app.test_client(), platform, pupil()).status_code == 302
    assert platform.jwks_requests == 1
    time.sleep(0.6)
    assert launch(db_app.test_client(), platform, pupil()).status_code == 302
    assert platform.jwks_requests == 2


@pytest.mark.parametrize(
    ("iat", "exp"), [(-120, -30), (30, 300)], ids=["expired 30 s ago", "issued 30 s ahead"]
)
def test_clock_skew_within_the_leeway_is_accepted(
    iat: int, exp: int, db_app: Flask, platform: TestPlatform, lti_school: dict[str, Any]
) -> None:
    client = db_app.test_client()
    answer = launch(client, platform, pupil(tamper=times(iat=iat, exp=exp)(platform)))
    assert answer.status_code == 302, answer.get_data(as_text=True)
    assert signed_in(client)
