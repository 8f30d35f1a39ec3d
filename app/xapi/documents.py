"""/xapi/activities/state, /xapi/activities/profile and /xapi/agents/profile."""

from __future__ import annotations

from typing import Any

from flask import Response, current_app, g
from flask.typing import ResponseReturnValue
from werkzeug.http import http_date

from app.db import get_session
from app.xapi.blueprint import bp, require_scope
from app.xapi.request import XapiRequest, parse_json
from records import documents
from records.errors import BadRequestError
from records.jsontext import dump_json
from records.trust.lrs_reads import agent_document_read
from records.xapi import is_iri, parse_agent, parse_timestamp, parse_uuid

_PARAMS: dict[documents.Kind, dict[str, set[str]]] = {
    "state": {
        "required": {"activityId", "agent"},
        "optional": {"registration", "stateId", "since"},
    },
    "activity_profile": {"required": {"activityId"}, "optional": {"profileId", "since"}},
    "agent_profile": {"required": {"agent"}, "optional": {"profileId", "since"}},
}
_ID_PARAM: dict[documents.Kind, str] = {
    "state": "stateId",
    "activity_profile": "profileId",
    "agent_profile": "profileId",
}
_SCOPE_NEEDED: dict[documents.Kind, str] = {
    "state": "state",
    "activity_profile": "profile",
    "agent_profile": "profile",
}


@bp.route("/activities/state", methods=["GET", "HEAD", "PUT", "POST", "DELETE"])
def state() -> ResponseReturnValue:
    return _document_resource("state")


@bp.route("/activities/profile", methods=["GET", "HEAD", "PUT", "POST", "DELETE"])
def activity_profile() -> ResponseReturnValue:
    return _document_resource("activity_profile")


@bp.route("/agents/profile", methods=["GET", "HEAD", "PUT", "POST", "DELETE"])
def agent_profile() -> ResponseReturnValue:
    return _document_resource("agent_profile")


def _document_resource(kind: documents.Kind) -> ResponseReturnValue:
    xreq: XapiRequest = g.xreq
    reading = xreq.method in {"GET", "HEAD"}
    scopes = (_SCOPE_NEEDED[kind], "all/read") if reading else (_SCOPE_NEEDED[kind],)
    credential = require_scope(*scopes)
    scope, doc_id, since = _address(xreq, kind)
    session = get_session()
    org_id = credential.org_id
    pre = documents.Preconditions(
        if_match=xreq.headers.get("If-Match"), if_none_match=xreq.headers.get("If-None-Match")
    )
    if reading:
        if scope.agent is not None and agent_document_read(
            session, credential.id, org_id, scope.agent, f"xapi.{kind}"
        ):
            session.commit()  # the access-log row: who read this pupil's documents
        if doc_id is None:
            ids = documents.list_document_ids(session, org_id, scope, since)
            return Response(dump_json(ids), status=200, mimetype="application/json")
        if since is not None:
            raise BadRequestError("since only applies when asking for the list of ids")
        doc = documents.get_document(session, org_id, scope, doc_id)
        response = Response(doc.content, status=200, content_type=doc.content_type)
        response.headers["ETag"] = f'"{doc.etag}"'
        response.headers["Last-Modified"] = http_date(doc.updated)
        return response
    if since is not None:
        raise BadRequestError("since only applies to GET")
    if xreq.method == "DELETE":
        if doc_id is None:
            if kind != "state":
                raise BadRequestError(f"DELETE needs the {_ID_PARAM[kind]} parameter")
            documents.delete_documents(session, org_id, scope)
        else:
            documents.delete_document(session, org_id, scope, doc_id, pre)
        session.commit()
        return Response(status=204)
    if doc_id is None:
        raise BadRequestError(f"{xreq.method} needs the {_ID_PARAM[kind]} parameter")
    content_type = xreq.headers.get("Content-Type") or "application/octet-stream"
    if xreq.method == "POST":
        _check_json_object(xreq, content_type)
        doc = documents.post_document(session, org_id, scope, doc_id, xreq.body, content_type, pre)
    else:
        if _is_json(content_type):
            parse_json(xreq.body, current_app.config["MAX_JSON_DEPTH"], "the document")
        doc = documents.put_document(session, org_id, scope, doc_id, xreq.body, content_type, pre)
    session.commit()
    response = Response(status=204)
    response.headers["ETag"] = f'"{doc.etag}"'
    return response


def _address(xreq: XapiRequest, kind: documents.Kind) -> tuple[documents.Scope, str | None, Any]:
    spec = _PARAMS[kind]
    unknown = set(xreq.args) - spec["required"] - spec["optional"]
    if unknown:
        raise BadRequestError(f"unexpected parameter(s): {', '.join(sorted(unknown))}")
    missing = sorted(name for name in spec["required"] if xreq.single(name) is None)
    if missing:
        raise BadRequestError(f"missing required parameter(s): {', '.join(missing)}")
    activity_id = xreq.single("activityId")
    if activity_id is not None and not is_iri(activity_id):
        raise BadRequestError(f"activityId must be an IRI, got {activity_id!r}")
    agent = None
    raw_agent = xreq.single("agent")
    if raw_agent is not None:
        agent = parse_agent(parse_json(raw_agent.encode("utf-8"), 16, "the agent parameter"))
    registration = xreq.single("registration")
    if registration is not None:
        registration = parse_uuid(registration, "registration")
    raw_since = xreq.single("since")
    since = parse_timestamp(raw_since, "since") if raw_since is not None else None
    doc_id = xreq.single(_ID_PARAM[kind])
    scope = documents.Scope(kind, activity_id, agent, registration)
    return scope, doc_id, since


def _is_json(content_type: str) -> bool:
    return content_type.split(";")[0].strip().lower() == "application/json"


def _check_json_object(xreq: XapiRequest, content_type: str) -> None:
    if not _is_json(content_type):
        return
    value = parse_json(xreq.body, current_app.config["MAX_JSON_DEPTH"], "the document")
    if not isinstance(value, dict):
        raise BadRequestError("a JSON document sent by POST must be an object (it is merged)")
