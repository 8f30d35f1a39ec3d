"""Background jobs: rq when ASHIATO_REDIS_URL is set, otherwise run in-process.

Queue names are listed here once. Jobs are enqueued by dotted path with ids only.

A job whose worker dies (kill -9, out of memory, a machine lost) is retried or failed, never
left "running": every rq job gets a timeout and `JOB_RETRIES` retries; the worker that sees its
work horse die retries the job at once (rq), and a job whose whole worker died is found by rq's
started-job registry once its heartbeat has lapsed (about `JOB_HEARTBEAT_SECONDS` + 60 s) and
retried or failed. `reconcile_jobs` then brings the job rows (`background_jobs`, what the API
shows) in line with rq: a requeued run reads `queued` again, a failed one `failed` with its
reason. It runs when a worker starts, at every worker maintenance (`JOB_MAINTENANCE_SECONDS`),
after every failed job, every minute from app/cron.py, and from `flask ops reconcile-jobs`.
"""

from __future__ import annotations

import importlib
import logging
from datetime import UTC, datetime, timedelta
from typing import Any

from flask import Flask, current_app
from redis import Redis
from redis.exceptions import RedisError
from rq import Queue, Retry, Worker
from rq.job import Job, JobStatus
from rq.registry import StartedJobRegistry
from sqlalchemy.exc import SQLAlchemyError

from app.db import get_engine, new_session
from records import jobs as job_rows

QUEUES = ("exports", "analytics", "default")
log = logging.getLogger(__name__)
_REDIS = "ashiato.redis"

# Defaults of the settings read here (ASHIATO_JOB_* in the environment).
JOB_TIMEOUT = 3600  # seconds a job may run before rq stops it
JOB_RETRIES = 2  # retries after a failed or abandoned run
JOB_HEARTBEAT_SECONDS = 10  # how often a worker tells rq its job is still running
JOB_MAINTENANCE_SECONDS = 60  # how often a worker cleans registries and reconciles rows


def init_app(app: Flask) -> None:
    url = app.config.get("REDIS_URL")
    # Short timeouts: a Redis that is down must not hang requests (enqueue falls back).
    app.extensions[_REDIS] = (
        Redis.from_url(url, socket_connect_timeout=2, socket_timeout=5) if url else None
    )


def get_redis() -> Redis | None:
    redis: Redis | None = current_app.extensions[_REDIS]
    return redis


def _setting(name: str, default: int) -> int:
    return int(current_app.config.get(name, default))


def enqueue(queue: str, func_path: str, *args: Any) -> str | None:
    """Run `func_path(*args)` as a job; returns the rq job id, or None when run in-process.

    Redis configured but unreachable: the job runs in-process instead (slower for this one
    request, but the work is done and nothing is left "queued" for a worker that never comes).
    """
    if queue not in QUEUES:
        raise ValueError(f"unknown queue {queue!r}")
    redis = get_redis()
    if redis is not None:
        retries = _setting("JOB_RETRIES", JOB_RETRIES)
        try:
            job = Queue(queue, connection=redis).enqueue(
                func_path,
                *args,
                job_timeout=_setting("JOB_TIMEOUT", JOB_TIMEOUT),
                retry=Retry(max=retries) if retries > 0 else None,
            )
        except RedisError as exc:
            log.warning(
                "Redis unavailable (%s): running %s in-process", type(exc).__name__, func_path
            )
        else:
            return str(job.id)
    module_name, _, func_name = func_path.rpartition(".")
    module = importlib.import_module(module_name)
    getattr(module, func_name)(*args)
    return None


# --- workers ----------------------------------------------------------------------------------


class AshiatoWorker(Worker):
    """rq's forking worker, plus: fresh database connections in each work horse, job rows
    reconciled after a failure and at every maintenance, and an idle worker that wakes up for
    its maintenance (rq would block on the queue for up to `worker_ttl` seconds)."""

    @property
    def dequeue_timeout(self) -> int:
        return max(1, min(self.worker_ttl - 15, int(self.maintenance_interval)))

    def main_work_horse(self, job: Job, queue: Queue) -> None:
        # The horse is a fork: it must not share the parent's database connections.
        get_engine().dispose(close=False)
        super().main_work_horse(job, queue)

    def handle_job_failure(self, job: Job, queue: Queue, *args: Any, **kwargs: Any) -> None:
        super().handle_job_failure(job, queue, *args, **kwargs)
        _reconcile_quietly(only=job.id)

    def run_maintenance_tasks(self) -> None:
        # rq's maintenance includes its cleanup of abandoned jobs.
        super().run_maintenance_tasks()  # type: ignore[no-untyped-call]  # untyped in rq
        _reconcile_quietly()


def run_worker(queues: tuple[str, ...], burst: bool = False) -> None:
    """Run an rq worker on `queues` (all of them when empty), inside the app context."""
    redis = get_redis()
    if redis is None:
        raise RuntimeError("set ASHIATO_REDIS_URL to run workers (jobs run in-process)")
    AshiatoWorker(
        list(queues or QUEUES),
        connection=redis,
        job_monitoring_interval=_setting("JOB_HEARTBEAT_SECONDS", JOB_HEARTBEAT_SECONDS),
        maintenance_interval=_setting("JOB_MAINTENANCE_SECONDS", JOB_MAINTENANCE_SECONDS),
    ).work(burst=burst)


# --- job rows and rq, brought in line -----------------------------------------------------------


_RECONCILE_LOCK = "ashiato:reconcile-jobs"


def _reconcile_quietly(only: str | None = None) -> None:
    try:
        redis = get_redis()
        if only is None and redis is not None:
            # One sweep per maintenance interval across all workers (as rq locks its own).
            interval = max(1, _setting("JOB_MAINTENANCE_SECONDS", JOB_MAINTENANCE_SECONDS) - 1)
            if not redis.set(_RECONCILE_LOCK, 1, nx=True, ex=interval):
                return
        reconcile_jobs(only=only)
    except (RedisError, SQLAlchemyError) as exc:
        # The next maintenance tries again; the worker itself must keep running.
        log.warning("could not reconcile job rows (%s)", type(exc).__name__)


def reconcile_jobs(only: str | None = None) -> dict[str, int]:
    """Bring the job rows in line with rq; returns how many rows were requeued or failed.

    First rq's own cleanup of abandoned jobs (a dead worker's started jobs whose heartbeat
    lapsed: retried while retries are left, failed after). Then, for each row still queued
    or running: rq requeued its run -> `queued`; rq failed it -> `failed` with the reason;
    rq no longer knows it (Redis lost its data) -> `failed`. A row run in-process (no rq id)
    that has not changed for longer than a job may run -> `failed` (its process ended)."""
    redis = get_redis()
    changed = {"requeued": 0, "failed": 0}
    if redis is not None:
        for name in QUEUES:
            StartedJobRegistry(queue=Queue(name, connection=redis)).cleanup()
    stale_after = timedelta(seconds=_setting("JOB_TIMEOUT", JOB_TIMEOUT) + 600)
    now = datetime.now(UTC)
    with new_session() as session:
        rows = job_rows.unfinished_jobs(session)
        if only is not None:
            rows = [row for row in rows if row.rq_id == only]
        ids = [row.rq_id for row in rows if row.rq_id is not None]
        fetched = Job.fetch_many(ids, connection=redis) if redis is not None and ids else []
        found = dict(zip(ids, fetched, strict=True))
        for row in rows:
            if row.rq_id is None or redis is None:
                if now - row.changed_at > stale_after:
                    message = (
                        "the process running this job stopped before it finished; start it again"
                    )
                    changed["failed"] += job_rows.fail_if_unfinished(session, row.id, message)
                continue
            outcome = _rq_outcome(found.get(row.rq_id))
            if outcome is None:
                continue  # queued or running in rq as well
            if outcome == "requeued":
                if row.status == "running":
                    changed["requeued"] += job_rows.requeue_if_unchanged(session, row)
                continue
            changed["failed"] += job_rows.fail_if_unfinished(session, row.id, outcome)
        session.commit()
    if changed["requeued"] or changed["failed"]:
        log.info("job rows reconciled with rq: %s", changed)
    return changed


def _rq_outcome(job: Job | None) -> str | None:
    """None while rq runs or holds the job; "requeued" when a new run waits; otherwise why it
    will never finish (the message shown on the job)."""
    if job is None:
        return "the job queue lost this job (was Redis restarted without its data?); start it again"
    status = job.get_status(refresh=False)
    if status == JobStatus.STARTED:
        return None
    if status in (JobStatus.QUEUED, JobStatus.SCHEDULED, JobStatus.DEFERRED):
        return "requeued"
    if status == JobStatus.FINISHED:
        return "the job ended without recording its outcome; start it again"
    return _failure_reason(job)


def _failure_reason(job: Job) -> str:
    """Why rq failed the job, in words, with the exception's type but never its text (which
    may quote personal data); the worker's log has the rest."""
    result = job.latest_result()
    text = (result.exc_string or "") if result is not None else ""
    # rq keeps the retries left, not those given: with none left, it ran 1 + JOB_RETRIES times.
    attempts = ""
    if job.retries_left == 0:
        attempts = f" (tried {1 + _setting('JOB_RETRIES', JOB_RETRIES)} times)"
    if "AbandonedJobError" in text:
        return (
            "the worker running this job was lost (killed, or its machine stopped) and the "
            f"job was not run again{attempts}; start it again"
        )
    if "Work-horse terminated unexpectedly" in text:
        signal = text.split("(signal ", 1)[1].split(")", 1)[0] if "(signal " in text else "?"
        return (
            f"the process running this job was killed (signal {signal}){attempts}; start it again"
        )
    if "JobTimeoutException" in text:
        return f"the job ran longer than its limit of {job.timeout} seconds{attempts}"
    if "stopped" in text.lower() and "user" in text.lower():
        return "the job was stopped by an operator"
    last = text.strip().splitlines()[-1] if text.strip() else ""
    kind = last.split(":", 1)[0].strip() or "unknown error"
    return f"the job failed with an unexpected error ({kind}){attempts}; see the worker's log"
