"""Background job rows: create, start, report progress, finish or fail. The rq side is app/.

A row is `queued`, `running`, `finished` or `failed` (or a state of its own kind, such as an
import waiting for a person to choose its pupil). Only `finished` and `failed` are final: the
functions that reconcile rows with the queue (`requeue_if_unchanged`, `fail_if_unfinished`)
never touch a final row, and (re)queueing never undoes a run that has started or ended.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from records.errors import NotFoundError
from records.models import BackgroundJob, Upload

FINAL = ("finished", "failed")


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
    """Set a row's status (and result, error, rq job id).

    `queued` never replaces `running`, `finished` or `failed`: the web process notes the rq job
    id after enqueueing, and by then a fast worker may have started, finished or failed the job;
    its status must not be put back to `queued` (it would never change again)."""
    now = datetime.now(UTC)
    if rq_id is not None:
        session.execute(
            update(BackgroundJob)
            .where(BackgroundJob.id == job_id)
            .values(rq_id=rq_id, updated_at=now)
        )
    values: dict[str, Any] = {"status": status, "updated_at": now}
    if result is not None:
        values["result"] = result
    if error is not None:
        values["error"] = error
    stmt = update(BackgroundJob).where(BackgroundJob.id == job_id)
    if status == "queued":
        stmt = stmt.where(BackgroundJob.status.not_in(("running", *FINAL)))
    session.execute(stmt.values(**values))


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


UNFINISHED = ("queued", "running")  # what a worker still has to do (other states wait for people)


@dataclass(frozen=True, slots=True)
class UnfinishedJob:
    id: str
    kind: str
    status: str
    rq_id: str | None
    updated_at: datetime  # as the database returned it (compared again when requeueing)

    @property
    def changed_at(self) -> datetime:
        return _aware(self.updated_at)


def unfinished_jobs(session: Session) -> list[UnfinishedJob]:
    """Rows still queued or running, oldest change first (for reconciling with the queue)."""
    rows = session.execute(
        select(
            BackgroundJob.id,
            BackgroundJob.kind,
            BackgroundJob.status,
            BackgroundJob.rq_id,
            BackgroundJob.updated_at,
        )
        .where(BackgroundJob.status.in_(UNFINISHED))
        .order_by(BackgroundJob.updated_at)
    ).all()
    return [UnfinishedJob(r[0], r[1], r[2], r[3], r[4]) for r in rows]


def jobs_of_rq(session: Session, rq_id: str) -> list[UnfinishedJob]:
    """The unfinished rows that rq job `rq_id` runs (normally one)."""
    return [j for j in unfinished_jobs(session) if j.rq_id == rq_id]


def fail_if_unfinished(session: Session, job_id: str, message: str) -> bool:
    """Mark a queued or running row failed with `message`; a final row is left as it is.
    Returns whether the row changed."""
    done = session.execute(
        update(BackgroundJob)
        .where(BackgroundJob.id == job_id, BackgroundJob.status.in_(UNFINISHED))
        .values(status="failed", error=message, updated_at=datetime.now(UTC))
    )
    return bool(getattr(done, "rowcount", 0))


def requeue_if_unchanged(session: Session, job: UnfinishedJob) -> bool:
    """A run that was abandoned and handed to the queue again: `running` -> `queued`, only if
    the row has not changed since it was read (a new run may have started meanwhile)."""
    done = session.execute(
        update(BackgroundJob)
        .where(
            BackgroundJob.id == job.id,
            BackgroundJob.status == "running",
            BackgroundJob.updated_at == job.updated_at,
        )
        .values(status="queued", updated_at=datetime.now(UTC))
    )
    return bool(getattr(done, "rowcount", 0))


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
