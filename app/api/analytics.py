"""GET /api/v1/analytics/disparity: a regional disparity report as JSON, or CSV with
`Accept: text/csv`. Reports are computed by an rq job (in-process without Redis) and cached
until the rollups change; while one is being computed the answer is 202 with Retry-After.

Who may ask is records.identity.access.analysis_regions: board analysts for their own region,
system admins for any. Reports hold aggregates only, after disclosure control.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from flask import current_app, jsonify, make_response, request
from flask.typing import ResponseReturnValue
from sqlalchemy import select
from sqlalchemy.orm import Session

from analytics.periods import PeriodError, current_school_year, parse_period
from analytics.reports import ReportError, ReportRequest, check_request, finer_level
from app.api.analytics_spec import DisparityQuerySchema
from app.api.views import _load, _viewer, bp
from app.db import get_session
from app.queue import enqueue, get_redis
from records.analytics_access import NATION, check_region, home_region
from records.analytics_cache import REPORT_JOB, cached_report, pending_report_job
from records.errors import BadRequestError
from records.identity.accounts import AccountInfo
from records.jobs import create_job, get_job, set_status
from records.models import Organisation
from records.rollups import rollup_version
from records.school_calendar import JST

DEFAULT_MIN_CELL = 10


@dataclass(frozen=True, slots=True)
class Pending:
    job_id: str


def min_cell() -> int:
    return int(current_app.config.get("ANALYTICS_MIN_CELL", DEFAULT_MIN_CELL))


def report_request(session: Session, viewer: AccountInfo, args: dict[str, Any]) -> ReportRequest:
    """Checked parameters (BadRequestError / ForbiddenError otherwise)."""
    region = args.get("region") or home_region(session, viewer)
    check_region(session, viewer, region)
    kind = "nation" if region.upper() == NATION else _kind(session, region)
    try:
        period = (
            parse_period(args["period"])
            if args.get("period")
            else current_school_year(datetime.now(JST).date())
        )
        wanted = ReportRequest(
            indicator=args["indicator"],
            level=args.get("level") or finer_level(kind),
            period=period,
            region_code=NATION if region.upper() == NATION else region,
            min_cell=min_cell(),
        )
        check_request(wanted, kind)
    except (PeriodError, ReportError) as exc:
        raise BadRequestError(str(exc)) from None
    return wanted


def obtain_report(
    session: Session, viewer: AccountInfo, wanted: ReportRequest
) -> dict[str, Any] | Pending:
    """The cached report, or a job computing it (run at once where jobs are in-process)."""
    version = rollup_version(session)
    found = cached_report(session, wanted.key, version)
    if found is not None:
        return found
    waiting = pending_report_job(session, wanted.key)
    if waiting is not None and get_redis() is not None:
        return Pending(waiting)
    job_id = create_job(session, REPORT_JOB, org_id=None, requested_by=viewer.id)
    params = {
        "indicator": wanted.indicator,
        "level": wanted.level,
        "period": wanted.period.id,
        "region": wanted.region_code,
        "min_cell": wanted.min_cell,
    }
    set_status(session, job_id, "queued", result={"request": params, "key": wanted.key})
    session.commit()
    rq_id = enqueue("analytics", "app.jobs.run_disparity_report", job_id)
    if rq_id is not None:
        set_status(session, job_id, "queued", rq_id=rq_id)
        session.commit()
        return Pending(job_id)
    session.expire_all()
    job = get_job(session, job_id)
    if job.status == "failed":
        raise BadRequestError(job.error)
    found = cached_report(session, wanted.key, rollup_version(session))
    return found if found is not None else Pending(job_id)


@bp.get("/analytics/disparity")
def disparity() -> ResponseReturnValue:
    args = _load(DisparityQuerySchema(), request.args)
    session = get_session()
    viewer = _viewer()
    wanted = report_request(session, viewer, args)
    report = obtain_report(session, viewer, wanted)
    if isinstance(report, Pending):
        response = jsonify({"status": "computing", "job": report.job_id, "retry_after": 2})
        response.status_code = 202
        response.headers["Retry-After"] = "2"
        return response
    if request.accept_mimetypes.best_match(["application/json", "text/csv"]) == "text/csv":
        answer = make_response(units_csv(report))
        answer.headers["Content-Type"] = "text/csv; charset=utf-8"
        name = (
            f"disparity-{wanted.indicator}-{wanted.level}-{wanted.region_code}-{wanted.period.id}"
        )
        answer.headers["Content-Disposition"] = f'attachment; filename="{name}.csv"'
        return answer
    return jsonify(report)


def units_csv(report: dict[str, Any]) -> str:
    """The units of a report, one row each; hidden figures are empty cells."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(
        [
            "indicator",
            "period",
            "level",
            "code",
            "name",
            "parent_code",
            "value",
            "below_threshold",
            "pupils",
            "hidden",
        ]
    )
    for unit in report["units"]:
        writer.writerow(
            [
                report["indicator"],
                report["period"]["id"],
                report["level"],
                unit["code"],
                unit["name"],
                unit["parent_code"] or "",
                "" if unit["value"] is None else f"{unit['value']:.6g}",
                "" if unit.get("below_threshold") is None else f"{unit['below_threshold']:.6g}",
                "" if unit["pupils"] is None else unit["pupils"],
                "true" if unit["hidden"] else "false",
            ]
        )
    return out.getvalue()


def _kind(session: Session, code: str) -> str:
    kind = session.scalar(select(Organisation.kind).where(Organisation.code == code))
    return str(kind or "other")
