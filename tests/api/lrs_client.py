"""A thin xAPI client over Flask's test client, and the assertions every API test shares."""

from __future__ import annotations

import base64
import json
import os
import uuid
from collections.abc import Mapping
from typing import Any
from urllib.parse import parse_qs, urlsplit

from flask.testing import FlaskClient
from werkzeug.test import TestResponse

STATEMENTS = "/xapi/statements"
VOIDED = "http://adlnet.gov/expapi/verbs/voided"
SERVICE_URL = "http://lrs.test/"
# The suite runs on SQLite unless TEST_DATABASE_URL names another database (tests/conftest.py).
ON_SQLITE = os.environ.get("TEST_DATABASE_URL", "sqlite").startswith("sqlite")


def new_id() -> str:
    return str(uuid.uuid4())


def credential_key(headers: Mapping[str, str]) -> str:
    """The key of the credential whose Basic Authorization header this is."""
    token = headers["Authorization"].removeprefix("Basic ")
    return base64.b64decode(token).decode().split(":", 1)[0]


def encode_params(params: Mapping[str, Any]) -> dict[str, str]:
    """Query parameters as xAPI wants them: objects as JSON, booleans as true/false."""
    encoded: dict[str, str] = {}
    for name, value in params.items():
        if isinstance(value, bool):
            encoded[name] = "true" if value else "false"
        elif isinstance(value, dict | list):
            encoded[name] = json.dumps(value, ensure_ascii=False)
        else:
            encoded[name] = str(value)
    return encoded


def json_body(value: Any) -> bytes:
    """UTF-8 JSON; strings UTF-8 cannot carry (lone surrogates) go as \\u escapes."""
    try:
        return json.dumps(value, ensure_ascii=False).encode("utf-8")
    except UnicodeEncodeError:
        return json.dumps(value).encode("ascii")


def assert_error(response: TestResponse, status: int) -> str:
    """The response is `status` with the JSON error body every error has; returns its message."""
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.mimetype == "application/json"
    body = response.get_json()
    assert set(body) == {"error"}
    assert body["error"]["status"] == status
    message = body["error"]["message"]
    assert isinstance(message, str)
    assert message.strip()
    return message


def agent(name: str) -> dict[str, Any]:
    """An Agent identified by an account on the school's IdP."""
    return {
        "objectType": "Agent",
        "name": name,
        "account": {"homePage": "https://idp.example.jp/", "name": name},
    }


def activity(iri: str, **definition: Any) -> dict[str, Any]:
    out: dict[str, Any] = {"objectType": "Activity", "id": iri}
    if definition:
        out["definition"] = definition
    return out


def statement_ref(statement_id: str) -> dict[str, str]:
    return {"objectType": "StatementRef", "id": statement_id}


def voiding(target_id: str, **extra: Any) -> dict[str, Any]:
    return {
        "actor": {"objectType": "Agent", "mbox": "mailto:teacher@school.example.jp"},
        "verb": {"id": VOIDED, "display": {"en-US": "voided"}},
        "object": statement_ref(target_id),
        **extra,
    }


class Lrs:
    """xAPI requests made with one credential's headers."""

    def __init__(self, client: FlaskClient, headers: Mapping[str, str]) -> None:
        self.client = client
        self.headers = dict(headers)

    # --- raw requests ----------------------------------------------------------------------

    def post(self, body: Any, **params: Any) -> TestResponse:
        return self.client.post(
            STATEMENTS,
            query_string=encode_params(params),
            data=json_body(body),
            headers={**self.headers, "Content-Type": "application/json"},
        )

    def put(self, statement: Any, statement_id: str | None, **params: Any) -> TestResponse:
        if statement_id is not None:
            params = {"statementId": statement_id, **params}
        return self.client.put(
            STATEMENTS,
            query_string=encode_params(params),
            data=json_body(statement),
            headers={**self.headers, "Content-Type": "application/json"},
        )

    def send(
        self,
        method: str,
        data: bytes,
        content_type: str | None,
        path: str = STATEMENTS,
        **params: Any,
    ) -> TestResponse:
        """A request with a body as given (bytes) and that Content-Type (None: no header)."""
        headers = dict(self.headers)
        if content_type is not None:
            headers["Content-Type"] = content_type
        return self.client.open(
            path, method=method, query_string=encode_params(params), data=data, headers=headers
        )

    def get(self, path: str = STATEMENTS, **params: Any) -> TestResponse:
        return self.client.get(path, query_string=encode_params(params), headers=self.headers)

    # --- checked shortcuts -----------------------------------------------------------------

    def store(self, *statements: dict[str, Any]) -> list[str]:
        """POST the statements as one batch; they must be accepted. Returns their ids."""
        body: Any = statements[0] if len(statements) == 1 else list(statements)
        response = self.post(body)
        assert response.status_code == 200, response.get_data(as_text=True)
        ids = response.get_json()
        assert isinstance(ids, list)
        assert len(ids) == len(statements)
        return ids

    def statement(self, statement_id: str, **params: Any) -> dict[str, Any]:
        response = self.get(statementId=statement_id, **params)
        assert response.status_code == 200, response.get_data(as_text=True)
        result: dict[str, Any] = response.get_json()
        return result

    def query(self, **params: Any) -> list[dict[str, Any]]:
        """One page of a statement query (the first)."""
        response = self.get(**params)
        assert response.status_code == 200, response.get_data(as_text=True)
        statements: list[dict[str, Any]] = response.get_json()["statements"]
        return statements

    def query_ids(self, **params: Any) -> list[str]:
        return [st["id"] for st in self.query(**params)]

    def pages(self, **params: Any) -> list[list[dict[str, Any]]]:
        """Every page of a query, following `more` until it is empty."""
        return self.collect(self.get(**params))

    def collect(self, response: TestResponse) -> list[list[dict[str, Any]]]:
        """The statements of this answer's page and of every page its `more` links lead to."""
        pages = []
        for _ in range(1000):
            assert response.status_code == 200, response.get_data(as_text=True)
            body = response.get_json()
            pages.append(body["statements"])
            if body["more"] == "":
                return pages
            more = urlsplit(body["more"])
            assert more.path == STATEMENTS
            response = self.get(more.path, **{k: v[0] for k, v in parse_qs(more.query).items()})
        raise AssertionError("the `more` links never ended")


# --- multipart/mixed ---------------------------------------------------------------------------

BOUNDARY = "ashiato-test-boundary-7f3a"
Part = tuple[dict[str, str], bytes]


def multipart_body(first: Any, parts: list[Part], boundary: str = BOUNDARY) -> bytes:
    """A multipart/mixed body: the statement(s) as JSON, then the given (headers, bytes) parts."""
    chunks = [
        f"--{boundary}\r\nContent-Type: application/json\r\n\r\n".encode(),
        json.dumps(first, ensure_ascii=False).encode("utf-8"),
        b"\r\n",
    ]
    for headers, content in parts:
        head = "".join(f"{name}: {value}\r\n" for name, value in headers.items())
        chunks += [f"--{boundary}\r\n{head}\r\n".encode(), content, b"\r\n"]
    chunks.append(f"--{boundary}--\r\n".encode())
    return b"".join(chunks)


def parse_multipart(response: TestResponse) -> list[Part]:
    """The parts of a multipart/mixed response, headers lower-cased."""
    assert response.mimetype == "multipart/mixed"
    boundary = response.mimetype_params["boundary"].encode()
    body = response.get_data()
    assert body.endswith(b"--" + boundary + b"--\r\n")
    parts = []
    for chunk in body.split(b"--" + boundary)[1:-1]:
        assert chunk.startswith(b"\r\n")
        assert chunk.endswith(b"\r\n")
        head, _, content = chunk[2:-2].partition(b"\r\n\r\n")
        headers = {}
        for line in head.decode("latin-1").split("\r\n"):
            name, _, value = line.partition(":")
            headers[name.strip().lower()] = value.strip()
        parts.append((headers, content))
    return parts
