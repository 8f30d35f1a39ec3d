"""Work that needs a job while Redis is down: done in-process (app.queue.enqueue falls back),
never a bare 500, never a job row left "queued" that no worker will ever run."""

from __future__ import annotations

from pathlib import Path

import pytest
from flask import Flask

from app import create_app
from app.db import get_engine
from app.queue import enqueue
from tests.conftest import SERVICE_URL


@pytest.fixture
def app_with_redis_down(app: Flask, tmp_path: Path) -> Flask:
    application = create_app(
        {
            "TESTING": False,  # answers as in production: no exception reaches the test
            "DATABASE_URL": app.config["DATABASE_URL"],
            "SECRET_KEY": "test-secret-key-not-for-production",
            "PUBLIC_URL": SERVICE_URL,
            "REDIS_URL": "redis://127.0.0.1:9/0",  # nothing listens on the discard port
            "WTF_CSRF_ENABLED": False,
            "LOG_JSON": False,
        }
    )
    application.instance_path = str(tmp_path)

    @application.get("/test-only/needs-a-job")
    def needs_a_job() -> dict[str, str | None]:
        return {"job": enqueue("analytics", "app.jobs.refresh_rollups")}

    return application


def test_a_request_needing_a_job_still_gets_it_done_when_redis_is_down(
    app_with_redis_down: Flask, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level("WARNING", logger="app.queue"):
        response = app_with_redis_down.test_client().get("/test-only/needs-a-job")
    with app_with_redis_down.app_context():
        get_engine().dispose()
    assert response.status_code == 200
    assert response.get_json() == {"job": None}  # ran in-process, not queued
    assert "Redis unavailable" in caplog.text
