"""The tool's key set (/lti/jwks.json), key rotation, and the `flask lti` commands."""

from __future__ import annotations

import json

import jwt
import pytest
from flask import Flask
from sqlalchemy import select

from app.db import new_session
from lti.errors import RegistrationError
from lti.models import LtiDeployment, LtiPlatform, LtiToolKey
from lti.registrations import register_platform
from records.organisations import create_organisation

pytestmark = pytest.mark.db

SCHOOL = "B113210000015"


def _school(app: Flask) -> None:
    with app.app_context(), new_session() as session:
        create_organisation(session, SCHOOL, "千代田区立第一小学校")
        create_organisation(session, "B113211000013", "千代田区立第二小学校")
        session.commit()


def test_key_set_publishes_the_current_key_and_rotation_keeps_the_previous_one(
    db_app: Flask,
) -> None:
    client = db_app.test_client()
    first = client.get("/lti/jwks.json")
    assert first.status_code == 200
    keys = first.get_json()["keys"]
    assert len(keys) == 1
    assert {keys[0]["kty"], keys[0]["alg"], keys[0]["use"]} == {"RSA", "RS256", "sig"}
    assert "d" not in keys[0]  # never the private part
    runner = db_app.test_cli_runner()
    assert runner.invoke(args=["lti", "rotate-keys"]).exit_code == 0
    second = [k["kid"] for k in client.get("/lti/jwks.json").get_json()["keys"]]
    assert len(second) == 2
    assert keys[0]["kid"] in second
    assert runner.invoke(args=["lti", "rotate-keys"]).exit_code == 0
    third = [k["kid"] for k in client.get("/lti/jwks.json").get_json()["keys"]]
    assert keys[0]["kid"] not in third
    assert len(third) == 2
    # The current key's signature verifies with the published key.
    with db_app.app_context(), new_session() as session:
        current = session.scalars(select(LtiToolKey).where(LtiToolKey.status == "current")).one()
        token = jwt.encode({"x": 1}, current.private_pem, "RS256", headers={"kid": current.kid})
    published = next(
        k for k in client.get("/lti/jwks.json").get_json()["keys"] if k["kid"] == current.kid
    )
    key = jwt.PyJWK.from_dict(published).key
    assert jwt.decode(token, key, algorithms=["RS256"]) == {"x": 1}


def test_cli_registers_a_platform_with_deployments(db_app: Flask) -> None:
    _school(db_app)
    runner = db_app.test_cli_runner()
    result = runner.invoke(
        args=[
            "lti",
            "register-platform",
            "--issuer",
            "https://portal.example.jp",
            "--client-id",
            "c-1",
            "--auth-url",
            "https://portal.example.jp/auth",
            "--token-url",
            "https://portal.example.jp/token",
            "--jwks-url",
            "https://portal.example.jp/jwks",
            "--org",
            SCHOOL,
            "--unknown-users",
            "create",
            "--deployment",
            "B113211000013",
            "--json",
        ]
    )
    assert result.exit_code == 0, result.output
    tool = json.loads(result.output)
    assert tool["launch_url"].endswith("/lti/launch")
    assert tool["login_url"].endswith("/lti/login")
    assert tool["jwks_url"].endswith("/lti/jwks.json")
    added = runner.invoke(
        args=["lti", "add-deployment", "--platform", str(tool["platform"]), "--deployment", "d-2"]
    )
    assert added.exit_code == 0, added.output
    with db_app.app_context(), new_session() as session:
        platform = session.scalars(select(LtiPlatform)).one()
        assert platform.unknown_users == "create"
        deployments = {d.deployment_id: d.org_id for d in session.scalars(select(LtiDeployment))}
    # A deployment id that is a school code belongs to that school; another to the platform's.
    assert deployments["d-2"] == platform.org_id
    assert deployments["B113211000013"] != platform.org_id
    listed = runner.invoke(args=["lti", "list"])
    assert "https://portal.example.jp" in listed.output


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (["--issuer", "not a url"], "issuer"),
        (["--org", "nowhere"], "no organisation"),
        (["--jwks-url", "file:///etc/passwd"], "key-set URL"),
    ],
)
def test_cli_refuses_unusable_registrations(db_app: Flask, change: list[str], message: str) -> None:
    _school(db_app)
    args = {
        "--issuer": "https://portal.example.jp",
        "--client-id": "c-1",
        "--auth-url": "https://portal.example.jp/auth",
        "--token-url": "https://portal.example.jp/token",
        "--jwks-url": "https://portal.example.jp/jwks",
        "--org": SCHOOL,
    }
    args[change[0]] = change[1]
    flat = [part for pair in args.items() for part in pair]
    result = db_app.test_cli_runner().invoke(args=["lti", "register-platform", *flat])
    assert result.exit_code != 0
    assert message in result.output
    with db_app.app_context(), new_session() as session:
        assert session.scalars(select(LtiPlatform)).all() == []


def test_cli_refuses_a_second_registration_of_the_same_client(db_app: Flask) -> None:
    _school(db_app)
    args = [
        "lti",
        "register-platform",
        "--issuer",
        "https://p.example.jp",
        "--client-id",
        "c",
        "--auth-url",
        "https://p.example.jp/a",
        "--token-url",
        "https://p.example.jp/t",
        "--jwks-url",
        "https://p.example.jp/k",
        "--org",
        SCHOOL,
    ]
    runner = db_app.test_cli_runner()
    assert runner.invoke(args=args).exit_code == 0
    again = runner.invoke(args=args)
    assert again.exit_code != 0
    assert "already registered" in again.output


def test_production_registrations_need_https(db_app: Flask) -> None:
    _school(db_app)
    with (
        db_app.app_context(),
        new_session() as session,
        pytest.raises(RegistrationError, match="https"),
    ):
        register_platform(
            session,
            issuer="https://portal.example.jp",
            client_id="c-1",
            auth_login_url="http://portal.example.jp/auth",
            token_url="https://portal.example.jp/token",
            jwks_url="https://portal.example.jp/jwks",
            org_code=SCHOOL,
        )


def test_cli_updates_deactivates_and_activates_a_registration(db_app: Flask) -> None:
    _school(db_app)
    runner = db_app.test_cli_runner()
    registered = runner.invoke(
        args=[
            "lti",
            "register-platform",
            "--issuer",
            "https://portal.example.jp",
            "--client-id",
            "c-1",
            "--auth-url",
            "https://portal.example.jp/auth",
            "--token-url",
            "https://portal.example.jp/token",
            "--jwks-url",
            "https://portal.example.jp/jwks",
            "--org",
            SCHOOL,
            "--json",
        ]
    )
    platform_id = str(json.loads(registered.output)["platform"])
    updated = runner.invoke(
        args=[
            "lti",
            "update-platform",
            "--platform",
            platform_id,
            "--jwks-url",
            "https://portal.example.jp/keys/v2",
            "--unknown-users",
            "create",
        ]
    )
    assert updated.exit_code == 0, updated.output
    refused = runner.invoke(
        args=["lti", "update-platform", "--platform", platform_id, "--jwks-url", "ftp://x.jp/"]
    )
    assert refused.exit_code != 0
    assert "key-set URL is refused" in refused.output
    assert runner.invoke(args=["lti", "deactivate", "--platform", platform_id]).exit_code == 0
    assert "inactive" in runner.invoke(args=["lti", "list"]).output
    with db_app.app_context(), new_session() as session:
        platform = session.scalars(select(LtiPlatform)).one()
        assert (platform.jwks_url, platform.unknown_users, platform.active) == (
            "https://portal.example.jp/keys/v2",
            "create",
            False,
        )
    assert runner.invoke(args=["lti", "activate", "--platform", platform_id]).exit_code == 0
    assert "\tactive" in runner.invoke(args=["lti", "list"]).output
    missing = runner.invoke(args=["lti", "deactivate", "--platform", "999999"])
    assert missing.exit_code != 0
    assert "no platform registration" in missing.output


def test_the_scheduled_rotation_publishes_a_new_key_beside_the_previous_one(
    db_app: Flask,
) -> None:
    """app/cron.py runs app.jobs.rotate_lti_tool_keys monthly (no Redis needed to call it)."""
    from app.jobs import rotate_lti_tool_keys

    client = db_app.test_client()
    [before] = client.get("/lti/jwks.json").get_json()["keys"]
    with db_app.app_context():
        rotate_lti_tool_keys()
    after = client.get("/lti/jwks.json").get_json()["keys"]
    assert [key["kid"] for key in after][1:] == [before["kid"]]
    assert after[0]["kid"] != before["kid"]
