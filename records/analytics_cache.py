"""Cached disparity reports, valid while the rollups they were computed from are unchanged."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from records.analytics_models import DisparityReport
from records.models import BackgroundJob

REPORT_JOB = "disparity_report"
PENDING_FOR = timedelta(minutes=10)  # a job queued longer ago is presumed lost: queue another


def cached_report(session: Session, key: str, version: int) -> dict[str, Any] | None:
    row = session.scalar(select(DisparityReport).where(DisparityReport.key == key))
    if row is None or row.rollup_version != version:
        return None
    return dict(row.result)


def store_report(session: Session, key: str, version: int, result: dict[str, Any]) -> None:
    row = session.scalar(select(DisparityReport).where(DisparityReport.key == key))
    if row is None:
        session.add(
            DisparityReport(
                key=key, rollup_version=version, result=result, computed_at=datetime.now(UTC)
            )
        )
    else:
        row.rollup_version = version
        row.result = result
        row.computed_at = datetime.now(UTC)
    session.flush()


def pending_report_job(session: Session, key: str) -> str | None:
    """A report job for this key queued or running recently, so that clients polling for the
    same report share one job instead of queueing one each."""
    since = datetime.now(UTC) - PENDING_FOR
    for job_id, result in session.execute(
        select(BackgroundJob.id, BackgroundJob.result).where(
            BackgroundJob.kind == REPORT_JOB,
            BackgroundJob.status.in_(("queued", "running")),
            BackgroundJob.created_at >= since,
        )
    ):
        if isinstance(result, dict) and result.get("key") == key:
            return str(job_id)
    return None
