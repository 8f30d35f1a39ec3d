"""/api/v1 transfer endpoints: who may export, follow and download; expiry; imports only by a
school admin; clear 4xx for bad input; the OpenAPI document lists them."""

from __future__ import annotations

import os
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from redis import Redis
from redis.exceptions import RedisError
from rq import Queue, SimpleWorker
from sqlalchemy import func, select, update

from app import create_app
from app.db import get_engine, new_session
from records.identity.accounts import create_account
from records.models import Upload
from records.portability.models import TransferExport, TransferExportChunk
from tests.conftest import SERVICE_URL, need_service
from tests.factories import PASSWORD
from tests.portability.world import SCHOOL_B, build_sender, token_for

pytestmark = pytest.mark.db


@pytest.fixture
def world(db_app: Flask) -> dict[str, Any]:
    hash_key = db_app.config["CREDENTIAL_HASH_KEY"].encode()
    with db_app.app_context(), new_session() as session:
        found = build_sender(session, SERVICE_URL, hash_key)
        create_account(session, "admin@b.example.jp", PASSWORD, "school_admin", SCHOOL_B)
        found["other_admin"] = token_for(session, "admin@b.example.jp", hash_key)
        session.commit()
    return found


def _export(client: FlaskClient, world: dict[str, Any], headers: dict[str, str]) -> Any:
    return client.post(f"/api/v1/learners/{world['pupil']}/exports", headers=headers)


def test_admin_exports_and_downloads(client: FlaskClient, world: dict[str, Any]) -> None:
    started = _export(client, world, world["admin"])
    assert started.status_code == 202
    body = started.get_json()
    assert body["status"] == "finished"
    assert body["counts"]["statements"] >= 10
    assert body["expires_at"] > body["created_at"]
    status = client.get(body["status_url"], headers=world["admin"])
    assert status.status_code == 200
    assert status.get_json()["sha256"] == body["sha256"]
    package = client.get(body["package_url"], headers=world["admin"])
    assert package.status_code == 200
    assert package.headers["Cache-Control"] == "no-store"
    assert len(package.data) == body["size"]


def test_the_pupil_may_export_their_own(client: FlaskClient, world: dict[str, Any]) -> None:
    started = _export(client, world, world["pupil_headers"])
    assert started.status_code == 202
    package = client.get(started.get_json()["package_url"], headers=world["pupil_headers"])
    assert package.status_code == 200
    assert package.data.startswith(b"PK")  # read to the end: the stream releases its session


def test_others_may_not(client: FlaskClient, world: dict[str, Any]) -> None:
    assert _export(client, world, world["teacher"]).status_code == 403
    assert _export(client, world, world["other_admin"]).status_code == 403
    assert _export(client, world, {}).status_code == 401
    started = _export(client, world, world["admin"]).get_json()
    assert client.get(started["package_url"], headers=world["other_admin"]).status_code == 403
    assert client.get(started["status_url"], headers=world["teacher"]).status_code == 403
    assert client.get(started["package_url"]).status_code == 401
    missing = client.post("/api/v1/learners/p-nobody/exports", headers=world["admin"])
    assert missing.status_code == 404


def test_expired_package_is_gone(db_app: Flask, client: FlaskClient, world: dict[str, Any]) -> None:
    started = _export(client, world, world["admin"]).get_json()
    with db_app.app_context(), new_session() as session:
        session.execute(
            update(TransferExport)
            .where(TransferExport.id == started["id"])
            .values(expires_at=datetime.now(UTC) - timedelta(seconds=1))
        )
        session.commit()
    gone = client.get(started["package_url"], headers=world["admin"])
    assert gone.status_code == 404
    assert "expired" in gone.get_json()["error"]["message"]
    assert client.get(started["status_url"], headers=world["admin"]).get_json()["expired"]
    _export(client, world, world["admin"])  # the next export clears expired packages away
    with db_app.app_context(), new_session() as session:
        left = session.scalar(
            select(func.count())
            .select_from(TransferExportChunk)
            .where(TransferExportChunk.export_id == started["id"])
        )
    assert left == 0


def test_import_needs_a_school_admin_and_a_package(
    db_app: Flask, client: FlaskClient, world: dict[str, Any]
) -> None:
    package = client.get(
        _export(client, world, world["admin"]).get_json()["package_url"], headers=world["admin"]
    ).data
    teacher = client.post("/api/v1/imports", headers=world["teacher"], data=package)
    assert teacher.status_code == 403
    empty = client.post("/api/v1/imports", headers=world["admin"], data=b"")
    assert empty.status_code == 400
    assert "send the transfer package" in empty.get_json()["error"]["message"]
    bad_school = client.post("/api/v1/imports?school=x", headers=world["admin"], data=package)
    assert bad_school.status_code == 400
    done = client.post("/api/v1/imports", headers=world["admin"], data=package)
    assert done.status_code == 202
    with db_app.app_context(), new_session() as session:
        assert session.scalar(select(func.count()).select_from(Upload)) == 0  # not kept
    job = done.get_json()
    assert job["status"] == "finished", job
    assert job["receipt"]["statements"]["imported"] == 0  # its own records, already here
    assert job["receipt"]["statements"]["conflicts"] == 0
    assert client.get(job["status_url"], headers=world["other_admin"]).status_code == 403
    assert client.get(job["status_url"], headers=world["admin"]).get_json()["id"] == job["id"]


def test_published_keys_and_profile(client: FlaskClient, world: dict[str, Any]) -> None:
    _export(client, world, world["admin"])
    keys = client.get("/api/v1/transfer/keys", headers=world["teacher"]).get_json()
    assert keys["keys"][0]["public_key"].startswith("z6Mk")
    assert keys["jwks"]["keys"][0]["crv"] == "Ed25519"
    assert "d" not in keys["jwks"]["keys"][0]
    assert "private" not in str(keys).lower()
    profile = client.get("/api/v1/transfer/profile", headers=world["teacher"]).get_json()
    assert profile["BagIt-Profile-Info"]["BagIt-Profile-Identifier"].endswith(".json")


def test_openapi_documents_the_transfer_endpoints(client: FlaskClient) -> None:
    paths = client.get("/api/v1/openapi.json").get_json()["paths"]
    for path in (
        "/learners/{public_id}/exports",
        "/exports/{export_id}",
        "/exports/{export_id}/package",
        "/imports",
        "/imports/{job_id}",
        "/transfer/keys",
    ):
        assert path in paths


@pytest.fixture
def redis_app(db_app: Flask) -> Any:
    url = os.environ.get("TEST_REDIS_URL")
    if not url:
        need_service("Redis", "set TEST_REDIS_URL to run the rq tests")
    redis = Redis.from_url(url)
    try:
        redis.ping()
    except RedisError as exc:
        need_service("Redis", f"Redis at {url} does not answer: {exc}")
    redis.flushdb()
    app = create_app({**db_app.config, "REDIS_URL": url})
    yield app, redis
    redis.flushdb()
    redis.close()
    with app.app_context():
        get_engine().dispose()


@pytest.mark.redis
def test_export_and_import_run_on_a_real_rq_worker(world: dict[str, Any], redis_app: Any) -> None:
    app, redis = redis_app
    client = app.test_client()
    started = _export(client, world, world["admin"]).get_json()
    assert started["status"] == "queued"
    assert client.get(started["package_url"], headers=world["admin"]).status_code == 404
    with app.app_context():
        assert SimpleWorker([Queue("exports", connection=redis)], connection=redis).work(burst=True)
    done = client.get(started["status_url"], headers=world["admin"]).get_json()
    assert done["status"] == "finished", done
    assert done["progress_done"] == done["progress_total"] == done["counts"]["statements"]
    package = client.get(started["package_url"], headers=world["admin"]).data
    queued = client.post("/api/v1/imports", headers=world["admin"], data=package).get_json()
    assert queued["status"] == "queued"
    with app.app_context():
        assert SimpleWorker([Queue("exports", connection=redis)], connection=redis).work(burst=True)
    imported = client.get(queued["status_url"], headers=world["admin"]).get_json()
    assert imported["status"] == "finished", imported
    assert imported["receipt"]["statements"]["skipped"] == done["counts"]["statements"]
