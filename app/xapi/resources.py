"""/xapi/about, /xapi/activities and /xapi/agents."""

from __future__ import annotations

from flask import Response, g
from flask.typing import ResponseReturnValue

from app.db import get_session
from app.xapi.blueprint import VERSION, bp, require_scope
from app.xapi.request import XapiRequest, parse_json
from records.errors import BadRequestError
from records.identity.people import xapi_person
from records.jsontext import dump_json
from records.query import get_activity
from records.trust.lrs_reads import agent_document_read
from records.xapi import is_iri, parse_agent

_READ_SCOPES = ("statements/read", "statements/read/mine", "all/read", "state", "profile")


@bp.route("/about", methods=["GET", "HEAD"])
def about() -> ResponseReturnValue:
    body = {"version": ["1.0.0", "1.0.1", "1.0.2", VERSION], "extensions": {}}
    return Response(dump_json(body), status=200, mimetype="application/json")


@bp.route("/activities", methods=["GET", "HEAD"])
def activities() -> ResponseReturnValue:
    xreq: XapiRequest = g.xreq
    credential = require_scope(*_READ_SCOPES)
    _only(xreq, {"activityId"})
    activity_id = xreq.single("activityId")
    if activity_id is None:
        raise BadRequestError("GET /activities needs the activityId parameter")
    if not is_iri(activity_id):
        raise BadRequestError(f"activityId must be an IRI, got {activity_id!r}")
    activity = get_activity(get_session(), credential.org_id, activity_id)
    return Response(dump_json(activity), status=200, mimetype="application/json")


@bp.route("/agents", methods=["GET", "HEAD"])
def agents() -> ResponseReturnValue:
    xreq: XapiRequest = g.xreq
    credential = require_scope(*_READ_SCOPES)
    _only(xreq, {"agent"})
    raw = xreq.single("agent")
    if raw is None:
        raise BadRequestError("GET /agents needs the agent parameter")
    agent = parse_agent(parse_json(raw.encode("utf-8"), 16, "the agent parameter"))
    if agent.get("objectType") == "Group":
        raise BadRequestError("GET /agents takes an Agent, not a Group")
    session = get_session()
    person = xapi_person(session, agent, credential.org_id)
    if agent_document_read(session, credential.id, credential.org_id, agent, "xapi.agents"):
        session.commit()  # the access-log row: who read this person's identifiers
    return Response(dump_json(person), status=200, mimetype="application/json")


def _only(xreq: XapiRequest, allowed: set[str]) -> None:
    unknown = set(xreq.args) - allowed
    if unknown:
        raise BadRequestError(f"unexpected parameter(s): {', '.join(sorted(unknown))}")
