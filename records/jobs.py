"""Background job rows: create, start, report progress, finish or fail. The rq side is app/."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from records.errors import NotFoundError
from records.models import BackgroundJob, Upload


@dataclass(frozen=True, slots=True)
class JobView:
    id: str
    kind: str
    status: str
    progress_done: int
    progress_total: int
    result: dict[str, Any]
    error: str
    org_id: int | None
    requested_by_account_id: int | None


def create_job(
    session: Session,
    kind: str,
    *,
    org_id: int | None,
    requested_by: int | None,
    upload: tuple[str, bytes] | None = None,
) -> str:
    now = datetime.now(UTC)
    job_id = str(uuid.uuid4())
    session.add(
        BackgroundJob(
            id=job_id,
            kind=kind,
            status="queued",
            org_id=org_id,
            requested_by_account_id=requested_by,
            progress_done=0,
            progress_total=0,
            result={},
            error="",
            created_at=now,
            updated_at=now,
        )
    )
    session.flush()
    if upload is not None:
        filename, content = upload
        session.add(Upload(job_id=job_id, filename=filename, content=content, created_at=now))
        session.flush()
    return job_id


def job_upload(session: Session, job_id: str) -> bytes:
    content = session.scalar(select(Upload.content).where(Upload.job_id == job_id))
    if content is None:
        raise NotFoundError(f"job {job_id} has no uploaded file")
    return content


def set_status(
    session: Session,
    job_id: str,
    status: str,
    *,
    result: dict[str, Any] | None = None,
    error: str | None = None,
    rq_id: str | None = None,
) -> None:
    values: dict[str, Any] = {"status": status, "updated_at": datetime.now(UTC)}
    if result is not None:
        values["result"] = result
    if error is not None:
        values["error"] = error
    if rq_id is not None:
        values["rq_id"] = rq_id
    session.execute(update(BackgroundJob).where(BackgroundJob.id == job_id).values(**values))


def set_progress(session: Session, job_id: str, done: int, total: int) -> None:
    session.execute(
        update(BackgroundJob)
        .where(BackgroundJob.id == job_id)
        .values(progress_done=done, progress_total=total, updated_at=datetime.now(UTC))
    )


def get_job(session: Session, job_id: str) -> JobView:
    row = session.get(BackgroundJob, job_id)
    if row is None:
        raise NotFoundError(f"no job with id {job_id}")
    return JobView(
        row.id,
        row.kind,
        row.status,
        row.progress_done,
        row.progress_total,
        dict(row.result or {}),
        row.error,
        row.org_id,
        row.requested_by_account_id,
    )
