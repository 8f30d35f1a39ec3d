"""School admins' screens: the schools they administer, roster imports (a background job,
with its row-by-row report), the school's device/tool LRS credentials (issue, see last use,
revoke), and its people and classes.

Open to school admins (their own schools only) and system admins. Who may see or change what
is the domain's rule (records.identity.administration, .rosters, records.credential_admin):
each view parses the form, makes one domain call, commits and renders or redirects.
"""

from __future__ import annotations

import csv
import io

from flask import (
    Blueprint,
    Response,
    current_app,
    flash,
    make_response,
    redirect,
    render_template,
    request,
    url_for,
)
from flask.typing import ResponseReturnValue
from flask_babel import gettext
from flask_login import login_required
from werkzeug.exceptions import RequestEntityTooLarge

from app.db import get_session
from app.queue import enqueue
from app.web.common import locale, max_upload, service_url, today, viewer
from app.web.reauth import sensitive
from records import credential_admin
from records.credential_admin import AlreadyRevokedError, CredentialInputError
from records.errors import ForbiddenError
from records.identity import directory, roster_imports
from records.identity.administration import administered_school, administered_schools, require_admin
from records.identity.roster_imports import UploadProblemError

bp = Blueprint("admin", __name__)
SCHOOLS_PER_PAGE = 100
PEOPLE_PER_PAGE = 50
RECENT_IMPORTS = 20
# What a new credential offers ticked: most devices only send records (as the CLI's default).
DEFAULT_SCOPES = ("statements/write", "statements/read/mine")


@bp.before_request
@login_required
def _admins_only() -> None:
    """Signed in, and a school admin or system admin (checked per request)."""
    require_admin(viewer())


@bp.errorhandler(RequestEntityTooLarge)
def _too_large(_exc: RequestEntityTooLarge) -> ResponseReturnValue:
    megabytes = max_upload() // (1024 * 1024)
    return render_template(
        "error.html",
        title=gettext("The file is too large"),
        explanation=gettext(
            "A file can be at most %(mb)s MB here. Split the roster (for example one zip per "
            "school) and import each part, or ask your system administrator to import it.",
            mb=megabytes,
        ),
        detail=None,
    ), 413


@bp.errorhandler(AlreadyRevokedError)
def _already_revoked(_exc: AlreadyRevokedError) -> ResponseReturnValue:
    return render_template(
        "error.html",
        title=gettext("This credential was already revoked"),
        explanation=gettext(
            "Nothing more to do: devices and tools using it are refused already. "
            "Go back to the list of credentials to see when it was revoked."
        ),
        detail=None,
    ), 409


# --- start page --------------------------------------------------------------------------------


@bp.get("")
def index() -> ResponseReturnValue:
    after = request.args.get("after", "")
    schools = administered_schools(
        get_session(), viewer(), after_code=after, limit=SCHOOLS_PER_PAGE
    )
    more = schools[-1].code if len(schools) == SCHOOLS_PER_PAGE else None
    return render_template(
        "admin/index.html",
        schools=schools,
        more=more,
        paged=bool(after),
        system_admin=viewer().has_role("system_admin"),
    )


# --- roster imports ----------------------------------------------------------------------------


@bp.get("/roster")
def roster() -> ResponseReturnValue:
    return _roster_page()


@bp.post("/roster")
def roster_upload() -> ResponseReturnValue:
    upload = request.files.get("file")
    if upload is None or not upload.filename:
        return _roster_page(gettext("Choose the roster file (a .zip) first.")), 400
    session = get_session()
    try:
        job_id = roster_imports.start_roster_import(
            session, viewer(), upload.filename, upload.read(), service_url(), today()
        )
    except UploadProblemError as exc:
        session.rollback()
        return _roster_page(_upload_problem(exc.problem)), 400
    except ForbiddenError as exc:
        session.rollback()
        problem = gettext(
            "This roster includes schools you do not administer, so nothing was imported. "
            "Import only your own school's roster, or ask your board's system administrator."
        )
        return _roster_page(problem, detail=exc.message), 403
    session.commit()
    rq_id = enqueue("default", "app.jobs.run_roster_import", job_id)
    if rq_id is not None:
        roster_imports.note_queued(session, job_id, rq_id)
        session.commit()
    return redirect(url_for("web.admin.roster_job", job_id=job_id), 303)


def _upload_problem(problem: str) -> str:
    if problem == "not_zip":
        return str(
            gettext(
                "This file is not a zip archive. Export the roster from your school affairs "
                "system as a OneRoster CSV package (.zip) and choose that file."
            )
        )
    return str(gettext("The file is empty. Choose the roster zip file again."))


def _roster_page(problem: str | None = None, detail: str | None = None) -> str:
    recent = roster_imports.recent_roster_imports(get_session(), viewer(), limit=RECENT_IMPORTS)
    return render_template(
        "admin/roster.html",
        recent=recent,
        problem=problem,
        detail=detail if locale() == "en" else None,  # domain messages are written in English
        max_mb=max_upload() // (1024 * 1024),
    )


@bp.get("/roster/<job_id>")
def roster_job(job_id: str) -> ResponseReturnValue:
    job = roster_imports.roster_import(get_session(), viewer(), job_id)
    return render_template("admin/roster_job.html", job=job, counts=_count_labels())


@bp.get("/roster/<job_id>/problems.csv")
def roster_problems(job_id: str) -> ResponseReturnValue:
    """The row-by-row report as a spreadsheet (UTF-8 with BOM, so Excel reads it)."""
    job = roster_imports.roster_import(get_session(), viewer(), job_id)
    out = io.StringIO(newline="")
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow([gettext("File"), gettext("Line"), gettext("Column"), gettext("Problem")])
    for p in job.problems:
        writer.writerow([_cell(p.file), p.line, _cell(p.column), _cell(p.message)])
    response = Response("\ufeff" + out.getvalue(), mimetype="text/csv")
    response.headers["Content-Disposition"] = f'attachment; filename="roster-problems-{job.id}.csv"'
    return response


def _cell(text: str) -> str:
    """Text from an uploaded file, never read as a formula by a spreadsheet."""
    return f"'{text}" if text[:1] in {"=", "+", "-", "@", "\t", "\r"} else text


def _count_labels() -> dict[str, str]:
    return {
        "created": gettext("Added"),
        "updated": gettext("Changed"),
        "deactivated": gettext("Ended"),
        "unchanged": gettext("Unchanged"),
    }


# --- credentials -------------------------------------------------------------------------------


@bp.get("/schools/<code>/credentials")
def credentials(code: str) -> ResponseReturnValue:
    found = credential_admin.school_credentials(get_session(), viewer(), code)
    return render_template(
        "admin/credentials.html",
        school=found.school,
        credentials=found.credentials,
        scope_words=_scope_words(),
    )


@bp.route("/schools/<code>/credentials/new", methods=["GET", "POST"])
@sensitive  # a new device credential writes records for a whole school: password again
def new_credential(code: str) -> ResponseReturnValue:
    session = get_session()
    if request.method == "GET":
        school = administered_school(session, viewer(), code)
        return _credential_form(school, list(DEFAULT_SCOPES), "", None)
    chosen = request.form.getlist("scopes")
    label = request.form.get("label", "")
    hash_key = current_app.config["CREDENTIAL_HASH_KEY"].encode("utf-8")
    try:
        issued = credential_admin.issue_credential(session, viewer(), code, chosen, label, hash_key)
    except CredentialInputError as exc:
        session.rollback()
        if exc.field == "label":
            problem = gettext("The name is too long: use at most 255 characters.")
        else:
            problem = gettext("Choose one or more permissions from the list.")
        school = administered_school(session, viewer(), code)
        return _credential_form(school, chosen, label, problem), 400
    session.commit()
    response = make_response(
        render_template(
            "admin/credential_created.html",
            school=issued.school,
            credential=issued.credential,
            secret=issued.secret,
            lrs_url=f"{service_url()}xapi/",
            scope_words=_scope_words(),
        ),
        201,
    )
    response.headers["Cache-Control"] = "no-store"  # the secret must not stay in any cache
    return response


def _credential_form(school: object, chosen: list[str], label: str, problem: str | None) -> str:
    return render_template(
        "admin/credential_new.html",
        school=school,
        scopes=credential_admin.known_scopes(),
        scope_words=_scope_words(),
        chosen=chosen,
        label=label,
        problem=problem,
    )


@bp.get("/schools/<code>/credentials/<key>/revoke")
def confirm_revoke(code: str, key: str) -> ResponseReturnValue:
    school, credential = credential_admin.school_credential(get_session(), viewer(), code, key)
    return render_template(
        "admin/credential_revoke.html",
        school=school,
        credential=credential,
        scope_words=_scope_words(),
    )


@bp.post("/schools/<code>/credentials/<key>/revoke")
def revoke(code: str, key: str) -> ResponseReturnValue:
    session = get_session()
    credential = credential_admin.revoke_school_credential(session, viewer(), code, key)
    session.commit()
    flash(
        gettext(
            "Revoked “%(label)s”. Devices and tools using key %(key)s are refused from now on.",
            label=credential.label,
            key=credential.key,
        )
    )
    return redirect(url_for("web.admin.credentials", code=code), 303)


def _scope_words() -> dict[str, str]:
    """What each LRS scope lets a device or tool do, in words a school office reads."""
    return {
        "statements/write": gettext("Send learning records"),
        "statements/read/mine": gettext("Read back the records it sent itself"),
        "statements/read": gettext("Read all the school's learning records"),
        "state": gettext("Save and read its own progress (state documents)"),
        "profile": gettext("Save and read profile documents"),
        "define": gettext("Update the names and descriptions of activities"),
        "all/read": gettext("Read everything of the school"),
        "all": gettext("Everything (full access)"),
    }


# --- people and classes ------------------------------------------------------------------------


@bp.get("/schools/<code>/people")
def people(code: str) -> ResponseReturnValue:
    kind = request.args.get("kind") or None
    class_id = request.args.get("class", type=int)
    after = request.args.get("after", default=0, type=int)
    session = get_session()
    found = directory.list_school_people(
        session,
        viewer(),
        code,
        today(),
        kind=kind,
        class_id=class_id,
        after_id=after,
        limit=PEOPLE_PER_PAGE,
    )
    session.commit()  # the access-log rows, one per person shown
    more = found.people[-1].id if len(found.people) == PEOPLE_PER_PAGE else None
    return render_template(
        "admin/people.html",
        school=found.school,
        people=found.people,
        class_title=found.class_title,
        chosen={"kind": kind or "", "class": class_id},
        more=more,
        paged=after > 0,
        kinds=_kind_words(),
        grade_label=_grade_label,
    )


@bp.get("/schools/<code>/classes")
def classes(code: str) -> ResponseReturnValue:
    found = directory.list_school_classes(get_session(), viewer(), code, today())
    return render_template("admin/classes.html", school=found.school, classes=found.classes)


def _kind_words() -> dict[str, str]:
    return {
        "student": gettext("Pupil"),
        "teacher": gettext("Teacher"),
        "staff": gettext("Staff"),
        "guardian": gettext("Guardian"),
    }


def _grade_label(code: str | None) -> str:
    """OneRoster Japan Profile grades: P1-P6 primary, J1-J3 lower and H1-H3 upper secondary."""
    if not code or len(code) != 2 or not code[1].isdigit():
        return code or ""
    if code[0] == "P":
        return str(gettext("Primary %(n)s", n=code[1]))
    if code[0] == "J":
        return str(gettext("Lower secondary %(n)s", n=code[1]))
    if code[0] == "H":
        return str(gettext("Upper secondary %(n)s", n=code[1]))
    return code
