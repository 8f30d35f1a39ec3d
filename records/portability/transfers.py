"""Transfers as people start and follow them: who may export whose records, the export job's
work, the expiring download, and the receiving school's import job. Every export and download
of a pupil's records writes an access-log row with purpose "transfer". Flushes, never commits."""

from __future__ import annotations

import tempfile
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import delete, insert, select
from sqlalchemy.orm import Session

from records.audit import Accessor, record_access
from records.errors import ForbiddenError, NotFoundError
from records.identity.access import current_enrollment, school_members
from records.identity.accounts import AccountInfo
from records.identity.models import Enrollment, OrgMembership, Person
from records.identity.people import find_person
from records.jobs import create_job, get_job, job_upload, set_status
from records.models import Upload
from records.portability.export import ExportRequest, build_package
from records.portability.importer import Receipt, import_package, match_person
from records.portability.keys import signing_key
from records.portability.models import TransferExport, TransferExportChunk
from records.portability.verify import verify_package
from records.portability.zipsafe import PackageRefusedError, ZipLimits

CHUNK = 4 * 1024 * 1024
Progress = Callable[[int, int], None]


@dataclass(frozen=True, slots=True)
class ExportView:
    id: str
    job_id: str
    person: str
    status: str
    progress_done: int
    progress_total: int
    error: str
    created_at: datetime
    expires_at: datetime
    size: int
    sha256: str
    kid: str | None
    counts: dict[str, Any]

    @property
    def expired(self) -> bool:
        return datetime.now(UTC) >= _aware(self.expires_at)


def start_export(
    session: Session, viewer: AccountInfo, public_id: str, today: date, days_valid: int
) -> ExportView:
    """Queue an export of a pupil's records (their school's admin, or the pupil themselves)."""
    person = find_person(session, public_id)
    org_id = _exporting_school(session, viewer, person, today)
    now = datetime.now(UTC)
    purge_expired(session, now)
    job_id = create_job(session, "transfer_export", org_id=org_id, requested_by=viewer.id)
    row = TransferExport(
        id=str(uuid.uuid4()),
        job_id=job_id,
        org_id=org_id,
        person_id=person.id,
        requested_by_account_id=viewer.id,
        created_at=now,
        expires_at=now + timedelta(days=days_valid),
        size=0,
        sha256="",
        counts={},
    )
    session.add(row)
    session.flush()
    record_access(
        session,
        Accessor(account_id=viewer.id, org_id=org_id),
        person.id,
        "transfer export",
        "transfer",
    )
    return _view(session, row)


def _exporting_school(session: Session, viewer: AccountInfo, person: Person, today: date) -> int:
    schools = _schools_of(session, person.id, today)
    if viewer.person_id == person.id and viewer.has_role("pupil") and schools:
        return schools[0]
    for org_id in schools:
        if org_id in viewer.orgs_for("school_admin"):
            return org_id
    if viewer.has_role("system_admin") and schools:
        return schools[0]
    raise ForbiddenError(
        "only an administrator of the pupil's current school, or the pupil, may export "
        "their records"
    )


def _schools_of(session: Session, person_id: int, today: date) -> list[int]:
    enrolled = session.scalars(
        select(Enrollment.org_id)
        .where(Enrollment.person_id == person_id, current_enrollment(Enrollment, today))
        .order_by(Enrollment.id)
    )
    member = session.scalars(
        select(OrgMembership.org_id)
        .where(OrgMembership.person_id == person_id)
        .order_by(OrgMembership.id)
    )
    return list(dict.fromkeys([*enrolled, *member]))


def run_export(
    session: Session, export_id: str, secret: bytes, service_url: str, progress: Progress
) -> ExportView:
    """Build and store the package (idempotent: a rebuilt package replaces the earlier one)."""
    row = _export_row(session, export_id)
    key = signing_key(session, row.org_id, secret)
    with tempfile.TemporaryDirectory(prefix="ashiato-export-") as tmp:
        built = build_package(
            session,
            ExportRequest(export_id, row.person_id, row.org_id, service_url),
            key,
            Path(tmp),
            progress,
        )
        session.execute(delete(TransferExportChunk).where(TransferExportChunk.export_id == row.id))
        with built.path.open("rb") as package:
            n = 0
            while chunk := package.read(CHUNK):
                session.execute(
                    insert(TransferExportChunk).values(export_id=row.id, n=n, content=chunk)
                )
                n += 1
    row = _export_row(session, export_id)
    row.size, row.sha256, row.kid, row.counts = built.size, built.sha256, built.kid, built.counts
    session.flush()
    return _view(session, row)


def purge_expired(session: Session, now: datetime) -> None:
    """Expired packages are deleted (their rows stay, to show what was exported when)."""
    expired = select(TransferExport.id).where(TransferExport.expires_at < now)
    session.execute(delete(TransferExportChunk).where(TransferExportChunk.export_id.in_(expired)))


def discard_upload(session: Session, job_id: str) -> None:
    """An uploaded package is not kept once its import finished or was refused."""
    session.execute(delete(Upload).where(Upload.job_id == job_id))


def export_view(session: Session, viewer: AccountInfo, export_id: str) -> ExportView:
    row = _export_row(session, export_id)
    _check_may_see(session, viewer, row)
    return _view(session, row)


def package_chunks(
    session: Session, viewer: AccountInfo, export_id: str
) -> tuple[ExportView, Iterator[bytes]]:
    """The finished, unexpired package, read a chunk at a time; the download is logged."""
    row = _export_row(session, export_id)
    _check_may_see(session, viewer, row)
    view = _view(session, row)
    if view.status != "finished":
        raise NotFoundError(f"export {export_id} is not ready (status: {view.status})")
    if view.expired:
        raise NotFoundError(f"export {export_id} expired at {view.expires_at.isoformat()}")
    record_access(
        session,
        Accessor(account_id=viewer.id, org_id=row.org_id),
        row.person_id,
        "transfer package",
        "transfer",
    )

    def chunks() -> Iterator[bytes]:
        n = 0
        while True:
            content = session.scalar(
                select(TransferExportChunk.content).where(
                    TransferExportChunk.export_id == export_id, TransferExportChunk.n == n
                )
            )
            if content is None:
                return
            yield content
            n += 1

    return view, chunks()


def _check_may_see(session: Session, viewer: AccountInfo, row: TransferExport) -> None:
    if viewer.has_role("system_admin") or row.requested_by_account_id == viewer.id:
        return
    if row.org_id in viewer.orgs_for("school_admin"):
        return
    if viewer.person_id == row.person_id:
        return
    raise ForbiddenError("this export belongs to another school or pupil")


def _export_row(session: Session, export_id: str) -> TransferExport:
    row = session.get(TransferExport, export_id)
    if row is None:
        raise NotFoundError(f"no export with id {export_id}")
    return row


def _view(session: Session, row: TransferExport) -> ExportView:
    job = get_job(session, row.job_id)
    person = session.get(Person, row.person_id)
    return ExportView(
        id=row.id,
        job_id=row.job_id,
        person=person.public_id if person else "",
        status=job.status,
        progress_done=job.progress_done,
        progress_total=job.progress_total,
        error=job.error,
        created_at=_aware(row.created_at),
        expires_at=_aware(row.expires_at),
        size=row.size,
        sha256=row.sha256,
        kid=row.kid,
        counts=dict(row.counts or {}),
    )


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


# --- imports --------------------------------------------------------------------------------


def start_import(
    session: Session,
    viewer: AccountInfo,
    package: bytes,
    filename: str,
    person: str | None,
    school: int | None = None,
) -> str:
    """Queue the import of a package into the viewer's school; returns the job id."""
    schools = sorted(viewer.orgs_for("school_admin"))
    if school is not None and school not in schools and not viewer.has_role("system_admin"):
        raise ForbiddenError("you administer no such school")
    org_id = school if school is not None else (schools[0] if len(schools) == 1 else None)
    if org_id is None:
        raise ForbiddenError(
            "only a school administrator may import a transfer package (and one who "
            "administers several schools must name the school)"
        )
    job_id = create_job(
        session,
        "transfer_import",
        org_id=org_id,
        requested_by=viewer.id,
        upload=(filename, package),
    )
    set_status(session, job_id, "queued", result={"request": {"person": person}})
    return job_id


def run_import(
    session: Session,
    job_id: str,
    service_url: str,
    today: date,
    progress: Progress,
    limits: ZipLimits | None = None,
) -> Receipt:
    """Import the package uploaded for this job (see import_file)."""
    job = get_job(session, job_id)
    chosen = (job.result.get("request") or {}).get("person")
    with tempfile.TemporaryDirectory(prefix="ashiato-import-") as tmp:
        zip_path = Path(tmp) / "package.zip"
        zip_path.write_bytes(job_upload(session, job_id))
        return import_file(session, zip_path, job_id, service_url, today, chosen, progress, limits)


def import_file(
    session: Session,
    zip_path: Path,
    job_id: str,
    service_url: str,
    today: date,
    chosen: str | None,
    progress: Progress,
    limits: ZipLimits | None = None,
) -> Receipt:
    """Verify everything, then write, into the job's school. Raises PackageRefusedError
    (nothing written) on any failed check. The package is read from disk a file at a time."""
    job = get_job(session, job_id)
    if job.org_id is None:
        raise PackageRefusedError("the import job names no receiving school")
    with tempfile.TemporaryDirectory(prefix="ashiato-import-") as tmp:
        package = verify_package(session, zip_path, Path(tmp), limits)
        person = match_person(session, package, service_url, chosen)
        if not _is_member(session, job.org_id, person.id, today):
            raise PackageRefusedError(
                f"pupil {person.public_id} is not enrolled in the receiving school; import the "
                "roster (or enroll the pupil) first"
            )
        receipt = import_package(session, package, job.org_id, person, job_id, progress)
    record_access(
        session,
        Accessor(account_id=job.requested_by_account_id, org_id=job.org_id),
        person.id,
        "transfer import",
        "transfer",
        count=receipt.statements_imported,
    )
    return receipt


def _is_member(session: Session, org_id: int, person_id: int, today: date) -> bool:
    found = session.scalar(school_members(org_id, today).where(Person.id == person_id))
    return found is not None


def export_view_job(session: Session, export_id: str) -> str:
    """The job id of an export (for the job runner)."""
    return _export_row(session, export_id).job_id
