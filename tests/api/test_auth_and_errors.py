"""Authentication, scopes, tenant isolation, the version header, and the shape of every error."""

from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import Callable
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from app.db import new_session
from records.credentials import revoke_credential
from tests.api.lrs_client import (
    BOUNDARY,
    STATEMENTS,
    Lrs,
    activity,
    agent,
    assert_error,
    credential_key,
    multipart_body,
    new_id,
)

MakeStatement = Callable[..., dict[str, Any]]

VERSION = {"X-Experience-API-Version": "1.0.3"}
LESSON = "https://contents.example.jp/math/p4/fractions/unit-1"
HANAKO = agent("pupil-hanako")
STATE = {"activityId": LESSON, "agent": json.dumps(HANAKO), "stateId": "bookmark"}


def basic(user_pass: bytes) -> dict[str, str]:
    return {"Authorization": "Basic " + base64.b64encode(user_pass).decode(), **VERSION}


def assert_unauthorized(response: Any) -> None:
    assert_error(response, 401)
    assert response.headers["WWW-Authenticate"].startswith("Basic realm=")


# --- authentication ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "headers",
    [
        pytest.param(VERSION, id="no-authorization"),
        pytest.param({"Authorization": "Bearer abc", **VERSION}, id="not-basic"),
        pytest.param({"Authorization": "Basic", **VERSION}, id="basic-without-credentials"),
        pytest.param({"Authorization": "Basic !!!not-base64!!!", **VERSION}, id="not-base64"),
        pytest.param(basic(b"no-colon-here"), id="no-colon"),
        pytest.param(basic(b":secret-only"), id="empty-key"),
        pytest.param(basic(b"key-only:"), id="empty-secret"),
        pytest.param(basic(b"\xff\xfe:\xfd"), id="not-utf8"),
        pytest.param(basic(b"0123456789abcdef0123456789abcdef:wrong"), id="unknown-key"),
    ],
)
def test_requests_without_valid_credentials_are_unauthorized(
    client: FlaskClient, make_credential: Callable[..., dict[str, str]], headers: dict[str, str]
) -> None:
    make_credential("all")  # a credential exists; these headers are not it

    for path in (STATEMENTS, "/xapi/activities/state", "/xapi/agents"):
        assert_unauthorized(client.get(path, headers=headers))


def test_right_key_with_wrong_secret_is_unauthorized(
    client: FlaskClient, make_credential: Callable[..., dict[str, str]]
) -> None:
    key = credential_key(make_credential("all"))

    assert_unauthorized(client.get(STATEMENTS, headers=basic(f"{key}:wrong".encode())))


def test_revoked_credential_is_refused_at_once(
    db_app: Flask, xapi: Lrs, make_statement: MakeStatement
) -> None:
    assert xapi.get().status_code == 200

    with db_app.app_context(), new_session() as session:
        revoke_credential(session, credential_key(xapi.headers))
        session.commit()

    assert_unauthorized(xapi.get())
    assert_unauthorized(xapi.post(make_statement()))


def test_revocation_refuses_writes_of_a_credential_authenticated_moments_ago(
    db_app: Flask, xapi: Lrs, make_statement: MakeStatement
) -> None:
    # The first write leaves the credential in the process's memory (app/lrs_auth.py); the
    # writer's own check in its transaction still refuses every write after the revocation.
    assert xapi.post(make_statement()).status_code == 200

    with db_app.app_context(), new_session() as session:
        revoke_credential(session, credential_key(xapi.headers))
        session.commit()

    answer = xapi.post(make_statement())
    assert_unauthorized(answer)
    assert "revoked" in answer.get_json()["error"]["message"]
    assert_unauthorized(xapi.put(make_statement(), new_id()))


# --- scopes ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("scopes", "method", "path", "params", "body"),
    [
        ("statements/read", "POST", STATEMENTS, {}, "statement"),
        ("statements/read", "PUT", STATEMENTS, {"statementId": new_id()}, "statement"),
        ("all/read", "POST", STATEMENTS, {}, "statement"),
        ("state", "GET", STATEMENTS, {}, None),
        ("statements/write", "GET", STATEMENTS, {}, None),
        ("profile", "GET", STATEMENTS, {}, None),
        ("statements/write", "GET", "/xapi/activities/state", STATE, None),
        ("profile", "PUT", "/xapi/activities/state", STATE, "document"),
        ("state", "GET", "/xapi/agents/profile", {"agent": STATE["agent"]}, None),
        ("all/read", "PUT", "/xapi/activities/state", STATE, "document"),
        ("all/read", "DELETE", "/xapi/activities/state", STATE, None),
        ("statements/write", "GET", "/xapi/agents", {"agent": STATE["agent"]}, None),
    ],
)
def test_credential_without_the_scope_is_forbidden(
    lrs_as: Callable[..., Lrs],
    make_statement: MakeStatement,
    stored_counts: Callable[[], dict[str, int]],
    scopes: str,
    method: str,
    path: str,
    params: dict[str, str],
    body: str | None,
) -> None:
    xapi = lrs_as(scopes)
    data = {
        "statement": json.dumps(make_statement()).encode(),
        "document": b'{"page": 1}',
        None: None,
    }[body]
    before = stored_counts()

    response = xapi.send(method, data or b"", "application/json", path, **params)

    assert "scope" in assert_error(response, 403)
    assert stored_counts() == before


@pytest.mark.parametrize(
    ("scopes", "method", "path", "params", "status"),
    [
        ("statements/read", "GET", STATEMENTS, {}, 200),
        ("all/read", "GET", STATEMENTS, {}, 200),
        ("statements/read/mine", "GET", STATEMENTS, {}, 200),
        ("state", "GET", "/xapi/activities/state", STATE, 404),
        ("all/read", "GET", "/xapi/activities/state", STATE, 404),
        ("profile", "GET", "/xapi/agents/profile", {"agent": STATE["agent"]}, 200),
        ("state", "GET", "/xapi/activities", {"activityId": LESSON}, 200),
        ("profile", "GET", "/xapi/agents", {"agent": STATE["agent"]}, 200),
    ],
)
def test_credential_with_the_scope_is_let_through(
    lrs_as: Callable[..., Lrs],
    scopes: str,
    method: str,
    path: str,
    params: dict[str, str],
    status: int,
) -> None:
    response = lrs_as(scopes).send(method, b"", None, path, **params)

    assert response.status_code == status, response.get_data(as_text=True)


def test_read_mine_sees_only_the_statements_of_its_own_credential(
    lrs_as: Callable[..., Lrs], make_statement: MakeStatement
) -> None:
    mine = lrs_as("statements/write statements/read/mine")
    everyone = lrs_as("all")
    [own] = mine.store(make_statement())
    [other] = everyone.store(make_statement())

    assert mine.query_ids() == [own]
    assert mine.query_ids(agent=make_statement()["actor"]) == [own]
    assert mine.statement(own)["id"] == own
    assert_error(mine.get(statementId=other), 404)
    assert set(everyone.query_ids()) == {own, other}


# --- organisations are separate ----------------------------------------------------------------


def test_another_organisation_sees_none_of_the_statements(
    lrs_as: Callable[..., Lrs], make_statement: MakeStatement
) -> None:
    school_a, school_b = lrs_as(org="school-a"), lrs_as(org="school-b")
    kept, voided = school_a.store(make_statement(), make_statement())
    [voider] = school_a.store(
        {
            "actor": HANAKO,
            "verb": {"id": "http://adlnet.gov/expapi/verbs/voided"},
            "object": {"objectType": "StatementRef", "id": voided},
        }
    )
    assert set(school_a.query_ids()) == {kept, voider}

    assert school_b.query() == []
    assert school_b.query(agent=make_statement()["actor"], related_agents=True) == []
    assert_error(school_b.get(statementId=kept), 404)
    assert_error(school_b.get(statementId=voider), 404)
    assert_error(school_b.get(voidedStatementId=voided), 404)


def test_the_same_statement_id_in_another_organisation_does_not_conflict(
    lrs_as: Callable[..., Lrs], make_statement: MakeStatement
) -> None:
    school_a, school_b = lrs_as(org="school-a"), lrs_as(org="school-b")
    statement_id = new_id()
    school_a.store(make_statement(id=statement_id))
    original = school_a.statement(statement_id)

    response = school_b.post(make_statement(id=statement_id, result={"completion": False}))

    assert response.status_code == 200
    assert school_b.statement(statement_id)["result"] == {"completion": False}
    assert school_a.statement(statement_id) == original


def test_voiding_in_another_organisation_does_not_void(
    lrs_as: Callable[..., Lrs], make_statement: MakeStatement
) -> None:
    school_a, school_b = lrs_as(org="school-a"), lrs_as(org="school-b")
    [statement_id] = school_a.store(make_statement())

    school_b.store(
        {
            "actor": HANAKO,
            "verb": {"id": "http://adlnet.gov/expapi/verbs/voided"},
            "object": {"objectType": "StatementRef", "id": statement_id},
        }
    )

    assert school_a.query_ids() == [statement_id]


def test_another_organisation_sees_none_of_the_documents(lrs_as: Callable[..., Lrs]) -> None:
    school_a, school_b = lrs_as(org="school-a"), lrs_as(org="school-b")
    agent_profile = {"agent": STATE["agent"], "profileId": "settings"}
    activity_profile = {"activityId": LESSON, "profileId": "settings"}
    creates = {"If-None-Match": "*"}
    for path, params in (
        ("/xapi/activities/state", STATE),
        ("/xapi/agents/profile", agent_profile),
        ("/xapi/activities/profile", activity_profile),
    ):
        response = school_a.client.put(
            path,
            query_string=params,
            data=b'{"school": "a"}',
            headers={**school_a.headers, **creates, "Content-Type": "application/json"},
        )
        assert response.status_code == 204

        assert_error(school_b.get(path, **params), 404)
        listing = {k: v for k, v in params.items() if k not in ("stateId", "profileId")}
        assert school_b.get(path, **listing).get_json() == []
        # Writing in school B creates B's own document; A's is untouched.
        written = school_b.send("POST", b'{"school": "b"}', "application/json", path, **params)
        assert written.status_code == 204
        assert school_a.get(path, **params).get_json() == {"school": "a"}
        assert school_b.get(path, **params).get_json() == {"school": "b"}


def test_another_organisation_does_not_see_activity_definitions(
    lrs_as: Callable[..., Lrs], make_statement: MakeStatement
) -> None:
    school_a, school_b = lrs_as(org="school-a"), lrs_as(org="school-b")
    school_a.store(make_statement(object=activity(LESSON, name={"ja": "分数"})))

    got = school_b.get("/xapi/activities", activityId=LESSON).get_json()

    assert got == {"objectType": "Activity", "id": LESSON}


def test_another_organisation_cannot_fetch_attachments(
    lrs_as: Callable[..., Lrs], make_statement: MakeStatement
) -> None:
    school_a, school_b = lrs_as(org="school-a"), lrs_as(org="school-b")
    content = "個人面談の記録".encode()
    attachment: dict[str, Any] = {
        "usageType": "http://id.tincanapi.com/attachment/supporting_media",
        "display": {"ja": "記録"},
        "contentType": "text/plain",
        "length": len(content),
        "sha2": hashlib.sha256(content).hexdigest(),
        "fileUrl": "https://files.example.jp/1.txt",
    }
    part = (
        {
            "Content-Type": "text/plain",
            "Content-Transfer-Encoding": "binary",
            "X-Experience-API-Hash": attachment["sha2"],
        },
        content,
    )
    body = multipart_body(make_statement(attachments=[attachment]), [part])
    assert school_a.send("POST", body, f"multipart/mixed; boundary={BOUNDARY}").status_code == 200
    # School B names the same hash (it may know it) but never sent the bytes.
    [statement_id] = school_b.store(make_statement(attachments=[attachment]))

    response = school_b.get(statementId=statement_id, attachments=True)

    assert response.status_code == 200
    assert content not in response.get_data()


# --- the version header ------------------------------------------------------------------------


@pytest.mark.parametrize("version", [None, "", "0.95", "1.1.0", "2.0.0", "1.0.3.1", "latest"])
def test_missing_or_unsupported_version_is_refused(
    xapi: Lrs, make_statement: MakeStatement, version: str | None
) -> None:
    headers = {k: v for k, v in xapi.headers.items() if k != "X-Experience-API-Version"}
    if version is not None:
        headers["X-Experience-API-Version"] = version

    for response in (
        xapi.client.get(STATEMENTS, headers=headers),
        xapi.client.post(STATEMENTS, json=make_statement(), headers=headers),
        xapi.client.get("/xapi/activities/state", query_string=STATE, headers=headers),
    ):
        assert "X-Experience-API-Version" in assert_error(response, 400)


@pytest.mark.parametrize("version", ["1.0.0", "1.0.1", "1.0.2", "1.0.3", "1.0"])
def test_every_1_0_version_is_accepted(xapi: Lrs, version: str) -> None:
    response = xapi.client.get(
        STATEMENTS, headers={**xapi.headers, "X-Experience-API-Version": version}
    )

    assert response.status_code == 200
    assert response.headers["X-Experience-API-Version"] == "1.0.3"


def test_about_needs_no_version_header(client: FlaskClient) -> None:
    assert client.get("/xapi/about").status_code == 200
    assert client.get("/xapi/about", headers={"X-Experience-API-Version": "9.9"}).status_code == 200


# --- malformed bodies --------------------------------------------------------------------------


def nested(depth: int) -> Any:
    value: Any = "deep"
    for _ in range(depth - 1):
        value = [value]
    return value


@pytest.mark.parametrize(
    ("body", "content_type"),
    [
        pytest.param(b"", "application/json", id="empty"),
        pytest.param(b"   ", "application/json", id="blank"),
        pytest.param(b'{"actor": ', "application/json", id="truncated"),
        pytest.param(b"{'actor': 1}", "application/json", id="single-quotes"),
        pytest.param(b'{"a": NaN}', "application/json", id="nan"),
        pytest.param(b'{"actor": "\xff\xfe"}', "application/json", id="invalid-utf8"),
        pytest.param(b"\xef\xbb\xbf{}", "application/json", id="bom"),
        pytest.param(json.dumps(nested(200)).encode(), "application/json", id="nested-200"),
        pytest.param(b"{}", "text/plain", id="text-plain"),
        pytest.param(b"{}", "application/x-www-form-urlencoded", id="form"),
        pytest.param(b"{}", None, id="no-content-type"),
        pytest.param(b"null", "application/json", id="null"),
        pytest.param(b"42", "application/json", id="number"),
        pytest.param(b"[[]]", "application/json", id="array-of-array"),
    ],
)
def test_malformed_statement_body_is_refused(
    xapi: Lrs, statement_count: Callable[[], int], body: bytes, content_type: str | None
) -> None:
    assert_error(xapi.send("POST", body, content_type), 400)
    assert_error(xapi.send("PUT", body, content_type, statementId=new_id()), 400)
    assert statement_count() == 0


def test_statement_nested_too_deep_in_extensions_is_refused(
    xapi: Lrs, make_statement: MakeStatement, statement_count: Callable[[], int]
) -> None:
    statement = make_statement(result={"extensions": {"https://example.jp/ext": nested(200)}})

    assert "deeper" in assert_error(xapi.post(statement), 400)
    assert statement_count() == 0


@pytest.mark.parametrize(("wrappers", "status"), [(60, 200), (61, 400)])
def test_the_depth_limit_is_64_levels(
    db_app: Flask,
    xapi: Lrs,
    make_statement: MakeStatement,
    statement_count: Callable[[], int],
    wrappers: int,
    status: int,
) -> None:
    assert db_app.config["MAX_JSON_DEPTH"] == 64
    value: Any = 1
    for _ in range(wrappers):
        value = {"k": value}
    # statement > result > extensions > the extension's value: the leaf is at 4 + wrappers.
    statement = make_statement(result={"extensions": {"https://example.jp/e": value}})

    assert xapi.post(statement).status_code == status
    assert statement_count() == (1 if status == 200 else 0)


def test_agent_parameter_nested_too_deep_is_refused(xapi: Lrs) -> None:
    assert_error(xapi.get(agent=json.dumps({"account": nested(200)})), 400)


def test_document_nested_too_deep_is_refused(xapi: Lrs) -> None:
    body = json.dumps({"a": nested(200)}).encode()

    assert_error(xapi.send("PUT", body, "application/json", "/xapi/activities/state", **STATE), 400)


@pytest.mark.parametrize(
    ("path", "params", "content_type"),
    [
        (STATEMENTS, {}, "application/json"),
        ("/xapi/activities/state", STATE, "application/octet-stream"),
    ],
)
def test_body_over_the_size_limit_is_413(
    db_app: Flask,
    xapi: Lrs,
    stored_counts: Callable[[], dict[str, int]],
    path: str,
    params: dict[str, str],
    content_type: str,
) -> None:
    limit = db_app.config["MAX_CONTENT_LENGTH"]
    assert limit == 2 * 1024 * 1024
    body = b'{"pad": "' + b"x" * limit + b'"}'
    before = stored_counts()

    response = xapi.send("POST", body, content_type, path, **params)

    assert "larger than" in assert_error(response, 413)
    assert stored_counts() == before


def test_body_just_under_the_size_limit_is_read(
    db_app: Flask, xapi: Lrs, make_statement: MakeStatement
) -> None:
    padding = "x" * (db_app.config["MAX_CONTENT_LENGTH"] - 4096)
    statement = make_statement(result={"response": padding})

    assert xapi.post(statement).status_code == 200


# --- every error is JSON, never a 500 ----------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "path", "status"),
    [
        ("GET", "/xapi/no-such-resource", 404),
        ("DELETE", STATEMENTS, 405),
        ("PATCH", "/xapi/activities/state", 405),
        ("POST", "/xapi/about", 405),
        ("POST", "/xapi/activities", 405),
    ],
)
def test_routing_errors_are_json(
    client: FlaskClient, lrs: dict[str, str], method: str, path: str, status: int
) -> None:
    assert_error(client.open(path, method=method, headers=lrs), status)


def test_cors_preflight_needs_no_credentials(client: FlaskClient) -> None:
    response = client.options(STATEMENTS)

    assert response.status_code == 200
    assert response.headers["Access-Control-Allow-Origin"] == "*"
    assert "X-Experience-API-Version" in response.headers["Access-Control-Allow-Headers"]


def test_a_credential_over_its_rate_limit_gets_429_with_retry_after(
    app: Flask, make_credential: Callable[..., dict[str, str]]
) -> None:
    headers = make_credential("all", org="rate-school")
    client = app.test_client()
    app.config["LRS_REQUESTS_PER_MINUTE"] = 3
    try:
        answers = [client.get("/xapi/statements", headers=headers).status_code for _ in range(5)]
        limited = client.get("/xapi/statements", headers=headers)
    finally:
        app.config["LRS_REQUESTS_PER_MINUTE"] = 60_000
    assert answers[:3] == [200, 200, 200]
    assert answers[3:] == [429, 429]
    assert int(limited.headers["Retry-After"]) >= 1
    assert "requests in a minute" in limited.get_json()["error"]["message"]
    other = make_credential("all", org="rate-school-2")  # another credential is not affected
    assert client.get("/xapi/statements", headers=other).status_code == 200
