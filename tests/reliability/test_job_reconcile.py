"""Job rows reconciled with the queue (app.queue.reconcile_jobs, `flask ops reconcile-jobs`) on
the suite's database: nothing stays queued or running when nothing will ever run it, and
nothing finished is touched. With Redis (TEST_REDIS_URL): a job the queue lost is failed."""

from __future__ import annotations

import json
import os
from datetime import UTC, datetime, timedelta

from flask import Flask
from redis import Redis
from sqlalchemy import update

from app import create_app
from app.db import get_engine, new_session
from records.jobs import create_job, get_job, set_status
from records.models import BackgroundJob
from tests.conftest import SERVICE_URL, need_service


def _job(app: Flask, status: str, *, age: timedelta, rq_id: str | None = None) -> str:
    with app.app_context(), new_session() as session:
        job_id = create_job(session, "roster_import", org_id=None, requested_by=None)
        session.execute(
            update(BackgroundJob)
            .where(BackgroundJob.id == job_id)
            .values(status=status, rq_id=rq_id, updated_at=datetime.now(UTC) - age)
        )
        session.commit()
    return job_id


def _status(app: Flask, job_id: str) -> tuple[str, str]:
    with app.app_context(), new_session() as session:
        job = get_job(session, job_id)
    return job.status, job.error


def test_an_interrupted_in_process_job_is_failed_once_older_than_a_job_may_run(
    db_app: Flask,
) -> None:
    stale = _job(db_app, "running", age=timedelta(hours=2))
    waiting = _job(db_app, "queued", age=timedelta(hours=2))
    recent = _job(db_app, "running", age=timedelta(minutes=5))
    done = _job(db_app, "finished", age=timedelta(days=3))
    result = db_app.test_cli_runner().invoke(args=["ops", "reconcile-jobs", "--json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.output) == {"requeued": 0, "failed": 2}
    for job_id in (stale, waiting):
        status, error = _status(db_app, job_id)
        assert status == "failed"
        assert "stopped before it finished" in error
    assert _status(db_app, recent) == ("running", "")  # may still be running: left alone
    assert _status(db_app, done) == ("finished", "")


def test_queueing_never_undoes_a_run_that_started_or_ended(db_app: Flask) -> None:
    """The web process notes the rq id after enqueueing; a fast worker may be done by then."""
    job_ids = {s: _job(db_app, s, age=timedelta(0)) for s in ("running", "finished", "failed")}
    with db_app.app_context(), new_session() as session:
        for job_id in job_ids.values():
            set_status(session, job_id, "queued", rq_id="rq-1")
        session.commit()
    for status, job_id in job_ids.items():
        assert _status(db_app, job_id)[0] == status
    with db_app.app_context(), new_session() as session:
        noted = {session.get(BackgroundJob, j) for j in job_ids.values()}
        assert {row.rq_id for row in noted if row is not None} == {"rq-1"}


def test_a_job_the_queue_lost_is_failed_with_the_reason(db_app: Flask) -> None:
    url = os.environ.get("TEST_REDIS_URL")
    if not url:
        need_service("Redis", "TEST_REDIS_URL is not set")
    app = create_app(
        {
            "TESTING": True,
            "DATABASE_URL": db_app.config["DATABASE_URL"],
            "SECRET_KEY": "test-secret-key-not-for-production",
            "PUBLIC_URL": SERVICE_URL,
            "REDIS_URL": url,
        }
    )
    lost = _job(db_app, "queued", age=timedelta(minutes=1), rq_id="no-such-rq-job-anywhere")
    Redis.from_url(str(url)).delete("rq:job:no-such-rq-job-anywhere")
    result = app.test_cli_runner().invoke(args=["ops", "reconcile-jobs", "--json"])
    with app.app_context():
        get_engine().dispose()
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["failed"] == 1
    status, error = _status(db_app, lost)
    assert status == "failed"
    assert "lost this job" in error
