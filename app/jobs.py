"""rq job entry points. Thin: own session, call the domain, commit, record the outcome.

Enqueued by dotted path with the job row's id only (app.queue.enqueue). Run by
`flask worker`, which provides the app context, or in-process without Redis.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from blinker import Namespace
from flask import current_app
from sqlalchemy.orm import Session

from analytics.periods import parse_period
from analytics.reports import ReportError, ReportRequest, build_report
from app.db import get_engine, new_session
from app.queue import reconcile_jobs
from app.urls import public_url
from lti.tool_keys import rotate_keys
from records import jobs
from records.analytics_cache import store_report
from records.errors import RecordsError
from records.identity.oneroster import RosterRejectedError, import_roster
from records.portability.imports import discard_upload, run_import
from records.portability.transfers import export_view_job, run_export
from records.rollup_weeks import missing_weeks, refresh_school_weeks, schools_with_pupils
from records.rollups import DEFAULT_CAP_MINUTES, bump_version, last_run_day, roll_up, rollup_version
from records.school_calendar import JST, monday, school_year
from records.trust.retention import apply_retention

log = logging.getLogger(__name__)

# Sent with the job row's id (as sender), `done` and `total` each time a job reports progress,
# in the process running the job, before the job's work is committed. For observers (metrics,
# logs); the reliability tests use it to stop a job at a known point and kill its worker.
job_progress = Namespace().signal("ashiato.job-progress")


def run_roster_import(job_id: str) -> None:
    """Import the roster uploaded for this job: all or nothing, so a worker killed half-way
    leaves nothing visible, and running it again after it finished changes nothing."""
    with new_session() as status_session, new_session() as session:
        if jobs.get_job(session, job_id).status == "finished":
            return
        jobs.set_status(status_session, job_id, "running")
        status_session.commit()
        latest = [0, 0]
        try:
            report = import_roster(
                session,
                jobs.job_upload(session, job_id),
                service_url=public_url(),
                today=datetime.now(UTC).date(),
                progress=_progress(status_session, job_id, latest),
            )
        except RosterRejectedError as exc:
            session.rollback()
            errors = [
                {"file": e.file, "line": e.line, "column": e.column, "message": e.message}
                for e in exc.errors
            ]
            _fail(session, job_id, exc.message, {"errors": errors})
            return
        except RecordsError as exc:
            session.rollback()
            _fail(session, job_id, exc.message, {})
            return
        jobs.set_progress(session, job_id, latest[1], latest[1])
        jobs.set_status(session, job_id, "finished", result=report.as_dict())
        session.commit()


def _progress(session: Session, job_id: str, latest: list[int]) -> Callable[[int, int], None]:
    """Progress is committed as it goes where the database allows a second writer
    (PostgreSQL); SQLite has one writer at a time, so there it is written at the end."""
    live = get_engine().dialect.name == "postgresql"

    def report(done: int, total: int) -> None:
        latest[:] = [done, total]
        if live:
            jobs.set_progress(session, job_id, done, total)
            session.commit()
        job_progress.send(job_id, done=done, total=total)

    return report


def _fail(session: Session, job_id: str, message: str, result: dict[str, object]) -> None:
    jobs.set_status(session, job_id, "failed", error=message, result=result)
    session.commit()


# --- regional analytics (issue 6) -------------------------------------------------------------


def refresh_rollups(full: bool = False) -> None:
    """Bring learning_days and school_weeks up to date (idempotent; run it every few minutes,
    and with full=True after roster changes or nightly). Weeks of the current school year
    without any activity get their rows too, so quiet schools keep their denominators; on the
    first run of a day the current and previous weeks are recounted with the day that ended."""

    cap = float(current_app.config.get("ANALYTICS_SESSION_CAP_MINUTES", DEFAULT_CAP_MINUTES))
    today = datetime.now(JST).date()
    with new_session() as session:
        new_day = last_run_day(session) != today
        # School days count once they are over: today's pupils are still learning.
        yesterday = today - timedelta(days=1)
        roll_up(session, cap_minutes=cap, full=full, until=yesterday)
        first = today.replace(year=school_year(today), month=4, day=1)
        keys = missing_weeks(session, first, today)
        if new_day or full:
            this_week = monday(today)
            for school in schools_with_pupils(session):
                keys |= {(school, this_week), (school, this_week - timedelta(days=7))}
        if refresh_school_weeks(session, keys, yesterday):
            bump_version(session)
        session.commit()


def run_disparity_report(job_id: str) -> None:
    """Compute one disparity report (parameters on the job row) and cache it."""

    with new_session() as session:
        job = jobs.get_job(session, job_id)
        if job.status == "finished":
            return
        params = dict(job.result.get("request", {}))
        jobs.set_status(session, job_id, "running")
        session.commit()
        try:
            request = ReportRequest(
                indicator=str(params["indicator"]),
                level=str(params["level"]),
                period=parse_period(str(params["period"])),
                region_code=str(params["region"]),
                min_cell=int(params["min_cell"]),
            )
            version = rollup_version(session)
            report = build_report(session, request)
        except (ReportError, ValueError, KeyError) as exc:
            session.rollback()
            _fail(session, job_id, str(exc), {"request": params})
            return
        store_report(session, request.key, version, report)
        jobs.set_status(session, job_id, "finished", result={"request": params, "key": request.key})
        session.commit()


# --- transfer packages (issue 5) --------------------------------------------------------------


def run_transfer_export(export_id: str) -> None:
    """Build, sign and store one pupil's transfer package (idempotent: a finished export is
    left as it is; a failed or interrupted one is built again)."""

    with new_session() as status_session, new_session() as session:
        job_id = export_view_job(session, export_id)
        if jobs.get_job(session, job_id).status == "finished":
            return
        jobs.set_status(status_session, job_id, "running")
        status_session.commit()
        latest = [0, 0]
        try:
            view = run_export(
                session,
                export_id,
                current_app.config["SECRET_KEY"].encode("utf-8"),
                public_url(),
                _progress(status_session, job_id, latest),
            )
        except RecordsError as exc:
            session.rollback()
            _fail(session, job_id, exc.message, {"export": export_id})
            return
        jobs.set_progress(session, job_id, latest[0], latest[1])
        jobs.set_status(
            session, job_id, "finished", result={"export": export_id, "counts": view.counts}
        )
        session.commit()


def run_transfer_import(job_id: str) -> None:
    """Verify an uploaded transfer package and import it: all or nothing; a refused package
    leaves nothing written and the reason on the job."""

    with new_session() as status_session, new_session() as session:
        job = jobs.get_job(session, job_id)
        if job.status == "finished":
            return
        request = dict(job.result.get("request") or {})
        jobs.set_status(status_session, job_id, "running")
        status_session.commit()
        latest = [0, 0]
        try:
            receipt = run_import(
                session,
                job_id,
                public_url(),
                datetime.now(UTC).date(),
                _progress(status_session, job_id, latest),
            )
        except RecordsError as exc:
            session.rollback()
            discard_upload(session, job_id)
            _fail(session, job_id, exc.message, {"request": request})
            return
        discard_upload(session, job_id)
        jobs.set_progress(session, job_id, latest[0], latest[1])
        jobs.set_status(
            session, job_id, "finished", result={"request": request, "receipt": receipt.as_dict()}
        )
        session.commit()


def apply_retention_job() -> None:
    """Remove learning records past their organisation's retention (legal holds excepted);
    scheduled daily by app/cron.py."""
    with new_session() as session:
        removed = apply_retention(session)
        session.commit()
    log.info("retention applied: %s", dict(removed))


def rotate_lti_tool_keys() -> None:
    """A new LTI signing key; the previous one stays published until the next rotation, so
    platforms that cached our key set keep verifying. Scheduled monthly by app/cron.py."""
    with new_session() as session:
        key = rotate_keys(session)
        session.commit()
        log.info("LTI tool key rotated: %s is current", key.kid)


def reconcile_job_rows() -> None:
    """Job rows brought in line with rq (abandoned runs requeued or failed with their reason);
    scheduled every minute by app/cron.py, and run by every worker at its maintenance."""
    reconcile_jobs()
