"""Roster imports as a school's admins follow them: start one (checked, then queued as a
background job like the API's), list the recent ones, read one with its row-by-row report.

Who may import what is records.identity.rosters' rule (check_import_allowed,
check_job_visible); the import itself is the job's (app.jobs.run_roster_import), all or
nothing.
"""

from __future__ import annotations

import io
import zipfile
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import or_, select, update
from sqlalchemy.orm import Session

from records.errors import BadRequestError, NotFoundError
from records.identity.accounts import AccountInfo
from records.identity.administration import require_admin
from records.identity.models import Account
from records.identity.rosters import check_import_allowed, check_job_visible
from records.jobs import create_job, get_job
from records.models import BackgroundJob, Upload

ROSTER_IMPORT = "roster_import"
MAX_FILENAME = 255  # Upload.filename


class UploadProblemError(BadRequestError):
    """The upload cannot be a OneRoster package: `problem` is "empty" or "not_zip". -> 400"""

    def __init__(self, problem: str, message: str) -> None:
        super().__init__(message)
        self.problem = problem


@dataclass(frozen=True, slots=True)
class RowProblem:
    """One line of a refused roster's report (records.identity.oneroster.RowError, as kept)."""

    file: str
    line: int
    column: str
    message: str


@dataclass(frozen=True, slots=True)
class RosterImport:
    id: str
    status: str  # queued | running | finished | failed
    filename: str
    requested_by: str  # the account's login name, "" when unknown
    created_at: datetime
    updated_at: datetime
    progress_done: int
    progress_total: int
    result: dict[str, Any]
    error: str

    @property
    def running(self) -> bool:
        return self.status in {"queued", "running"}

    @property
    def problems(self) -> list[RowProblem]:
        return [
            RowProblem(
                str(e.get("file", "")),
                int(e.get("line", 0)),
                str(e.get("column", "")),
                str(e.get("message", "")),
            )
            for e in self.result.get("errors", [])
        ]

    @property
    def file_counts(self) -> list[tuple[str, dict[str, int]]]:
        files: dict[str, dict[str, int]] = self.result.get("files", {})
        return sorted(files.items())


def start_roster_import(
    session: Session,
    viewer: AccountInfo,
    filename: str,
    data: bytes,
    service_url: str,
    today: date,
) -> str:
    """The id of a new roster-import job for this upload, to be queued by the caller.

    Refuses at once what can never be a roster (nothing, or not a zip) and rosters with schools
    the viewer does not administer; everything else about the file is the job's to report.
    """
    require_admin(viewer)
    if not data:
        raise UploadProblemError("empty", "the file is empty; choose the roster zip")
    if not zipfile.is_zipfile(io.BytesIO(data)):
        raise UploadProblemError(
            "not_zip", "the file is not a zip archive (a OneRoster CSV package is one)"
        )
    org_id = check_import_allowed(session, viewer, data, service_url, today)
    name = (filename.strip() or "roster.zip")[-MAX_FILENAME:]
    return create_job(
        session, ROSTER_IMPORT, org_id=org_id, requested_by=viewer.id, upload=(name, data)
    )


def note_queued(session: Session, job_id: str, rq_id: str) -> None:
    """Keep the rq job id. The status is left alone: a worker may have started it already."""
    session.execute(update(BackgroundJob).where(BackgroundJob.id == job_id).values(rq_id=rq_id))


def recent_roster_imports(
    session: Session, viewer: AccountInfo, *, limit: int = 20
) -> list[RosterImport]:
    """The newest roster imports `viewer` may see (the rule of check_job_visible: a system
    admin every one; others their own and their schools')."""
    require_admin(viewer)
    stmt = _imports().where(BackgroundJob.kind == ROSTER_IMPORT)
    if not viewer.has_role("system_admin"):
        stmt = stmt.where(
            or_(
                BackgroundJob.requested_by_account_id == viewer.id,
                BackgroundJob.org_id.in_(viewer.orgs_for("school_admin")),
            )
        )
    stmt = stmt.order_by(BackgroundJob.created_at.desc(), BackgroundJob.id).limit(limit)
    return [_view(*found) for found in session.execute(stmt)]


def roster_import(session: Session, viewer: AccountInfo, job_id: str) -> RosterImport:
    """One roster import with its outcome; NotFoundError for other kinds of job."""
    require_admin(viewer)
    job = get_job(session, job_id)
    if job.kind != ROSTER_IMPORT:
        raise NotFoundError(f"no roster import with id {job_id}")
    check_job_visible(session, viewer, job)
    found = session.execute(_imports().where(BackgroundJob.id == job_id)).one()
    return _view(*found)


def _imports() -> Any:
    return (
        select(BackgroundJob, Upload.filename, Account.email)
        .outerjoin(Upload, Upload.job_id == BackgroundJob.id)
        .outerjoin(Account, Account.id == BackgroundJob.requested_by_account_id)
    )


def _view(job: BackgroundJob, filename: str | None, email: str | None) -> RosterImport:
    return RosterImport(
        id=job.id,
        status=job.status,
        filename=filename or "",
        requested_by=email or "",
        created_at=_aware(job.created_at),
        updated_at=_aware(job.updated_at),
        progress_done=job.progress_done,
        progress_total=job.progress_total,
        result=dict(job.result or {}),
        error=job.error or "",
    )


def _aware(moment: datetime) -> datetime:
    # SQLite hands back naive datetimes; everything we store is UTC.
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
