"""Exports as people start and follow them: who may export whose records and to whom, the
export job's work, and the expiring download. Every export and download of a pupil's records
writes an access-log row; one to a board or a third party needs the pupil's consent when it
starts, when it is built and when it is downloaded (records.portability.recipients). Imports
are records.portability.imports (re-exported here for the job runner and the CLI). Flushes,
never commits."""

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

from records.audit import Accessor, record_access, record_accesses
from records.errors import ForbiddenError, NotFoundError
from records.identity.access import current_enrollment
from records.identity.accounts import AccountInfo
from records.identity.models import Enrollment, OrgMembership, Person
from records.identity.people import find_person
from records.jobs import create_job, get_job
from records.models import Organisation
from records.portability.export import ExportRequest, build_package

# Used through this module by app.jobs (explicit re-exports).
from records.portability.imports import discard_upload as discard_upload
from records.portability.imports import run_import as run_import
from records.portability.keys import signing_key
from records.portability.models import TransferExport, TransferExportChunk
from records.portability.recipients import (
    NEEDS_CONSENT,
    check_consent,
    log_purpose,
    recipient_of,
    require_export_consent,
)

CHUNK = 4 * 1024 * 1024
Progress = Callable[[int, int], None]
_ADD_CHUNK = insert(TransferExportChunk)


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
    person_name: str = ""
    recipient_kind: str = ""
    recipient_code: str | None = None
    recipient_name: str = ""
    purpose: str = "transfer"

    @property
    def expired(self) -> bool:
        return datetime.now(UTC) >= _aware(self.expires_at)


def start_export(
    session: Session,
    viewer: AccountInfo,
    public_id: str,
    today: date,
    days_valid: int,
    recipient: str | None = None,
    purpose: str | None = None,
) -> ExportView:
    """Queue an export of a pupil's records (their school's admin, or the pupil themselves).
    `recipient` is the receiving organisation's code (none: the pupil's own copy, or the
    transfer flow); a board or third party needs the pupil's consent for `purpose`, now."""
    person = find_person(session, public_id)
    org_id = _exporting_school(session, viewer, person, today)
    to = recipient_of(session, viewer, person, recipient, purpose)
    if to.kind in NEEDS_CONSENT:
        require_export_consent(session, person.id, to)
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
        recipient_kind=to.kind,
        recipient_org_id=to.org_id,
        purpose=to.purpose,
    )
    session.add(row)
    session.flush()
    record_access(
        session,
        Accessor(account_id=viewer.id, org_id=org_id),
        person.id,
        "export",
        log_purpose(row, viewer),
    )
    return _view(session, row)


def export_subject(
    session: Session, viewer: AccountInfo, public_id: str, today: date
) -> tuple[str, str]:
    """(public id, name) of a pupil whose records the viewer may export (the export form
    shows the name, so this is logged)."""
    if len(public_id) > 64 or not public_id.isprintable():
        raise NotFoundError("no pupil with this id")
    person = find_person(session, public_id)
    org_id = _exporting_school(session, viewer, person, today)
    own = viewer.person_id == person.id
    record_access(
        session,
        Accessor(account_id=viewer.id, org_id=org_id),
        person.id,
        "export.form",
        "self" if own else "transfer",
    )
    return person.public_id, " ".join(p for p in (person.family_name, person.given_name) if p)


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
    check_consent(session, row)  # taken back since it was asked for: nothing is built
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
        conn = session.connection()
        with built.path.open("rb") as package:
            n = 0
            while chunk := package.read(CHUNK):
                # Values as parameters: a statement holding its bytes would be kept by the
                # compiled-statement cache, and with it every chunk.
                conn.execute(_ADD_CHUNK, {"export_id": row.id, "n": n, "content": chunk})
                n += 1
    row = _export_row(session, export_id)
    row.size, row.sha256, row.kid, row.counts = built.size, built.sha256, built.kid, built.counts
    session.flush()
    return _view(session, row)


def purge_expired(session: Session, now: datetime) -> None:
    """Expired packages are deleted (their rows stay, to show what was exported when)."""
    expired = select(TransferExport.id).where(TransferExport.expires_at < now)
    session.execute(delete(TransferExportChunk).where(TransferExportChunk.export_id.in_(expired)))


def export_view(session: Session, viewer: AccountInfo, export_id: str) -> ExportView:
    row = _export_row(session, export_id)
    _check_may_see(session, viewer, row)
    return _view(session, row)


def export_page(session: Session, viewer: AccountInfo, export_id: str) -> ExportView:
    """An export as its page shows it (with the pupil's name): the view is logged."""
    row = _export_row(session, export_id)
    _check_may_see(session, viewer, row)
    record_access(
        session,
        Accessor(account_id=viewer.id, org_id=row.org_id),
        row.person_id,
        "export.status",
        log_purpose(row, viewer),
    )
    return _view(session, row)


def recent_exports(session: Session, viewer: AccountInfo, limit: int = 20) -> list[ExportView]:
    """The pupil's own exports, or those of the schools the viewer administers, newest
    first; each pupil shown is logged."""
    stmt = select(TransferExport).order_by(TransferExport.created_at.desc()).limit(limit)
    if viewer.has_role("system_admin"):
        pass
    elif viewer.orgs_for("school_admin"):
        stmt = stmt.where(TransferExport.org_id.in_(viewer.orgs_for("school_admin")))
    elif viewer.person_id is not None:
        stmt = stmt.where(TransferExport.person_id == viewer.person_id)
    else:
        return []
    rows = list(session.scalars(stmt))
    shown = {row.person_id: row for row in rows}
    record_accesses(
        session,
        Accessor(account_id=viewer.id),
        [
            (person_id, "export.list", log_purpose(row, viewer), 1)
            for person_id, row in sorted(shown.items())
        ],
    )
    return [_view(session, row) for row in rows]


def package_chunks(
    session: Session, viewer: AccountInfo, export_id: str
) -> tuple[ExportView, Iterator[bytes]]:
    """The finished, unexpired package, read a chunk at a time; the download is logged. An
    export to a board or third party is handed out only while the pupil's consent holds."""
    row = _export_row(session, export_id)
    _check_may_see(session, viewer, row)
    view = _view(session, row)
    if view.status != "finished":
        raise NotFoundError(f"export {export_id} is not ready (status: {view.status})")
    if view.expired:
        raise NotFoundError(f"export {export_id} expired at {view.expires_at.isoformat()}")
    check_consent(session, row)
    record_access(
        session,
        Accessor(account_id=viewer.id, org_id=row.org_id),
        row.person_id,
        "export.download",
        log_purpose(row, viewer),
    )

    def chunks() -> Iterator[bytes]:
        # Streamed after the caller's transaction has ended: the reads take a connection of
        # their own, given back when the download ends or is dropped.
        try:
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
        finally:
            session.close()

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
    recipient = session.get(Organisation, row.recipient_org_id) if row.recipient_org_id else None
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
        person_name=" ".join(p for p in (person.family_name, person.given_name) if p)
        if person
        else "",
        recipient_kind=row.recipient_kind,
        recipient_code=recipient.code if recipient else None,
        recipient_name=recipient.name if recipient else "",
        purpose=row.purpose,
    )


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def export_view_job(session: Session, export_id: str) -> str:
    """The job id of an export (for the job runner)."""
    return _export_row(session, export_id).job_id
