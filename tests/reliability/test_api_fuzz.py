"""schemathesis against /api/v1/openapi.json, signed in with a Bearer token of a system admin:
every operation, generated parameters and bodies, never a 5xx, and every 4xx with a message.

Bounded for CI (RELIABILITY_FUZZ_EXAMPLES per operation, default 25); the xAPI side is fuzzed by
tests/api/test_fuzz.py (hypothesis, statements and documents).
"""

from __future__ import annotations

import os
from typing import Any

import pytest
import schemathesis
from flask import Flask
from hypothesis import HealthCheck, given, settings

from app.db import get_engine, new_session
from records.identity.accounts import create_account, create_token
from tests.conftest import SERVICE_URL
from tests.factories import build_school_world

EXAMPLES = int(os.environ.get("RELIABILITY_FUZZ_EXAMPLES", "25"))


@pytest.fixture
def api_schema(db_app: Flask) -> Any:
    return schemathesis.openapi.from_wsgi("/api/v1/openapi.json", db_app)


@pytest.fixture
def bearer(db_app: Flask) -> dict[str, str]:
    with db_app.app_context(), new_session() as session:
        build_school_world(session, SERVICE_URL)
        create_account(
            session, "root@school.example.jp", "correct horse battery", "system_admin", "131016"
        )
        token = create_token(
            session, "root@school.example.jp", "fuzz", db_app.config["CREDENTIAL_HASH_KEY"].encode()
        )
        session.commit()
    return {"Authorization": f"Bearer {token}"}


def _fuzz(api_schema: Any, bearer: dict[str, str]) -> tuple[dict[str, int], dict[str, str]]:
    """Calls per operation, and the first failure of each operation that failed."""
    calls: dict[str, int] = {}
    failures: dict[str, str] = {}
    for result in api_schema.get_all_operations():
        operation = result.ok()
        calls[operation.label] = 0
        try:
            _fuzz_one(operation, bearer, calls)
        except Exception as exc:
            failures[operation.label] = f"{type(exc).__name__}: {str(exc)[:300]}"
    return calls, failures


def _fuzz_one(operation: Any, bearer: dict[str, str], calls: dict[str, int]) -> None:
    @given(case=operation.as_strategy())
    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        suppress_health_check=list(HealthCheck),
        derandomize=True,
        database=None,
    )
    def call(case: Any) -> None:
        calls[operation.label] += 1
        response = case.call(headers=bearer)
        assert response.status_code < 500, response.text[:300]
        if response.status_code >= 400 and "json" in response.headers.get("Content-Type", ""):
            assert response.json()["error"]["message"]

    call()


def test_api_never_answers_5xx(api_schema: Any, bearer: dict[str, str]) -> None:
    calls, failures = _fuzz(api_schema, bearer)
    print(f"schemathesis: {sum(calls.values())} calls over {len(calls)} operations")
    assert len(calls) >= 5  # the document lists the API, and each operation was called
    unexplained = {k: v for k, v in failures.items() if k not in KNOWN_DEFECTS}
    assert unexplained == {}


# Defects this fuzzer found are fixed and kept as the regression tests below.
KNOWN_DEFECTS: set[str] = set()


def test_people_paging_cursor_beyond_64_bits_is_a_400(
    db_app: Flask, bearer: dict[str, str]
) -> None:
    db_app.config["PROPAGATE_EXCEPTIONS"] = False
    try:
        response = db_app.test_client().get(
            "/api/v1/people", query_string={"after": str(2**63)}, headers=bearer
        )
    finally:
        db_app.config["PROPAGATE_EXCEPTIONS"] = None
    assert response.status_code == 400


def test_undo_of_a_merge_id_beyond_the_integer_range_is_a_404(
    db_app: Flask, bearer: dict[str, str]
) -> None:
    with db_app.app_context():
        too_big = 2**31 if get_engine().dialect.name == "postgresql" else 2**63
    db_app.config["PROPAGATE_EXCEPTIONS"] = False
    try:
        response = db_app.test_client().post(f"/api/v1/merges/{too_big}/undo", headers=bearer)
    finally:
        db_app.config["PROPAGATE_EXCEPTIONS"] = None
    assert response.status_code == 404
