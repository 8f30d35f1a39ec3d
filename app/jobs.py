"""rq job entry points. Thin: own session, call the domain, commit, record the outcome.

Enqueued by dotted path with the job row's id only (app.queue.enqueue). Run by
`flask worker`, which provides the app context, or in-process without Redis.
"""

from __future__ import annotations

from datetime import UTC, datetime

from app.db import new_session
from app.urls import public_url
from records import jobs
from records.errors import RecordsError
from records.identity.oneroster import RosterRejectedError, import_roster


def run_roster_import(job_id: str) -> None:
    """Import the roster uploaded for this job; all or nothing; idempotent (a re-run of a
    finished import changes nothing)."""
    with new_session() as progress_session:

        def progress(done: int, total: int) -> None:
            jobs.set_progress(progress_session, job_id, done, total)
            progress_session.commit()

        with new_session() as session:
            if jobs.get_job(session, job_id).status == "finished":
                return
            jobs.set_status(progress_session, job_id, "running")
            progress_session.commit()
            try:
                report = import_roster(
                    session,
                    jobs.job_upload(session, job_id),
                    service_url=public_url(),
                    today=datetime.now(UTC).date(),
                    progress=progress,
                )
            except RosterRejectedError as exc:
                session.rollback()
                errors = [
                    {"file": e.file, "line": e.line, "column": e.column, "message": e.message}
                    for e in exc.errors
                ]
                jobs.set_status(
                    session, job_id, "failed", error=exc.message, result={"errors": errors}
                )
                session.commit()
                return
            except RecordsError as exc:
                session.rollback()
                jobs.set_status(session, job_id, "failed", error=exc.message)
                session.commit()
                return
            jobs.set_status(session, job_id, "finished", result=report.as_dict())
            session.commit()
