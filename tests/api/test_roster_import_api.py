"""POST /api/v1/roster/imports runs the OneRoster import as a job (in-process without Redis,
on a real rq worker with it); GET /api/v1/jobs/<id> reports status, counts and problems."""

from __future__ import annotations

import os
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from redis import Redis
from rq import Queue, SimpleWorker

from app import create_app
from app.db import get_engine, new_session
from records.identity.accounts import create_account, create_token
from records.organisations import create_organisation
from tests.conftest import need_service
from tests.fixtures.roster import tokyo_roster

PASSWORD = "correct horse battery"


def _token(app: Flask, role: str, org_code: str, email: str) -> str:
    with app.app_context(), new_session() as session:
        try:
            create_organisation(session, org_code, f"{org_code} org")
        except Exception:
            session.rollback()
        create_account(session, email, PASSWORD, role, org_code)
        token = create_token(session, email, "test", app.config["CREDENTIAL_HASH_KEY"].encode())
        session.commit()
    return token


def _auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}", "Content-Type": "application/zip"}


def test_system_admin_imports_a_roster_and_sees_the_job_finish(
    db_app: Flask, client: FlaskClient
) -> None:
    token = _token(db_app, "system_admin", "ops", "ops@example.jp")
    answer = client.post(
        "/api/v1/roster/imports", data=tokyo_roster().files.to_zip(), headers=_auth(token)
    )
    assert answer.status_code == 202, answer.get_data(as_text=True)
    job = client.get(answer.get_json()["status_url"], headers=_auth(token)).get_json()
    assert job["status"] == "finished", job
    assert job["result"]["files"]["users.csv"]["created"] > 0
    assert job["progress_done"] == job["progress_total"] > 0


def test_a_broken_roster_fails_with_row_by_row_problems(db_app: Flask, client: FlaskClient) -> None:
    token = _token(db_app, "system_admin", "ops", "ops@example.jp")
    answer = client.post("/api/v1/roster/imports", data=b"not a zip", headers=_auth(token))
    assert answer.status_code == 202
    job = client.get(answer.get_json()["status_url"], headers=_auth(token)).get_json()
    assert job["status"] == "failed"
    assert job["error"]
    assert job["result"]["errors"][0]["message"]


def test_school_admin_may_not_import_other_schools_or_see_others_jobs(
    db_app: Flask, client: FlaskClient
) -> None:
    admin = _token(db_app, "school_admin", "other-school", "admin@other.example.jp")
    refused = client.post(
        "/api/v1/roster/imports", data=tokyo_roster().files.to_zip(), headers=_auth(admin)
    )
    assert refused.status_code == 403
    assert "not yours" in refused.get_json()["error"]["message"]
    teacher = _token(db_app, "teacher", "other-school", "teacher@other.example.jp")
    assert (
        client.post("/api/v1/roster/imports", data=b"x", headers=_auth(teacher)).status_code == 403
    )
    ops = _token(db_app, "system_admin", "ops", "ops@example.jp")
    started = client.post(
        "/api/v1/roster/imports", data=tokyo_roster().files.to_zip(), headers=_auth(ops)
    )
    status_url = started.get_json()["status_url"]
    assert client.get(status_url, headers=_auth(admin)).status_code == 403
    assert client.get("/api/v1/jobs/nope", headers=_auth(ops)).status_code == 404


@pytest.fixture
def redis_app(db_app: Flask) -> Any:
    url = os.environ.get("TEST_REDIS_URL")
    if not url:
        need_service("Redis", "set TEST_REDIS_URL to run the rq tests")
    redis = Redis.from_url(url)
    try:
        redis.ping()
    except Exception as exc:
        need_service("Redis", f"Redis at {url} does not answer: {exc}")
    redis.flushdb()
    app = create_app({**db_app.config, "REDIS_URL": url})
    yield app, redis
    redis.flushdb()
    redis.close()
    with app.app_context():
        get_engine().dispose()  # its own pool: close it, not leave it to the collector


@pytest.mark.redis
def test_import_runs_on_a_real_rq_worker(db_app: Flask, redis_app: Any) -> None:
    app, redis = redis_app
    token = _token(db_app, "system_admin", "ops", "ops@example.jp")
    client = app.test_client()
    answer = client.post(
        "/api/v1/roster/imports", data=tokyo_roster().files.to_zip(), headers=_auth(token)
    )
    assert answer.status_code == 202
    status_url = answer.get_json()["status_url"]
    assert client.get(status_url, headers=_auth(token)).get_json()["status"] == "queued"
    with app.app_context():
        worker = SimpleWorker([Queue("default", connection=redis)], connection=redis)
        assert worker.work(burst=True)
    job = client.get(status_url, headers=_auth(token)).get_json()
    assert job["status"] == "finished", job
    assert job["result"]["people_created"] > 0
