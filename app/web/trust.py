"""Trust pages: "who looked at my data" for pupils and guardians (with CSV download), and the
school's access log for its admins with a check of the log's hash chain."""

from __future__ import annotations

import csv
import io
import json
from datetime import UTC, datetime, time, timedelta

from flask import Blueprint, Response, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext
from flask_login import login_required
from sqlalchemy import select

from app.db import get_session
from app.web.common import JST, locale, today, viewer
from app.web.reauth import recently_authenticated, sensitive
from records.audit import verify_chain
from records.errors import BadRequestError, ForbiddenError, NotFoundError
from records.identity.access import wards_of
from records.identity.models import Person
from records.identity.people import find_person
from records.portfolio.access import own_portfolio
from records.portfolio.summary import school_year_of
from records.portfolio.timeline import TimelineFilter, timeline_page
from records.trust import words
from records.trust.access_history import (
    AccessFilter,
    AccessPage,
    person_access_log,
    school_access_log,
)
from records.trust.consent import (
    RECIPIENT_KINDS,
    SCOPES,
    SHARING_PURPOSES,
    ConsentRequest,
    consents_of,
    give_consent,
    receipt_document,
    receipt_of,
    revoke_consent,
)
from records.trust.erasure import decide_erasure, pending_requests, request_erasure
from records.trust.models import ConsentReceipt, ErasureRequest
from records.trust.sharing import NewShare, create_share, revoke_share, shares_of

bp = Blueprint("trust", __name__)


@bp.before_request
@login_required
def _signed_in() -> None:
    """Every trust page needs a signed-in account (checked per request)."""


@bp.get("/access-log")
def access_log() -> ResponseReturnValue:
    session = get_session()
    public_id = _whose()
    filters, chosen = _filters(pupil_page=True)
    page = person_access_log(session, viewer(), public_id, today(), locale(), filters, _before())
    person = find_person(session, public_id)
    session.commit()  # the row saying this log was read
    return render_template(
        "trust/access_log.html",
        page=page,
        person=person,
        own=person.id == viewer().person_id,
        wards=_wards(),
        chosen=chosen,
        words=words,
    )


@bp.get("/access-log.csv")
def access_log_csv() -> ResponseReturnValue:
    session = get_session()
    public_id = _whose()
    filters, _ = _filters(pupil_page=True)
    page = person_access_log(
        session, viewer(), public_id, today(), locale(), filters, limit=100_000
    )
    session.commit()
    return _csv(page, f"access-log-{public_id}.csv")


@bp.get("/school-log")
def school_log() -> ResponseReturnValue:
    session = get_session()
    filters, chosen = _filters()
    page = school_access_log(session, viewer(), today(), locale(), filters, _before())
    session.commit()
    return render_template(
        "trust/school_log.html", page=page, chosen=chosen, words=words, report=None
    )


@bp.post("/school-log/verify")
def verify_school_log() -> ResponseReturnValue:
    """Walk the hash chain and say whether the log is intact (system and school admins)."""
    if not viewer().has_role("school_admin", "system_admin"):
        raise ForbiddenError("only admins check the access log")
    session = get_session()
    report = verify_chain(session)
    filters, chosen = _filters()
    page = school_access_log(session, viewer(), today(), locale(), filters)
    session.commit()
    return render_template(
        "trust/school_log.html", page=page, chosen=chosen, words=words, report=report
    )


@bp.get("/school-log.csv")
def school_log_csv() -> ResponseReturnValue:
    session = get_session()
    filters, _ = _filters()
    page = school_access_log(session, viewer(), today(), locale(), filters, limit=100_000)
    session.commit()
    return _csv(page, "school-access-log.csv")


def _whose() -> str:
    """The pupil whose log is asked for: a ward's (guardians), else one's own."""
    chosen = request.args.get("pupil", "")
    if chosen:
        return chosen
    person_id = viewer().person_id
    if person_id is None:
        raise BadRequestError("choose a pupil")
    wards = _wards()
    if viewer().has_role("guardian") and wards and not viewer().has_role("pupil"):
        return wards[0].public_id
    person = get_session().get(Person, person_id)
    if person is None:
        raise BadRequestError("choose a pupil")
    return person.public_id


def _wards() -> list[Person]:
    ids = wards_of(get_session(), viewer(), today())
    if not ids:
        return []
    return list(get_session().scalars(select(Person).where(Person.id.in_(ids)).order_by(Person.id)))


def _filters(pupil_page: bool = False) -> tuple[AccessFilter, dict[str, str]]:
    period = request.args.get("period", "")
    include_self = not pupil_page or request.args.get("mine") == "1"
    purpose = request.args.get("purpose") or None
    day = today()
    since = None
    if period == "week":
        since = day - timedelta(days=day.weekday())
    elif period == "month":
        since = day.replace(day=1)
    elif period == "year":
        since = school_year_of(day)[0]
    else:
        period = ""
    start = datetime.combine(since, time(0), JST) if since else None
    chosen = {"period": period, "purpose": purpose or "", "mine": "1" if include_self else ""}
    return AccessFilter(since=start, purpose=purpose, include_self=include_self), chosen


def _before() -> int | None:
    raw = request.args.get("before", "")
    if not raw:
        return None
    try:
        return int(raw)
    except ValueError:
        raise BadRequestError("this page link is broken; go back to the first page") from None


def _csv(page: AccessPage, filename: str) -> Response:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(
        [
            gettext("When"),
            gettext("Whose data"),
            gettext("Who"),
            gettext("Role"),
            gettext("Organisation"),
            gettext("What"),
            gettext("Why"),
            gettext("How many"),
        ]
    )
    lang = locale()
    for row in page.rows:
        role = words.ROLES[row.role].get(lang) if row.role in words.ROLES else ""
        writer.writerow(
            [
                row.at.astimezone(JST).isoformat(timespec="seconds"),
                row.subject_name,
                row.who,
                role,
                row.organisation,
                row.what,
                row.purpose_words,
                row.count,
            ]
        )
    # A BOM so that Excel (what school offices open CSV with) reads the Japanese correctly.
    body = "\ufeff" + out.getvalue()
    response = Response(body, mimetype="text/csv; charset=utf-8")
    response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


# --- consent --------------------------------------------------------------------------------


@bp.route("/consents", methods=["GET", "POST"])
def consents() -> ResponseReturnValue:
    session = get_session()
    public_id = _whose()
    problems: list[str] = []
    if request.method == "POST" and _on_behalf(public_id) and not recently_authenticated():
        return redirect(url_for("web.reauth.confirm", next=request.full_path))
    if request.method == "POST":
        consent_request = ConsentRequest(
            purpose=request.form.get("purpose", ""),
            recipient_kind=request.form.get("recipient_kind", ""),
            scope=request.form.get("scope", ""),
            recipient_org_code=request.form.get("recipient_org_code", "").strip() or None,
            recipient_name=request.form.get("recipient_name", ""),
        )
        problems = consent_request.problems()
        if not problems:
            give_consent(session, viewer(), public_id, consent_request, today())
            session.commit()
            flash(gettext("Your consent was recorded. You can download its receipt below."))
            return redirect(url_for("web.trust.consents", pupil=request.args.get("pupil")))
    found = consents_of(session, viewer(), public_id, today())
    receipts = _receipts_by_consent([c.id for c in found])
    session.commit()
    return (
        render_template(
            "trust/consents.html",
            consents=found,
            receipts=receipts,
            problems=[_consent_problem(p) for p in problems],
            form=request.form,
            pupil=request.args.get("pupil"),
            purposes=SHARING_PURPOSES,
            kinds=RECIPIENT_KINDS,
            scopes=SCOPES,
        ),
        400 if problems else 200,
    )


@bp.post("/consents/<int:consent_id>/revoke")
def revoke(consent_id: int) -> ResponseReturnValue:
    session = get_session()
    revoke_consent(session, viewer(), consent_id, today())
    session.commit()
    flash(gettext("The consent was revoked. From now on nothing more is shared."))
    return redirect(url_for("web.trust.consents", pupil=request.args.get("pupil")))


@bp.get("/receipts/<int:receipt_id>.json")
def receipt(receipt_id: int) -> ResponseReturnValue:
    session = get_session()
    found = receipt_of(session, viewer(), receipt_id, today())
    session.commit()
    response = Response(
        json.dumps(receipt_document(found), ensure_ascii=False, indent=2),
        mimetype="application/json",
    )
    response.headers["Content-Disposition"] = (
        f'attachment; filename="consent-receipt-{receipt_id}.json"'
    )
    return response


def _on_behalf(public_id: str) -> bool:
    person = find_person(get_session(), public_id)
    return person.id != viewer().person_id


def _receipts_by_consent(consent_ids: list[int]) -> dict[int, list[ConsentReceipt]]:
    found: dict[int, list[ConsentReceipt]] = {}
    if consent_ids:
        for row in get_session().scalars(
            select(ConsentReceipt)
            .where(ConsentReceipt.consent_id.in_(consent_ids))
            .order_by(ConsentReceipt.id)
        ):
            found.setdefault(row.consent_id, []).append(row)
    return found


def _consent_problem(problem: str) -> str:
    if problem.startswith("say who"):
        return str(gettext("Say who receives the data: a school code or a name."))
    if problem.startswith("the recipient"):
        return str(gettext("The recipient's name is too long."))
    return str(gettext("Choose from the lists."))


# --- share links ------------------------------------------------------------------------------


@bp.route("/shares", methods=["GET", "POST"])
def shares() -> ResponseReturnValue:
    session = get_session()
    created: NewShare | None = None
    error: str | None = None
    if request.method == "POST":
        try:
            days = int(request.form.get("days", "7"))
        except ValueError:
            days = 0
        try:
            created = create_share(
                session,
                viewer(),
                request.form.getlist("entries"),
                request.form.get("title", ""),
                request.form.get("recipient", ""),
                days,
                request.form.get("requires", ""),
                today(),
            )
        except BadRequestError:
            session.rollback()
            error = gettext(
                "Choose at least one entry, give a title, say who you share with, and keep "
                "the link for 1 to 30 days."
            )
        else:
            session.commit()
    pupil = own_portfolio(session, viewer(), today(), "share_links.list")
    mine = timeline_page(session, pupil, TimelineFilter(kind="mine"), locale())
    links = shares_of(session, viewer(), today())
    session.commit()
    return (
        render_template(
            "trust/shares.html",
            links=links,
            entries=mine.items,
            created=created,
            share_url=url_for("web.shared.view", token=created.token, _external=True)
            if created
            else None,
            error=error,
            now=datetime.now(UTC),
        ),
        400 if error else 200,
    )


@bp.post("/shares/<int:link_id>/revoke")
def revoke_link(link_id: int) -> ResponseReturnValue:
    session = get_session()
    revoke_share(session, viewer(), link_id, today())
    session.commit()
    flash(gettext("The link no longer works."))
    return redirect(url_for("web.trust.shares"))


# --- erasure ----------------------------------------------------------------------------------


@bp.post("/erasure")
@sensitive
def ask_erasure() -> ResponseReturnValue:
    session = get_session()
    public_id = _whose()
    request_erasure(session, viewer(), public_id, request.form.get("reason", ""), today())
    session.commit()
    flash(gettext("Your request was sent. Your school's admin will decide and tell you."))
    return redirect(url_for("web.trust.consents", pupil=request.args.get("pupil")))


@bp.get("/erasures")
def erasures() -> ResponseReturnValue:
    if not viewer().has_role("school_admin", "system_admin"):
        raise ForbiddenError("only school admins decide on erasure")
    session = get_session()
    pending = pending_requests(session, viewer())
    done = list(
        session.scalars(
            select(ErasureRequest)
            .where(
                ErasureRequest.status != "requested",
                ErasureRequest.org_id.in_(viewer().orgs_for("school_admin") or {0})
                if not viewer().has_role("system_admin")
                else ErasureRequest.id.isnot(None),
            )
            .order_by(ErasureRequest.id.desc())
            .limit(50)
        )
    )
    names = {
        p.id: p
        for p in session.scalars(
            select(Person).where(Person.id.in_([r.person_id for r in pending if r.person_id]))
        )
    }
    session.commit()  # the access-log rows for the pupils named
    return render_template("trust/erasures.html", pending=pending, done=done, names=names)


@bp.post("/erasures/<int:request_id>/decide")
@sensitive
def decide(request_id: int) -> ResponseReturnValue:
    session = get_session()
    approve = request.form.get("decision") == "approve"
    decided = decide_erasure(session, viewer(), request_id, approve)
    session.commit()
    if decided.status == "done":
        flash(gettext("Erased. The deletion certificate is ready to download."))
    else:
        flash(gettext("The request was refused."))
    return redirect(url_for("web.trust.erasures"))


@bp.get("/erasures/<int:request_id>/certificate.json")
def certificate(request_id: int) -> ResponseReturnValue:
    session = get_session()
    found = session.get(ErasureRequest, request_id)
    allowed = viewer().has_role("system_admin") or (
        found is not None and found.org_id in viewer().orgs_for("school_admin")
    )
    if found is None or found.certificate is None or not allowed:
        raise NotFoundError("no deletion certificate here")
    document = {**found.certificate, "signature": {"alg": "HS256", "value": found.signature}}
    response = Response(
        json.dumps(document, ensure_ascii=False, indent=2), mimetype="application/json"
    )
    response.headers["Content-Disposition"] = (
        f'attachment; filename="deletion-certificate-{request_id}.json"'
    )
    return response
