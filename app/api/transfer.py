"""/api/v1 transfer packages (issue 5): start an export, follow it, download the package,
upload a package to import, and read the published signing keys and the BagIt profile.

Routes join the API blueprint (its authentication applies); the domain decides who may do what
(records.portability.transfers) and logs every access to a pupil's records.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import IO, Any

from flask import Response, current_app, jsonify, request, stream_with_context
from flask.typing import ResponseReturnValue
from werkzeug.exceptions import RequestEntityTooLarge

from app.api.transfer_spec import ExportSchema, ImportJobSchema, SigningKeySchema
from app.api.views import bp
from app.auth import current_account
from app.db import get_session
from app.errors import error_response
from app.queue import enqueue
from records.errors import AuthenticationError, BadRequestError
from records.identity.accounts import AccountInfo
from records.identity.rosters import check_job_visible
from records.jobs import get_job, set_status
from records.portability.imports import UploadTooLargeError, start_import
from records.portability.keys import published_keys
from records.portability.profile import bagit_profile
from records.portability.transfers import (
    ExportView,
    export_view,
    package_chunks,
    start_export,
)


def max_package_bytes() -> int:
    """Largest transfer package accepted for import (TRANSFER_MAX_PACKAGE_BYTES, default 2 GB):
    far above MAX_CONTENT_LENGTH, which bounds every other request."""
    return int(current_app.config["TRANSFER_MAX_PACKAGE_BYTES"])


class PackageTooLargeError(RequestEntityTooLarge):
    """A package above TRANSFER_MAX_PACKAGE_BYTES, said before any of it is read."""


def too_large_message() -> str:
    return (
        f"the transfer package is larger than this server accepts ({max_package_bytes()} "
        "bytes, TRANSFER_MAX_PACKAGE_BYTES); ask its administrator to raise the limit"
    )


@bp.url_value_preprocessor
def _large_packages(endpoint: str | None, _values: dict[str, Any] | None) -> None:
    """Runs before the blueprint's authentication (which may read a form for its CSRF check):
    an import may be as large as TRANSFER_MAX_PACKAGE_BYTES, not MAX_CONTENT_LENGTH."""
    if endpoint == "api.create_import":
        allow_large_package()


def allow_large_package() -> None:
    limit = max_package_bytes()
    request.max_content_length = limit
    if request.content_length is not None and request.content_length > limit:
        raise PackageTooLargeError()


@bp.errorhandler(PackageTooLargeError)
def _package_too_large(_exc: PackageTooLargeError) -> ResponseReturnValue:
    return error_response(413, too_large_message())


@bp.post("/learners/<public_id>/exports")
def create_export(public_id: str) -> ResponseReturnValue:
    """Export a pupil's records as a signed transfer package (runs as a job). `recipient`
    (an organisation code) and `purpose` say where it goes; see the OpenAPI document."""
    session = get_session()
    view = start_export(
        session,
        _viewer(),
        public_id,
        datetime.now(UTC).date(),
        int(current_app.config.get("TRANSFER_EXPORT_DAYS", 7)),
        recipient=request.values.get("recipient") or None,
        purpose=request.values.get("purpose") or None,
    )
    session.commit()
    rq_id = enqueue("exports", "app.jobs.run_transfer_export", view.id)
    if rq_id is not None:
        set_status(session, view.job_id, "queued", rq_id=rq_id)
        session.commit()
    body = _export_body(export_view(session, _viewer(), view.id))
    return jsonify(body), 202


@bp.get("/exports/<export_id>")
def read_export(export_id: str) -> ResponseReturnValue:
    return jsonify(_export_body(export_view(get_session(), _viewer(), export_id)))


@bp.get("/exports/<export_id>/package")
def download_package(export_id: str) -> ResponseReturnValue:
    """The zip, streamed a chunk at a time; only for those allowed, and until it expires."""
    session = get_session()
    view, chunks = package_chunks(session, _viewer(), export_id)
    session.commit()  # the access-log row
    return package_response(view, chunks)


def package_response(view: ExportView, chunks: Any) -> Response:
    response = Response(stream_with_context(chunks), mimetype="application/zip")
    response.headers["Content-Length"] = str(view.size)
    response.headers["Content-Disposition"] = (
        f'attachment; filename="ashiato-transfer-{view.id}.zip"'
    )
    response.headers["Cache-Control"] = "no-store"
    response.headers["Digest"] = f"sha-256={view.sha256}"
    return response


@bp.post("/imports")
def create_import() -> ResponseReturnValue:
    """Upload a transfer package (the body, or the form field `file`); `person` (query or
    form) chooses the pupil when the package's userMasterIdentifier matches nobody here.
    The upload is read and stored a piece at a time, up to TRANSFER_MAX_PACKAGE_BYTES."""
    upload = request.files.get("file")
    stream: IO[bytes] = upload.stream if upload is not None else request.stream
    person = request.values.get("person") or None
    school = request.values.get("school")
    if school is not None and not school.isdigit():
        raise BadRequestError("school must be the receiving school's numeric id")
    session = get_session()
    try:
        started = start_import(
            session,
            _viewer(),
            stream,
            (upload.filename if upload is not None else None) or "package.zip",
            person,
            int(school) if school is not None else None,
            max_bytes=max_package_bytes(),
        )
    except UploadTooLargeError:
        session.rollback()
        return error_response(413, too_large_message())
    session.commit()
    if not started.needs_pupil:  # a waiting import is queued once its pupil is chosen
        rq_id = enqueue("exports", "app.jobs.run_transfer_import", started.job_id)
        if rq_id is not None:
            set_status(session, started.job_id, "queued", rq_id=rq_id)
            session.commit()
    return jsonify(_import_body(started.job_id)), 202


@bp.get("/imports/<job_id>")
def read_import(job_id: str) -> ResponseReturnValue:
    return jsonify(_import_body(job_id))


@bp.get("/transfer/keys")
def signing_keys() -> ResponseReturnValue:
    """Every organisation's public signing keys (as Multikey and JWK), with their status."""
    _viewer()
    keys = published_keys(get_session(), request.args.get("org"))
    return jsonify(
        {
            "keys": SigningKeySchema(many=True).dump(keys),
            "jwks": {"keys": [k.jwk() for k in keys if k.status != "revoked"]},
        }
    )


@bp.get("/transfer/profile")
def transfer_profile() -> ResponseReturnValue:
    return jsonify(bagit_profile())


def _export_body(view: ExportView) -> dict[str, Any]:
    body: dict[str, Any] = ExportSchema().dump(view)
    base = f"{request.script_root}/api/v1/exports/{view.id}"
    body["status_url"] = base
    body["package_url"] = f"{base}/package"
    return body


def _import_body(job_id: str) -> dict[str, Any]:
    session = get_session()
    job = get_job(session, job_id)
    check_job_visible(session, _viewer(), job)
    if job.kind != "transfer_import":
        raise BadRequestError(f"job {job_id} is not a transfer import")
    body: dict[str, Any] = ImportJobSchema().dump(
        {
            "id": job.id,
            "status": job.status,
            "progress_done": job.progress_done,
            "progress_total": job.progress_total,
            "error": job.error,
            "receipt": job.result.get("receipt") or {},
        }
    )
    body["status_url"] = f"{request.script_root}/api/v1/imports/{job_id}"
    return body


def _viewer() -> AccountInfo:
    account = current_account()
    if account is None:
        raise AuthenticationError("sign in first")
    return account
