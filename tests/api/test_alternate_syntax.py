"""The Alternate Request Syntax (Communication 1.3): POST ?method=X, headers and body as fields."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any
from urllib.parse import urlencode

import pytest
from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from tests.api.lrs_client import STATEMENTS, Lrs, agent, assert_error, new_id

MakeStatement = Callable[..., dict[str, Any]]

FORM = "application/x-www-form-urlencoded"
STATE = "/xapi/activities/state"
LESSON = "https://contents.example.jp/math/p4/fractions/unit-1"
HANAKO = agent("pupil-hanako")


def tunnel(
    client: FlaskClient,
    path: str,
    method: str,
    fields: dict[str, str],
    query: str | None = None,
    content_type: str = FORM,
    http_method: str = "POST",
) -> TestResponse:
    """A request in the Alternate Request Syntax; only Content-Type travels as a real header."""
    return client.open(
        f"{path}?{query if query is not None else 'method=' + method}",
        method=http_method,
        data=urlencode(fields).encode(),
        headers={"Content-Type": content_type},
    )


def credentials(xapi: Lrs) -> dict[str, str]:
    """The credential's headers, as form fields."""
    return {
        "Authorization": xapi.headers["Authorization"],
        "X-Experience-API-Version": xapi.headers["X-Experience-API-Version"],
    }


def test_put_statement_through_the_alternate_syntax(
    xapi: Lrs, make_statement: MakeStatement
) -> None:
    statement_id = new_id()
    fields = {
        **credentials(xapi),
        "Content-Type": "application/json",
        "statementId": statement_id,
        "content": json.dumps(make_statement(), ensure_ascii=False),
    }

    response = tunnel(xapi.client, STATEMENTS, "PUT", fields)

    assert response.status_code == 204, response.get_data(as_text=True)
    assert xapi.statement(statement_id)["verb"] == make_statement()["verb"]


def test_post_statements_through_the_alternate_syntax(
    xapi: Lrs, make_statement: MakeStatement
) -> None:
    fields = {**credentials(xapi), "content": json.dumps([make_statement(), make_statement()])}

    response = tunnel(xapi.client, STATEMENTS, "POST", fields)

    assert response.status_code == 200, response.get_data(as_text=True)
    assert set(response.get_json()) == set(xapi.query_ids())


def test_get_statements_with_parameters_as_fields(xapi: Lrs, make_statement: MakeStatement) -> None:
    wanted, _ = xapi.store(
        make_statement(verb={"id": "http://adlnet.gov/expapi/verbs/passed"}), make_statement()
    )
    fields = {**credentials(xapi), "verb": "http://adlnet.gov/expapi/verbs/passed", "limit": "5"}

    response = tunnel(xapi.client, STATEMENTS, "GET", fields)

    assert response.status_code == 200, response.get_data(as_text=True)
    assert [st["id"] for st in response.get_json()["statements"]] == [wanted]


def test_get_one_statement_through_the_alternate_syntax(
    xapi: Lrs, make_statement: MakeStatement
) -> None:
    [statement_id] = xapi.store(make_statement())

    response = tunnel(
        xapi.client, STATEMENTS, "GET", {**credentials(xapi), "statementId": statement_id}
    )

    assert response.status_code == 200
    assert response.get_json()["id"] == statement_id


def test_state_document_round_trip_through_the_alternate_syntax(xapi: Lrs) -> None:
    address = {"activityId": LESSON, "agent": json.dumps(HANAKO), "stateId": "bookmark"}
    auth = credentials(xapi)

    put = tunnel(
        xapi.client,
        STATE,
        "PUT",
        {**auth, **address, "Content-Type": "application/json", "content": '{"page": 12}'},
    )
    assert put.status_code == 204, put.get_data(as_text=True)
    got = tunnel(xapi.client, STATE, "GET", {**auth, **address})
    assert got.status_code == 200
    assert got.get_json() == {"page": 12}

    assert tunnel(xapi.client, STATE, "DELETE", {**auth, **address}).status_code == 204
    assert_error(tunnel(xapi.client, STATE, "GET", {**auth, **address}), 404)


def test_concurrency_headers_travel_as_fields(xapi: Lrs) -> None:
    address = {**credentials(xapi), "activityId": LESSON, "profileId": "settings"}
    path = "/xapi/activities/profile"

    created = tunnel(xapi.client, path, "PUT", {**address, "If-None-Match": "*", "content": "{}"})
    assert created.status_code == 204, created.get_data(as_text=True)

    again = tunnel(xapi.client, path, "PUT", {**address, "If-None-Match": "*", "content": "{}"})
    assert_error(again, 412)
    assert_error(tunnel(xapi.client, path, "PUT", {**address, "content": "{}"}), 409)
    replaced = tunnel(
        xapi.client, path, "PUT", {**address, "If-Match": created.headers["ETag"], "content": "[]"}
    )
    assert replaced.status_code == 204


def test_authorization_is_needed_in_the_fields_too(
    client: FlaskClient, make_statement: MakeStatement
) -> None:
    fields = {"X-Experience-API-Version": "1.0.3", "content": json.dumps(make_statement())}

    response = tunnel(client, STATEMENTS, "POST", fields)

    assert_error(response, 401)


def test_version_is_needed_in_the_fields(xapi: Lrs) -> None:
    fields = {"Authorization": xapi.headers["Authorization"]}

    assert_error(tunnel(xapi.client, STATEMENTS, "GET", fields), 400)


# --- refused shapes ----------------------------------------------------------------------------


def test_other_query_parameters_beside_method_are_refused(
    xapi: Lrs, make_statement: MakeStatement, statement_count: Callable[[], int]
) -> None:
    statement_id = new_id()
    fields = {**credentials(xapi), "content": json.dumps(make_statement())}

    response = tunnel(
        xapi.client, STATEMENTS, "PUT", fields, query=f"method=PUT&statementId={statement_id}"
    )

    assert_error(response, 400)
    assert statement_count() == 0


def test_method_given_twice_is_refused(xapi: Lrs) -> None:
    response = tunnel(
        xapi.client, STATEMENTS, "GET", credentials(xapi), query="method=GET&method=PUT"
    )

    assert_error(response, 400)


@pytest.mark.parametrize(
    ("path", "http_method"), [(STATEMENTS, "GET"), (STATEMENTS, "PUT"), (STATE, "DELETE")]
)
def test_alternate_syntax_must_be_sent_as_post(xapi: Lrs, path: str, http_method: str) -> None:
    response = tunnel(xapi.client, path, "GET", credentials(xapi), http_method=http_method)

    assert "POST" in assert_error(response, 400)


def test_alternate_syntax_needs_a_form_body(xapi: Lrs) -> None:
    response = xapi.client.post(
        f"{STATEMENTS}?method=GET",
        data=b"{}",
        headers={**xapi.headers, "Content-Type": "application/json"},
    )

    assert_error(response, 400)


@pytest.mark.parametrize("method", ["PATCH", "OPTIONS", "CONNECT", ""])
def test_unknown_tunnelled_method_is_refused(xapi: Lrs, method: str) -> None:
    assert_error(tunnel(xapi.client, STATEMENTS, method, credentials(xapi)), 400)


def test_put_without_content_field_is_refused(
    xapi: Lrs, statement_count: Callable[[], int]
) -> None:
    fields = {**credentials(xapi), "statementId": new_id()}

    assert_error(tunnel(xapi.client, STATEMENTS, "PUT", fields), 400)
    assert statement_count() == 0


def test_form_body_that_is_not_utf8_is_refused(xapi: Lrs) -> None:
    response = xapi.client.post(
        f"{STATEMENTS}?method=GET", data=b"verb=\xff\xfe", headers={"Content-Type": FORM}
    )

    assert_error(response, 400)
