"""Views of /api/v1. Each: load input schema, call one domain function, commit, dump, return.

Authentication: the session cookie (then unsafe methods need the CSRF token) or a personal
token as `Authorization: Bearer ...`. Authorisation is the domain's (records.identity.access).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlencode

from flask import Blueprint, current_app, jsonify, request
from flask.typing import ResponseReturnValue
from marshmallow import Schema, ValidationError

from app.api import schemas
from app.api.openapi import openapi_document
from app.auth import current_account, signed_in_via_token
from app.csrf import csrf
from app.db import get_session
from app.queue import enqueue
from app.urls import public_url
from records.errors import AuthenticationError, BadRequestError, NotFoundError
from records.identity import directory, rosters
from records.identity.accounts import AccountInfo
from records.identity.merge import merge_people, undo_merge
from records.jobs import create_job, get_job, set_status
from records.query import StatementQuery, decode_cursor

bp = Blueprint("api", __name__)
csrf.exempt(bp)  # checked below, only for cookie-authenticated unsafe requests


@bp.before_request
def _authenticate() -> None:
    if request.endpoint == "api.openapi":
        return
    if current_account() is None:
        raise AuthenticationError(
            "sign in, or send a personal API token as 'Authorization: Bearer ...'"
        )
    if request.method not in {"GET", "HEAD", "OPTIONS"} and not signed_in_via_token():
        csrf.protect()


@bp.get("/openapi.json")
def openapi() -> ResponseReturnValue:
    return jsonify(openapi_document())


@bp.get("/me")
def me() -> ResponseReturnValue:
    return jsonify(schemas.MeSchema().dump(_viewer()))


@bp.get("/people")
def people() -> ResponseReturnValue:
    args = _load(schemas.PeopleQuerySchema(), request.args)
    session = get_session()
    found = directory.list_people(
        session,
        _viewer(),
        _today(),
        class_id=args["class_id"],
        after_id=args["after"],
        limit=args["limit"],
    )
    session.commit()  # the access-log rows
    next_after = found[-1].id if len(found) == args["limit"] else None
    return jsonify(schemas.PeoplePageSchema().dump({"people": found, "next_after": next_after}))


@bp.get("/people/<public_id>")
def person(public_id: str) -> ResponseReturnValue:
    session = get_session()
    found = directory.read_person(session, _viewer(), public_id, _today())
    session.commit()
    return jsonify(schemas.PersonSchema().dump(found))


@bp.get("/people/<public_id>/statements")
def person_statements(public_id: str) -> ResponseReturnValue:
    args = _load(schemas.StatementsQuerySchema(), request.args)
    if args["more"]:
        query = decode_cursor(args["more"])
    else:
        query = StatementQuery(
            verb_id=args["verb"],
            since=args["since"],
            until=args["until"],
            limit=args["limit"],
            ascending=args["ascending"],
        )
    session = get_session()
    page = directory.person_statements(
        session, _viewer(), public_id, _today(), query, current_app.config["LRS_PAGE_SIZE"]
    )
    session.commit()
    more = ""
    if page.more:
        more = f"{request.script_root}/api/v1/people/{public_id}/statements?" + urlencode(
            {"more": page.more}
        )
    return jsonify({"statements": page.statements, "more": more})


@bp.get("/classes")
def classes() -> ResponseReturnValue:
    found = directory.list_classes(get_session(), _viewer(), _today())
    return jsonify({"classes": schemas.ClassSchema(many=True).dump(found)})


def _viewer() -> AccountInfo:
    account = current_account()
    if account is None:  # _authenticate ran; this keeps the type checker honest
        raise AuthenticationError("sign in first")
    return account


def _today() -> Any:
    return datetime.now(UTC).date()


def _messages(exc: ValidationError) -> dict[str, Any]:
    messages = exc.messages
    return messages if isinstance(messages, dict) else {"_": messages}


def _load(schema: Schema, data: Any) -> dict[str, Any]:
    try:
        loaded: dict[str, Any] = schema.load(data)
    except ValidationError as exc:
        problems = "; ".join(
            f"{field}: {' '.join(map(str, msgs))}" for field, msgs in _messages(exc).items()
        )
        raise BadRequestError(f"invalid parameters: {problems}") from None
    return loaded


@bp.post("/people/<public_id>/merges")
def merge_person(public_id: str) -> ResponseReturnValue:
    """Merge the person named in the body ({"duplicate": public_id}) into this one."""
    body = _load(schemas.MergeRequestSchema(), request.get_json(silent=True) or {})
    session = get_session()
    record = merge_people(session, _viewer(), public_id, body["duplicate"], _today())
    session.commit()
    return jsonify(schemas.MergeSchema().dump(record)), 201


@bp.post("/merges/<int:merge_id>/undo")
def undo_person_merge(merge_id: int) -> ResponseReturnValue:
    if merge_id > schemas.MAX_ID:  # larger than any id the database can hold
        raise NotFoundError(f"no merge {merge_id}")
    session = get_session()
    record = undo_merge(session, _viewer(), merge_id, _today())
    session.commit()
    return jsonify(schemas.MergeSchema().dump(record))


@bp.post("/roster/imports")
def roster_import() -> ResponseReturnValue:
    """Upload a OneRoster 1.2 CSV zip (the body, or a form field `file`); runs as a job."""
    viewer = _viewer()
    upload = request.files.get("file")
    data = upload.read() if upload is not None else request.get_data()
    if not data:
        raise BadRequestError("send the OneRoster zip as the body or as the form field 'file'")
    session = get_session()
    org_id = rosters.check_import_allowed(session, viewer, data, public_url(), _today())
    job_id = create_job(
        session,
        "roster_import",
        org_id=org_id,
        requested_by=viewer.id,
        upload=(upload.filename or "roster.zip" if upload is not None else "roster.zip", data),
    )
    session.commit()
    rq_id = enqueue("default", "app.jobs.run_roster_import", job_id)
    if rq_id is not None:
        set_status(session, job_id, "queued", rq_id=rq_id)
        session.commit()
    status_url = f"{request.script_root}/api/v1/jobs/{job_id}"
    return jsonify({"job": job_id, "status_url": status_url}), 202


@bp.get("/jobs/<job_id>")
def job_status(job_id: str) -> ResponseReturnValue:
    session = get_session()
    job = get_job(session, job_id)
    rosters.check_job_visible(session, _viewer(), job)
    return jsonify(schemas.JobSchema().dump(job))
