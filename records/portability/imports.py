"""Imports as a receiving school starts and follows them: the uploaded package is kept in chunks
(any size, never whole in memory, readable by any worker), waits for the admin to choose the
pupil when nobody here has its identifiers, then the job verifies everything and writes (see
verify and importer). Flushes, never commits."""

from __future__ import annotations

import io
import json
import tempfile
import zipfile
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import IO, Any

from sqlalchemy import delete, func, insert, select
from sqlalchemy.orm import Session

from records.audit import Accessor, record_access
from records.errors import BadRequestError, ForbiddenError, RecordsError
from records.identity.access import school_members
from records.identity.accounts import AccountInfo
from records.identity.models import Person
from records.identity.people import find_person
from records.jobs import JobView, create_job, get_job, job_upload, set_status
from records.models import BackgroundJob, Upload
from records.portability.importer import (
    PupilNotFoundError,
    Receipt,
    import_package,
    match_person,
    match_person_document,
)
from records.portability.models import TransferUploadChunk
from records.portability.verify import verify_package
from records.portability.zipsafe import PackageRefusedError, ZipLimits

CHUNK = 4 * 1024 * 1024
Progress = Callable[[int, int], None]
NEEDS_PUPIL = "needs_pupil"  # an uploaded package waits for the admin to choose the pupil
PERSON_JSON_MAX = 4 * 1024 * 1024  # data/person.json is read before the checks: kept small
_ADD_CHUNK = insert(TransferUploadChunk)


class UploadTooLargeError(BadRequestError):
    """An uploaded package is larger than this instance accepts (HTTP 413)."""

    def __init__(self, limit: int) -> None:
        super().__init__(
            f"the transfer package is larger than this server accepts ({limit} bytes, "
            "TRANSFER_MAX_PACKAGE_BYTES); ask its administrator to raise the limit"
        )
        self.limit = limit


@dataclass(frozen=True, slots=True)
class StartedImport:
    job_id: str
    needs_pupil: bool  # no pupil here matched: the admin chooses one, then it is queued


@dataclass(frozen=True, slots=True)
class ImportView:
    id: str
    org_id: int | None
    status: str
    progress_done: int
    progress_total: int
    error: str
    receipt: dict[str, Any]
    filename: str
    chosen_person: str | None
    created_at: datetime | None = None

    @property
    def needs_pupil(self) -> bool:
        return self.status == NEEDS_PUPIL


def start_import(
    session: Session,
    viewer: AccountInfo,
    package: bytes | IO[bytes],
    filename: str,
    person: str | None,
    school: int | None = None,
    *,
    max_bytes: int | None = None,
    service_url: str | None = None,
) -> StartedImport:
    """Keep an uploaded package (read and stored a chunk at a time, whatever its size) for an
    import into the viewer's school. With `service_url` and no pupil chosen, the package's
    identifiers are looked up first: when nobody here matches, the import waits for the admin
    to choose the pupil (choose_import_pupil) instead of being refused after every check."""
    schools = sorted(viewer.orgs_for("school_admin"))
    if school is not None and school not in schools and not viewer.has_role("system_admin"):
        raise ForbiddenError("you administer no such school")
    org_id = school if school is not None else (schools[0] if len(schools) == 1 else None)
    if org_id is None:
        raise ForbiddenError(
            "only a school administrator may import a transfer package (and one who "
            "administers several schools must name the school)"
        )
    if person is not None and (len(person) > 64 or not person.isprintable()):
        raise BadRequestError("person must be the public id of a pupil of the receiving school")
    filename = "".join(ch for ch in filename if ch.isprintable())[:255] or "package.zip"
    stream = io.BytesIO(package) if isinstance(package, bytes) else package
    chunk = stream.read(CHUNK)
    if not chunk:
        raise BadRequestError("send the transfer package (zip) as the body or as the field 'file'")
    job_id = create_job(session, "transfer_import", org_id=org_id, requested_by=viewer.id)
    conn = session.connection()
    size = n = 0
    while chunk:
        size += len(chunk)
        if max_bytes is not None and size > max_bytes:
            raise UploadTooLargeError(max_bytes)
        # Values as parameters, never inside the statement: a statement holding its bytes
        # would be kept by the compiled-statement cache, and with it every chunk.
        conn.execute(_ADD_CHUNK, {"job_id": job_id, "n": n, "content": chunk})
        n += 1
        chunk = stream.read(CHUNK)
    waiting = (
        person is None
        and service_url is not None
        and stream.seekable()
        and _nobody_matches(session, stream, service_url)
    )
    request = {"person": person, "filename": filename, "size": size}
    set_status(session, job_id, NEEDS_PUPIL if waiting else "queued", result={"request": request})
    return StartedImport(job_id, waiting)


def _nobody_matches(session: Session, stream: IO[bytes], service_url: str) -> bool:
    """Whether the package's data/person.json (read unverified, only to look the identifiers
    up) matches nobody here. Anything unreadable is left to the import's own checks."""
    stream.seek(0)
    try:
        with zipfile.ZipFile(stream) as archive:
            found = [
                info
                for info in archive.infolist()
                if info.filename.split("/")[1:] == ["data", "person.json"]
                and info.file_size <= PERSON_JSON_MAX
            ]
            if len(found) != 1:
                return False
            document = json.loads(archive.read(found[0]))
    except (zipfile.BadZipFile, OSError, EOFError, ValueError, RuntimeError, zlib.error):
        return False
    if not isinstance(document, dict):
        return False
    try:
        match_person_document(session, document, service_url, None)
    except PupilNotFoundError:
        return True
    except RecordsError:
        return False
    return False


def choose_import_pupil(
    session: Session, viewer: AccountInfo, job_id: str, public_id: str, today: date
) -> None:
    """The admin names the pupil an uploaded package belongs to; the import is then queued."""
    job = _import_job(session, viewer, job_id)
    if job.status != NEEDS_PUPIL:
        raise BadRequestError(f"import {job_id} is not waiting for a pupil (status: {job.status})")
    public_id = public_id.strip()
    if not public_id or len(public_id) > 64 or not public_id.isprintable():
        raise BadRequestError("give the public id of a pupil of the receiving school")
    person = find_person(session, public_id)
    if job.org_id is None or not _is_member(session, job.org_id, person.id, today):
        raise BadRequestError(
            f"pupil {person.public_id} is not enrolled in the receiving school; import the "
            "roster (or enroll the pupil) first"
        )
    request = {**(job.result.get("request") or {}), "person": person.public_id}
    set_status(session, job_id, "queued", result={"request": request})


def import_view(session: Session, viewer: AccountInfo, job_id: str) -> ImportView:
    job = _import_job(session, viewer, job_id)
    request = job.result.get("request") or {}
    row = session.get(BackgroundJob, job_id)
    return ImportView(
        id=job.id,
        org_id=job.org_id,
        status=job.status,
        progress_done=job.progress_done,
        progress_total=job.progress_total,
        error=job.error,
        receipt=dict(job.result.get("receipt") or {}),
        filename=str(request.get("filename") or "package.zip"),
        chosen_person=request.get("person"),
        created_at=_aware(row.created_at) if row is not None else None,
    )


def recent_imports(session: Session, viewer: AccountInfo, limit: int = 20) -> list[ImportView]:
    """Imports into the schools the viewer administers, newest first (counts, no names)."""
    stmt = (
        select(BackgroundJob.id)
        .where(BackgroundJob.kind == "transfer_import")
        .order_by(BackgroundJob.created_at.desc())
        .limit(limit)
    )
    if not viewer.has_role("system_admin"):
        schools = viewer.orgs_for("school_admin")
        if not schools:
            return []
        stmt = stmt.where(BackgroundJob.org_id.in_(schools))
    return [import_view(session, viewer, job_id) for job_id in session.scalars(stmt)]


def _import_job(session: Session, viewer: AccountInfo, job_id: str) -> JobView:
    job = get_job(session, job_id)
    if job.kind != "transfer_import":
        raise BadRequestError(f"job {job_id} is not a transfer import")
    allowed = viewer.has_role("system_admin") or job.requested_by_account_id == viewer.id
    if not allowed and (job.org_id is None or job.org_id not in viewer.orgs_for("school_admin")):
        raise ForbiddenError("this import belongs to another school")
    return job


def run_import(
    session: Session,
    job_id: str,
    service_url: str,
    today: date,
    progress: Progress,
    limits: ZipLimits | None = None,
) -> Receipt:
    """Import the package uploaded for this job (see import_file), copied from the database
    to a file a chunk at a time."""
    job = get_job(session, job_id)
    if job.status == NEEDS_PUPIL:
        raise PackageRefusedError("choose the pupil this package belongs to first")
    chosen = (job.result.get("request") or {}).get("person")
    with tempfile.TemporaryDirectory(prefix="ashiato-import-") as tmp:
        zip_path = Path(tmp) / "package.zip"
        _write_upload(session, job_id, zip_path)
        return import_file(session, zip_path, job_id, service_url, today, chosen, progress, limits)


def _write_upload(session: Session, job_id: str, path: Path) -> None:
    has_chunks = session.scalar(
        select(func.count())
        .select_from(TransferUploadChunk)
        .where(TransferUploadChunk.job_id == job_id)
    )
    if not has_chunks:  # uploaded whole, before packages were kept in chunks
        path.write_bytes(job_upload(session, job_id))
        return
    with path.open("wb") as out:
        n = 0
        while True:
            content = session.scalar(
                select(TransferUploadChunk.content).where(
                    TransferUploadChunk.job_id == job_id, TransferUploadChunk.n == n
                )
            )
            if content is None:
                return
            out.write(content)
            n += 1


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


def discard_upload(session: Session, job_id: str) -> None:
    """An uploaded package is not kept once its import finished or was refused."""
    session.execute(delete(Upload).where(Upload.job_id == job_id))
    session.execute(delete(TransferUploadChunk).where(TransferUploadChunk.job_id == job_id))


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
