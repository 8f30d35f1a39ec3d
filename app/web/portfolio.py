"""The pupil's portfolio pages: learning at a glance (charts, streak, latest entries), the
whole history with filters, writing, editing and withdrawing entries, their files, and
teachers' feedback. Every page that shows a pupil's data opens it through
records.portfolio.access, which logs the access."""

from __future__ import annotations

from datetime import datetime, time, timedelta

from flask import (
    Blueprint,
    Response,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask.typing import ResponseReturnValue
from flask_babel import gettext
from flask_login import login_required

from app.db import get_session
from app.web.charts import learner_charts
from app.web.common import JST, locale, service_url, today, viewer
from app.web.forms import entry_from_form, problem_text
from records.portfolio import entries, vocabulary
from records.portfolio.access import Pupil, open_portfolio, own_portfolio
from records.portfolio.files import entry_file
from records.portfolio.summary import learning_rows, school_year_of, streaks
from records.portfolio.timeline import TimelineFilter, timeline_page

bp = Blueprint("portfolio", __name__)
LATEST = 8


@bp.before_request
@login_required
def _signed_in() -> None:
    """Every portfolio page needs a signed-in account (zero trust: checked per request)."""


@bp.get("")
def home() -> ResponseReturnValue:
    session = get_session()
    pupil = own_portfolio(session, viewer(), today(), "portfolio.home")
    page = _glance(pupil, own=True)
    session.commit()
    return page


@bp.get("/people/<public_id>")
def pupil_home(public_id: str) -> ResponseReturnValue:
    session = get_session()
    pupil = open_portfolio(session, viewer(), public_id, today(), "portfolio.home")
    page = _glance(pupil, own=viewer().person_id == pupil.id)
    session.commit()
    return page


def _glance(pupil: Pupil, own: bool) -> str:
    session = get_session()
    day = today()
    first, last = school_year_of(day)
    rows = learning_rows(session, pupil, first, last)
    current, longest = streaks([r.day for r in rows], day)
    week_start = day - timedelta(days=day.weekday())
    latest = timeline_page(session, pupil, TimelineFilter(), locale(), page_size=LATEST)
    return render_template(
        "portfolio/home.html",
        pupil=pupil,
        own=own,
        charts=learner_charts(rows, first, min(last, day)),
        streak=current,
        longest=longest,
        week_days=len({r.day for r in rows if r.day >= week_start}),
        year_records=len(rows),
        year_minutes=round(sum(r.minutes or 0 for r in rows)),
        latest=latest.items,
        vocabulary=vocabulary,
        can_feedback=_may_give_feedback(own),
    )


def _may_give_feedback(own: bool) -> bool:
    """Shows the feedback form; records.portfolio.entries.give_feedback decides for real."""
    return not own and viewer().has_role("teacher")


@bp.get("/people/<public_id>/history")
def history(public_id: str) -> ResponseReturnValue:
    session = get_session()
    pupil = open_portfolio(session, viewer(), public_id, today(), "portfolio.history")
    filters, period = _filters()
    page = timeline_page(session, pupil, filters, locale(), request.args.get("page"))
    session.commit()
    return render_template(
        "portfolio/history.html",
        pupil=pupil,
        own=viewer().person_id == pupil.id,
        can_feedback=_may_give_feedback(viewer().person_id == pupil.id),
        page=page,
        chosen={
            "subject": filters.subject or "",
            "kind": filters.kind or "",
            "period": period,
        },
        vocabulary=vocabulary,
    )


def _filters() -> tuple[TimelineFilter, str]:
    subject = request.args.get("subject") or None
    kind = request.args.get("kind") or None
    period = request.args.get("period", "")
    day = today()
    since = None
    if period == "week":
        since = day - timedelta(days=day.weekday())
    elif period == "month":
        since = day.replace(day=1)
    elif period == "year":
        since = school_year_of(day)[0]
    elif period:
        period = ""
    start = datetime.combine(since, time(0), JST) - timedelta(microseconds=1) if since else None
    return TimelineFilter(subject=subject, kind=kind, since=start), period


@bp.route("/new", methods=["GET", "POST"])
def new_entry() -> ResponseReturnValue:
    kind = request.values.get("kind", "activity")
    if kind not in vocabulary.ENTRY_KINDS:
        kind = "activity"
    session = get_session()
    own_portfolio(session, viewer(), today(), "portfolio.new_entry")  # pupils only
    if request.method == "GET":
        session.commit()
        # A link placed in an LMS (LTI deep linking) may name the unit to reflect on.
        title = request.args.get("unit", "")[: entries.MAX_TITLE]
        return _entry_form(entries.EntryInput(kind=kind, title=title, language=locale()), [])
    entry, problems = entry_from_form(request.form, request.files, locale())
    problems += entries.check_entry(entry, today())
    if problems:
        session.rollback()
        return _entry_form(entry, problems), 400
    entries.write_entry(session, viewer(), entry, service_url(), today())
    session.commit()
    flash(gettext("Saved. Well done!"))
    return redirect(url_for("web.portfolio.home"))


@bp.route("/entries/<statement_id>/edit", methods=["GET", "POST"])
def edit_entry(statement_id: str) -> ResponseReturnValue:
    session = get_session()
    own_portfolio(session, viewer(), today(), "portfolio.edit_entry")
    if request.method == "GET":
        entry = entries.own_entry_input(session, viewer(), statement_id)
        session.commit()
        return _entry_form(entry, [], statement_id=statement_id)
    entry, problems = entry_from_form(request.form, request.files, locale())
    problems += entries.check_entry(
        entry if entry.kind != "artifact" else _with_placeholder(entry), today()
    )
    if problems:
        session.rollback()
        return _entry_form(entry, problems, statement_id=statement_id), 400
    entries.edit_entry(session, viewer(), statement_id, entry, service_url(), today())
    session.commit()
    flash(gettext("Your entry was changed. The earlier version is kept in your records."))
    return redirect(url_for("web.portfolio.home"))


def _with_placeholder(entry: entries.EntryInput) -> entries.EntryInput:
    """An edited artifact may keep its files, so the form need not send them again."""
    if entry.artifacts:
        return entry
    return entries.EntryInput(
        kind="activity",
        title=entry.title,
        subject=entry.subject,
        minutes=entry.minutes,
        text=entry.text,
        happened_on=entry.happened_on,
        language=entry.language,
    )


@bp.post("/entries/<statement_id>/withdraw")
def withdraw_entry(statement_id: str) -> ResponseReturnValue:
    session = get_session()
    own_portfolio(session, viewer(), today(), "portfolio.withdraw_entry")
    entries.withdraw_entry(session, viewer(), statement_id, service_url())
    session.commit()
    flash(gettext("The entry was withdrawn. It no longer shows in your portfolio."))
    return redirect(url_for("web.portfolio.home"))


@bp.get("/people/<public_id>/entries/<statement_id>/files/<sha2>")
def entry_file_view(public_id: str, statement_id: str, sha2: str) -> ResponseReturnValue:
    session = get_session()
    pupil = open_portfolio(session, viewer(), public_id, today(), "portfolio.file")
    found = entry_file(session, pupil, statement_id, sha2)
    session.commit()
    response = Response(found.content, mimetype=found.content_type)
    # Never rendered as a page of ours, whatever the bytes claim to be.
    response.headers["Content-Security-Policy"] = "default-src 'none'; sandbox"
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Cache-Control"] = "private, max-age=3600"
    if not found.content_type.startswith("image/"):
        response.headers["Content-Disposition"] = "inline"
    return response


@bp.post("/people/<public_id>/entries/<statement_id>/feedback")
def feedback(public_id: str, statement_id: str) -> ResponseReturnValue:
    session = get_session()
    achievement = request.form.get("achievement") == "1"
    entries.give_feedback(
        session,
        viewer(),
        public_id,
        statement_id,
        request.form.get("text"),
        achievement,
        service_url(),
        today(),
    )
    session.commit()
    if achievement:
        flash(gettext("Marked as an achievement."))
    else:
        flash(gettext("Your comment was sent."))
    return redirect(url_for("web.portfolio.pupil_home", public_id=public_id))


def _entry_form(
    entry: entries.EntryInput,
    problems: list[entries.Problem],
    statement_id: str | None = None,
) -> str:
    return render_template(
        "portfolio/entry_form.html",
        entry=entry,
        problems=[problem_text(p) for p in problems],
        statement_id=statement_id,
        vocabulary=vocabulary,
        today=today(),
    )
