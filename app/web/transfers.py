"""Transfer pages (issue 5): a pupil takes their portfolio with them (download it, or give it
to their next school), a school admin exports a pupil's records and imports packages from
other schools. Exports and imports run as background jobs; their pages show the progress
(static/transfer.js polls the JSON API: no inline scripts), then the download link until it
expires, or the import's receipt. Starting either asks for the password again (zero trust).

Who may do what, and the access log, are the domain's (records.portability.transfers).
"""

from __future__ import annotations

from flask import Blueprint, current_app, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext
from flask_login import login_required
from werkzeug.exceptions import RequestEntityTooLarge

from app.api.transfer import (
    PackageTooLargeError,
    allow_large_package,
    max_package_bytes,
    package_response,
)
from app.csrf import csrf
from app.db import get_session
from app.queue import enqueue
from app.web.common import locale, service_url, today, viewer
from app.web.reauth import sensitive
from records.errors import BadRequestError, ForbiddenError, NotFoundError
from records.identity.models import Person
from records.jobs import set_status
from records.portability.imports import (
    UploadTooLargeError,
    choose_import_pupil,
    import_view,
    recent_imports,
    start_import,
)
from records.portability.recipients import CONSENTED_PURPOSES, ConsentRequiredError
from records.portability.transfers import (
    export_page,
    export_subject,
    package_chunks,
    recent_exports,
    start_export,
)
from records.trust.consent import SHARING_PURPOSES

bp = Blueprint("transfers", __name__)
RECENT = 20


@bp.before_request
@login_required
def _signed_in() -> None:
    """Every transfer page needs a signed-in account (checked per request)."""


@bp.errorhandler(PackageTooLargeError)
@bp.errorhandler(RequestEntityTooLarge)
def _too_large(_exc: RequestEntityTooLarge) -> ResponseReturnValue:
    return _import_form(_too_large_text(), None), 413


def _too_large_text() -> str:
    return str(
        gettext(
            "The package is larger than this server accepts (%(mb)s MB). Ask your system "
            "administrator to import it with the command line, or to raise the limit.",
            mb=max_package_bytes() // (1024 * 1024),
        )
    )


def _is_admin() -> bool:
    return viewer().has_role("school_admin", "system_admin")


# --- the start page ----------------------------------------------------------------------------


@bp.get("")
def index() -> ResponseReturnValue:
    session = get_session()
    exports = recent_exports(session, viewer(), RECENT)
    imports = recent_imports(session, viewer(), RECENT) if _is_admin() else []
    session.commit()  # the access-log rows of the pupils listed
    return render_template(
        "transfers/index.html",
        exports=exports,
        imports=imports,
        admin=_is_admin(),
        pupil=viewer().has_role("pupil") and viewer().person_id is not None,
    )


# --- exports -----------------------------------------------------------------------------------


@bp.route("/exports/new", methods=["GET", "POST"])
@sensitive  # a package holds everything about the pupil: password again
def new_export() -> ResponseReturnValue:
    session = get_session()
    wanted = request.values.get("pupil", "").strip()
    if not wanted:
        if not viewer().has_role("pupil") or _is_admin():
            return _export_form(None, None, None)
        wanted = _own_public_id()
    pupil = export_subject(session, viewer(), wanted, today())
    session.commit()  # the row saying the form showed the pupil's name
    if request.method == "GET":
        return _export_form(pupil, None, None)
    try:
        view = start_export(
            session,
            viewer(),
            pupil[0],
            today(),
            int(_config("TRANSFER_EXPORT_DAYS", 7)),
            recipient=request.form.get("recipient", "").strip() or None,
            purpose=request.form.get("purpose", "").strip() or None,
        )
    except ConsentRequiredError as exc:
        session.rollback()
        problem = gettext(
            "The pupil has not agreed to give their records to this recipient for this "
            "purpose (or has taken the agreement back), so nothing was exported. The pupil or "
            "their guardian can agree under “Sharing and consent”."
        )
        return _export_form(pupil, problem, exc.message), 403
    except BadRequestError as exc:
        session.rollback()
        problem = gettext(
            "Check the recipient's code and the purpose: a school needs no purpose; "
            "anyone else needs one from the list."
        )
        return _export_form(pupil, problem, exc.message), 400
    session.commit()
    rq_id = enqueue("exports", "app.jobs.run_transfer_export", view.id)
    if rq_id is not None:
        set_status(session, view.job_id, "queued", rq_id=rq_id)
        session.commit()
    return redirect(url_for("web.transfers.export", export_id=view.id), 303)


def _own_public_id() -> str:
    person = get_session().get(Person, viewer().person_id)
    if person is None:
        raise NotFoundError("no pupil record belongs to this account")
    return person.public_id


def _export_form(pupil: tuple[str, str] | None, problem: str | None, detail: str | None) -> str:
    return render_template(
        "transfers/export_new.html",
        pupil=pupil,
        own=pupil is not None and not _is_admin() and viewer().has_role("pupil"),
        problem=problem,
        detail=detail,
        form=request.form,
        purposes=[(code, SHARING_PURPOSES[code].get(locale())) for code in CONSENTED_PURPOSES],
        days=int(_config("TRANSFER_EXPORT_DAYS", 7)),
    )


@bp.get("/exports/<export_id>")
def export(export_id: str) -> ResponseReturnValue:
    session = get_session()
    view = export_page(session, viewer(), export_id)
    session.commit()  # the row saying this page showed the pupil's export
    return render_template(
        "transfers/export.html",
        export=view,
        size_text=_size_text(view.size),
        purpose_words=SHARING_PURPOSES[view.purpose].get(locale())
        if view.purpose in SHARING_PURPOSES
        else "",
    )


@bp.get("/exports/<export_id>/package")
def download(export_id: str) -> ResponseReturnValue:
    """The package, streamed; refused (403, with the reason) once a consent was taken back."""
    session = get_session()
    view, chunks = package_chunks(session, viewer(), export_id)
    session.commit()  # the access-log row of the download
    return package_response(view, chunks)


# --- imports -----------------------------------------------------------------------------------


@bp.route("/imports/new", methods=["GET", "POST"])
@sensitive  # an import writes a pupil's records into the school: password again
def new_import() -> ResponseReturnValue:
    if not _is_admin():
        raise ForbiddenError("only a school administrator imports transfer packages")
    if request.method == "GET":
        return _import_form(None, None)
    # The package may be far larger than other requests: the limit is raised before the form
    # (and its CSRF token) is read, and the CSRF check runs here rather than before the view.
    allow_large_package()
    csrf.protect()
    upload = request.files.get("file")
    if upload is None or not upload.filename:
        return _import_form(gettext("Choose the transfer package (a .zip file) first."), None), 400
    session = get_session()
    try:
        started = start_import(
            session,
            viewer(),
            upload.stream,
            upload.filename,
            request.form.get("person", "").strip() or None,
            max_bytes=max_package_bytes(),
            service_url=service_url(),
        )
    except UploadTooLargeError:
        session.rollback()
        return _import_form(_too_large_text(), None), 413
    except (BadRequestError, ForbiddenError) as exc:
        session.rollback()
        return _import_form(gettext("This file cannot be imported."), exc.message), 400
    session.commit()
    if not started.needs_pupil:
        _queue_import(started.job_id)
    return redirect(url_for("web.transfers.import_job", job_id=started.job_id), 303)


csrf.exempt(new_import)  # checked inside, once the upload limit is raised


def _queue_import(job_id: str) -> None:
    session = get_session()
    rq_id = enqueue("exports", "app.jobs.run_transfer_import", job_id)
    if rq_id is not None:
        set_status(session, job_id, "queued", rq_id=rq_id)
        session.commit()


def _import_form(problem: str | None, detail: str | None) -> str:
    return render_template(
        "transfers/import_new.html",
        problem=problem,
        detail=detail,
        max_mb=max_package_bytes() // (1024 * 1024),
    )


@bp.get("/imports/<job_id>")
def import_job(job_id: str) -> ResponseReturnValue:
    job = import_view(get_session(), viewer(), job_id)
    return render_template("transfers/import.html", job=job, problem=None, detail=None)


@bp.post("/imports/<job_id>/pupil")
@sensitive
def choose_pupil(job_id: str) -> ResponseReturnValue:
    session = get_session()
    try:
        choose_import_pupil(session, viewer(), job_id, request.form.get("person", ""), today())
    except (BadRequestError, NotFoundError) as exc:
        session.rollback()
        job = import_view(session, viewer(), job_id)
        problem = gettext(
            "No pupil of your school has this ID. Check it on the school's list of people."
        )
        return render_template(
            "transfers/import.html", job=job, problem=problem, detail=exc.message
        ), 400
    session.commit()
    _queue_import(job_id)
    return redirect(url_for("web.transfers.import_job", job_id=job_id), 303)


def _size_text(size: int) -> str:
    if size < 1024 * 1024:
        return f"{max(1, round(size / 1024))} KB"
    if size < 1024**3:
        return f"{size / 1024 / 1024:.1f} MB"
    return f"{size / 1024**3:.2f} GB"


def _config(name: str, default: int) -> int:
    return int(current_app.config.get(name, default))
