"""Teachers' pages: the classes they teach now, a class at a glance (who has been active this
week, recent reflections), and logging an activity for the whole class or a group."""

from __future__ import annotations

from dataclasses import replace

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext
from flask_login import login_required

from app.db import get_session
from app.lti_courses import linked_courses
from app.web.common import locale, service_url, today, viewer
from app.web.forms import entry_from_form, problem_text
from records.portfolio import entries, vocabulary
from records.portfolio.classes import class_overview, classes_taught

bp = Blueprint("classes", __name__)


@bp.before_request
@login_required
def _signed_in() -> None:
    """Every class page needs a signed-in account (checked per request)."""


@bp.get("")
def index() -> ResponseReturnValue:
    found = classes_taught(get_session(), viewer(), today())
    return render_template("classes/index.html", classes=found)


@bp.get("/<int:class_id>")
def show(class_id: int) -> ResponseReturnValue:
    session = get_session()
    overview = class_overview(session, viewer(), class_id, today(), locale())
    courses = linked_courses(session, viewer(), class_id)  # LMS courses (LTI) linked to it
    session.commit()  # the access log rows for every pupil shown
    return render_template(
        "classes/show.html", overview=overview, today=today(), lti_courses=courses
    )


@bp.route("/<int:class_id>/log", methods=["GET", "POST"])
def log_activity(class_id: int) -> ResponseReturnValue:
    session = get_session()
    overview = class_overview(session, viewer(), class_id, today(), locale())
    if request.method == "GET":
        session.commit()
        entry = entries.EntryInput(kind="activity", title="", language=locale())
        return _form(overview, entry, [], None)
    entry, problems = entry_from_form(request.form, request.files, locale())
    entry = replace(entry, kind="activity", artifacts=())
    chosen = request.form.getlist("pupils") if request.form.get("who") == "some" else None
    problems += entries.check_entry(entry, today())
    if chosen is not None and not chosen:
        problems.append(entries.Problem("no_pupils"))
    if problems:
        session.rollback()
        return _form(overview, entry, problems, chosen), 400
    count = entries.log_for_class(
        session, viewer(), class_id, chosen, entry, service_url(), today()
    )
    session.commit()
    flash(gettext("Logged for %(n)s pupils.", n=count))
    return redirect(url_for("web.classes.show", class_id=class_id))


def _form(
    overview: object,
    entry: entries.EntryInput,
    problems: list[entries.Problem],
    chosen: list[str] | None,
) -> str:
    return render_template(
        "classes/log.html",
        overview=overview,
        entry=entry,
        problems=[problem_text(p) for p in problems],
        chosen=chosen,
        vocabulary=vocabulary,
        today=today(),
    )
