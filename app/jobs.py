"""rq job entry points. Thin: own session, call the domain, commit, record the outcome.

Enqueued by dotted path with the job row's id only (app.queue.enqueue). Run by
`flask worker`, which provides the app context, or in-process without Redis.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

from sqlalchemy.orm import Session

from app.db import get_engine, new_session
from app.urls import public_url
from records import jobs
from records.errors import RecordsError
from records.identity.oneroster import RosterRejectedError, import_roster


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

    return report


def _fail(session: Session, job_id: str, message: str, result: dict[str, object]) -> None:
    jobs.set_status(session, job_id, "failed", error=message, result=result)
    session.commit()
