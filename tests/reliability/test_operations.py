"""What operators see: /healthz, /readyz, request ids, JSON log lines, Prometheus metrics."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import text

from app import create_app
from app.db import get_engine
from app.observability import JsonFormatter, redact
from tests.conftest import SERVICE_URL


@pytest.fixture
def log_lines() -> Iterator[Callable[[], list[dict[str, Any]]]]:
    """log_lines() -> the JSON lines written since the fixture started, parsed."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter())
    root = logging.getLogger()
    old_level = root.level
    root.addHandler(handler)
    root.setLevel(logging.INFO)
    yield lambda: [json.loads(line) for line in stream.getvalue().splitlines()]
    root.removeHandler(handler)
    root.setLevel(old_level)


def test_healthz_answers_alive(client: FlaskClient) -> None:
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.get_json() == {"status": "alive"}


def test_readyz_is_ready_with_database_at_head_and_no_redis(client: FlaskClient) -> None:
    response = client.get("/readyz")
    assert response.status_code == 200
    body = response.get_json()
    assert body["status"] == "ready"
    assert body["checks"]["database"]["status"] == "ok"
    assert body["checks"]["migrations"]["status"] == "ok"
    assert body["checks"]["redis"]["status"] == "not configured"


def _app(database_url: str, tmp_path: Any, redis_url: str | None = None) -> Flask:
    application = create_app(
        {
            "TESTING": True,
            "DATABASE_URL": database_url,
            "SECRET_KEY": "test-secret-key-not-for-production",
            "PUBLIC_URL": SERVICE_URL,
            "REDIS_URL": redis_url,
        }
    )
    application.instance_path = str(tmp_path)
    return application


def test_readyz_is_503_when_the_schema_is_behind(tmp_path: Any) -> None:
    application = _app(f"sqlite:///{tmp_path / 'empty.sqlite3'}", tmp_path)
    response = application.test_client().get("/readyz")
    assert response.status_code == 503
    assert response.headers["Retry-After"]
    body = response.get_json()
    assert body["status"] == "unavailable"
    assert body["checks"]["migrations"]["status"] == "behind"
    assert "flask db upgrade" in body["checks"]["migrations"]["message"]


def test_readyz_is_degraded_when_redis_is_configured_but_down(app: Flask, tmp_path: Any) -> None:
    # Port 9 (discard) has nothing listening: a Redis that is down.
    application = _app(app.config["DATABASE_URL"], tmp_path, "redis://127.0.0.1:9/0")
    response = application.test_client().get("/readyz")
    assert response.status_code == 200
    body = response.get_json()
    assert body["status"] == "degraded"
    assert body["checks"]["redis"]["status"] == "down"
    assert "127.0.0.1" not in json.dumps(body)  # no connection details to the world
    with application.app_context():
        get_engine().dispose()


def test_readyz_is_503_when_the_database_is_unreachable(tmp_path: Any) -> None:
    # A directory cannot be opened as a database file.
    application = _app(f"sqlite:///{tmp_path}", tmp_path)
    response = application.test_client().get("/readyz")
    assert response.status_code == 503
    body = response.get_json()
    assert body["checks"]["database"]["status"] == "down"
    assert body["checks"]["migrations"]["status"] == "unknown"


def test_request_id_is_echoed_or_made(client: FlaskClient) -> None:
    given = client.get("/healthz", headers={"X-Request-Id": "device-42.lesson-3"})
    assert given.headers["X-Request-Id"] == "device-42.lesson-3"
    made = client.get("/healthz")
    other = client.get("/healthz")
    assert made.headers["X-Request-Id"]
    assert other.headers["X-Request-Id"]
    assert made.headers["X-Request-Id"] != other.headers["X-Request-Id"]
    # Something that is not a plain token (header injection, a huge value) is replaced.
    odd = client.get("/healthz", headers={"X-Request-Id": "x" * 200})
    assert odd.headers["X-Request-Id"] != "x" * 200


def test_every_log_line_of_a_request_is_json_with_its_request_id(
    client: FlaskClient,
    lrs: dict[str, str],
    statement_factory: Callable[..., dict[str, Any]],
    log_lines: Callable[[], list[dict[str, Any]]],
) -> None:
    response = client.post(
        "/xapi/statements?agent=secret",
        json=[statement_factory()],
        headers={**lrs, "X-Request-Id": "req-abc"},
    )
    assert response.status_code == 400  # POST takes no parameters
    response = client.post(
        "/xapi/statements", json=[statement_factory()], headers={**lrs, "X-Request-Id": "req-def"}
    )
    assert response.status_code == 200
    lines = log_lines()
    access = [line for line in lines if line["logger"] == "ashiato.access"]
    assert [(a["request_id"], a["status"]) for a in access] == [("req-abc", 400), ("req-def", 200)]
    assert all(a["path"] == "/xapi/statements" for a in access)  # never the query string
    for line in lines:
        assert {"time", "level", "logger", "request_id", "message"} <= line.keys()
    text_of_logs = json.dumps(lines, ensure_ascii=False)
    credential = lrs["Authorization"].split()[1]
    assert credential not in text_of_logs
    assert "山田" not in text_of_logs  # the actor's name in the statement
    assert "pupil-0001" not in text_of_logs


def test_log_messages_are_masked() -> None:
    assert "abc123" not in redact("Authorization: Basic abc123==")
    assert "tok" not in redact("Bearer tok.en")
    assert "hanako@example.jp" not in redact("actor mailto:hanako@example.jp unknown")
    assert "hunter2" not in redact("password=hunter2")
    assert redact("stored 5 statements") == "stored 5 statements"


def _metric(text_: str, name: str, labels: dict[str, str] | None = None) -> float:
    from prometheus_client.parser import text_string_to_metric_families

    total = 0.0
    for family in text_string_to_metric_families(text_):
        for sample in family.samples:
            wanted = labels or {}
            if sample.name == name and all(sample.labels.get(k) == v for k, v in wanted.items()):
                total += sample.value
    return total


def test_metrics_count_requests_latencies_statements_and_jobs(
    client: FlaskClient,
    lrs: dict[str, str],
    statement_factory: Callable[..., dict[str, Any]],
    db_app: Flask,
) -> None:
    before = client.get("/metrics").get_data(as_text=True)
    batch = [statement_factory() for _ in range(3)]
    assert client.post("/xapi/statements", json=batch, headers=lrs).status_code == 200
    assert client.post("/xapi/statements", json={"bad": 1}, headers=lrs).status_code == 400
    with db_app.app_context(), get_engine().begin() as conn:
        conn.execute(
            text(
                "INSERT INTO background_jobs (id, kind, status, progress_done, progress_total,"
                " result, error, created_at, updated_at) VALUES ('j1', 'roster_import', 'failed',"
                " 0, 0, '{}', 'bad file', CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)"
            )
        )
    response = client.get("/metrics")
    assert response.status_code == 200
    assert response.mimetype == "text/plain"
    after = response.get_data(as_text=True)

    def grew(name: str, labels: dict[str, str] | None = None) -> float:
        return _metric(after, name, labels) - _metric(before, name, labels)

    ok = {"endpoint": "xapi.statements", "method": "POST", "status": "200"}
    assert grew("ashiato_http_requests_total", ok) == 1
    assert grew("ashiato_http_requests_total", {**ok, "status": "400"}) == 1
    assert grew("ashiato_http_request_duration_seconds_count", {"endpoint": "xapi.statements"}) == 2
    assert grew("ashiato_statements_stored_total") == 3
    assert _metric(after, "ashiato_jobs", {"kind": "roster_import", "status": "failed"}) == 1
