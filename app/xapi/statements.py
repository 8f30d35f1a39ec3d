"""/xapi/statements: PUT, POST and GET (single, voided, query), HEAD, with attachments."""

from __future__ import annotations

import secrets
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlencode

from flask import Response, current_app, g, request
from flask.typing import ResponseReturnValue
from sqlalchemy.exc import SQLAlchemyError
from werkzeug.http import http_date

from app import group_commit
from app.db import commit_request_session, get_session
from app.lrs_auth import authority_of
from app.xapi.blueprint import bp, require_scope
from app.xapi.request import XapiRequest, parse_json, split_multipart
from records import query as statement_query
from records.clock import consistent_through
from records.credentials import CredentialInfo
from records.errors import BadRequestError
from records.jsontext import dump_json
from records.store import AttachmentPart, Writer, format_stored
from records.trust.lrs_reads import statements_read
from records.xapi import (
    agent_key,
    format_statement,
    is_iri,
    parse_agent,
    parse_statement,
    parse_statements,
    parse_timestamp,
    parse_uuid,
)

_QUERY_PARAMS = {
    "agent",
    "verb",
    "activity",
    "registration",
    "related_activities",
    "related_agents",
    "since",
    "until",
    "limit",
    "format",
    "attachments",
    "ascending",
    "more",
}
_SINGLE_PARAMS = {"statementId", "voidedStatementId", "format", "attachments"}


@bp.after_request
def _consistent_through(response: Response) -> Response:
    """Every answer of the statement resource, errors included, tells how current it is."""
    header = "X-Experience-API-Consistent-Through"
    reading = request.method in {"GET", "HEAD"} or request.args.get("method") in {"GET", "HEAD"}
    if request.endpoint == "xapi.statements" and reading and header not in response.headers:
        try:
            moment = consistent_through(get_session())
        except SQLAlchemyError:
            moment = datetime.now(UTC)
        response.headers[header] = format_stored(moment)
    return response


@bp.route("/statements", methods=["GET", "HEAD", "PUT", "POST"])
def statements() -> ResponseReturnValue:
    xreq: XapiRequest = g.xreq
    if xreq.method in {"GET", "HEAD"}:
        return _get(xreq)
    if xreq.method == "PUT":
        return _put(xreq)
    if xreq.method == "POST":
        return _post(xreq)
    raise BadRequestError(f"{xreq.method} is not allowed on /statements")


# --- writing -----------------------------------------------------------------------------------


def _put(xreq: XapiRequest) -> ResponseReturnValue:
    credential = require_scope("statements/write")
    unknown = set(xreq.args) - {"statementId"}
    if unknown:
        raise BadRequestError(f"unexpected parameter(s) for PUT: {', '.join(sorted(unknown))}")
    raw_id = xreq.single("statementId")
    if raw_id is None:
        raise BadRequestError("PUT /statements needs the statementId parameter")
    statement_id = parse_uuid(raw_id, "statementId")
    body, parts = _body(xreq)
    raw = parse_json(body, current_app.config["MAX_JSON_DEPTH"])
    if not isinstance(raw, dict):
        raise BadRequestError("PUT /statements takes one statement (a JSON object)")
    statement = parse_statement(raw)
    commit_request_session()  # end the request's own transaction before the write
    group_commit.save(_writer(credential), [statement], parts, forced_id=statement_id)
    return Response(status=204)


def _post(xreq: XapiRequest) -> ResponseReturnValue:
    credential = require_scope("statements/write")
    if xreq.args:
        raise BadRequestError(f"unexpected parameter(s) for POST: {', '.join(sorted(xreq.args))}")
    body, parts = _body(xreq)
    raw = parse_json(body, current_app.config["MAX_JSON_DEPTH"])
    statements = parse_statements(raw)
    commit_request_session()  # end the request's own transaction before the write
    ids = group_commit.save(_writer(credential), statements, parts)
    return Response(dump_json(ids), status=200, mimetype="application/json")


def _body(xreq: XapiRequest) -> tuple[bytes, list[AttachmentPart]]:
    mimetype = xreq.mimetype
    if mimetype == "multipart/mixed":
        return split_multipart(xreq.headers.get("Content-Type", ""), xreq.body)
    if mimetype != "application/json":
        raise BadRequestError(
            "statements must be sent as application/json, or multipart/mixed with attachments "
            f"(got {mimetype or 'no Content-Type'})"
        )
    return xreq.body, []


def _writer(credential: CredentialInfo) -> Writer:
    return Writer(
        credential.org_id,
        credential.id,
        authority_of(credential),
        may_define=credential.allows("define"),
    )


# --- reading -----------------------------------------------------------------------------------


def _get(xreq: XapiRequest) -> ResponseReturnValue:
    credential = require_scope("statements/read", "statements/read/mine", "all/read")
    mine_only = not credential.allows("statements/read", "all/read")
    reader = statement_query.Reader(credential.org_id, credential.id if mine_only else None)
    fmt = xreq.single("format") or "exact"
    if fmt not in {"exact", "ids", "canonical"}:
        raise BadRequestError("format must be one of exact, ids, canonical")
    with_attachments = _flag(xreq, "attachments")
    languages = _languages()
    session = get_session()
    single_id = xreq.single("statementId")
    voided_id = xreq.single("voidedStatementId")
    if single_id is not None or voided_id is not None:
        extra = set(xreq.args) - _SINGLE_PARAMS
        if single_id is not None and voided_id is not None:
            raise BadRequestError("give statementId or voidedStatementId, not both")
        if extra:
            raise BadRequestError(
                "with statementId or voidedStatementId only format and attachments may be "
                f"given, not {', '.join(sorted(extra))}"
            )
        wanted = parse_uuid(
            single_id or voided_id, "statementId" if single_id else "voidedStatementId"
        )
        full, stored = statement_query.get_statement(
            session, reader, wanted, voided=voided_id is not None
        )
        if statements_read(session, credential.id, credential.org_id, [full]):
            session.commit()  # the access-log rows: who read which pupil's records
        result: Any = format_statement(full, fmt, languages)
        response = _respond(session, credential.org_id, result, [full], with_attachments)
        response.headers["Last-Modified"] = http_date(stored)
        response.headers["X-Experience-API-Consistent-Through"] = format_stored(stored)
        return response
    unknown = set(xreq.args) - _QUERY_PARAMS
    if unknown:
        raise BadRequestError(f"unknown parameter(s): {', '.join(sorted(unknown))}")
    token = xreq.single("more")
    query = statement_query.decode_cursor(token) if token else _query(xreq)
    page = statement_query.find_statements(
        session, reader, query, current_app.config["LRS_PAGE_SIZE"]
    )
    more = _more_url(page.more, fmt, with_attachments) if page.more else ""
    statements = page.statements
    if statements_read(session, credential.id, credential.org_id, statements):
        session.commit()  # the access-log rows: who read which pupils' records
    if fmt == "exact" and not with_attachments:
        # The stored texts as they are: no parsing and re-encoding of every statement.
        body = b'{"statements":[' + ",".join(page.texts).encode("utf-8")
        body += b'],"more":' + dump_json(more) + b"}"
        response = Response(body, status=200, mimetype="application/json")
    else:
        result = {
            "statements": [format_statement(st, fmt, languages) for st in statements],
            "more": more,
        }
        response = _respond(session, credential.org_id, result, statements, with_attachments)
    response.headers["X-Experience-API-Consistent-Through"] = format_stored(page.consistent_through)
    if page.last_modified is not None:
        response.headers["Last-Modified"] = http_date(page.last_modified)
    return response


def _query(xreq: XapiRequest) -> statement_query.StatementQuery:
    agent = xreq.single("agent")
    key = None
    if agent is not None:
        parsed = parse_agent(parse_json(agent.encode("utf-8"), 16, "the agent parameter"))
        key = agent_key(parsed)
        if key is None:
            raise BadRequestError("the agent parameter must identify an Agent or identified Group")
    verb = xreq.single("verb")
    activity = xreq.single("activity")
    for name, value in (("verb", verb), ("activity", activity)):
        if value is not None and not is_iri(value):
            raise BadRequestError(f"the {name} parameter must be an IRI, got {value!r}")
    registration = xreq.single("registration")
    return statement_query.StatementQuery(
        agent_key=key,
        verb_id=verb,
        activity_id=activity,
        registration=parse_uuid(registration, "registration") if registration else None,
        related_agents=_flag(xreq, "related_agents"),
        related_activities=_flag(xreq, "related_activities"),
        since=_time(xreq, "since"),
        until=_time(xreq, "until"),
        limit=_limit(xreq),
        ascending=_flag(xreq, "ascending"),
    )


def _flag(xreq: XapiRequest, name: str) -> bool:
    value = xreq.single(name)
    if value is None:
        return False
    lowered = value.lower()
    if lowered not in {"true", "false"}:
        raise BadRequestError(f"the {name} parameter must be true or false, got {value!r}")
    return lowered == "true"


def _time(xreq: XapiRequest, name: str) -> datetime | None:
    value = xreq.single(name)
    return parse_timestamp(value, name) if value is not None else None


def _limit(xreq: XapiRequest) -> int:
    value = xreq.single("limit")
    if value is None:
        return 0
    if not value.isdigit():
        raise BadRequestError(f"limit must be a non-negative whole number, got {value!r}")
    return int(value)


def _languages() -> list[str]:
    return [lang for lang, _q in request.accept_languages]


def _more_url(token: str, fmt: str, with_attachments: bool) -> str:
    params = {"more": token}
    if fmt != "exact":
        params["format"] = fmt
    if with_attachments:
        params["attachments"] = "true"
    return f"{request.script_root}/xapi/statements?{urlencode(params)}"


def _respond(
    session: Any,
    org_id: int,
    result: Any,
    statements: list[dict[str, Any]],
    with_attachments: bool,
) -> Response:
    body = dump_json(result)
    if not with_attachments:
        return Response(body, status=200, mimetype="application/json")
    boundary = secrets.token_hex(16)
    chunks = [
        f"--{boundary}\r\nContent-Type: application/json\r\n\r\n".encode(),
        body,
        b"\r\n",
    ]
    for sha2, content_type, content in statement_query.attachments_for(session, org_id, statements):
        chunks.append(
            f"--{boundary}\r\nContent-Type: {content_type}\r\n"
            f"Content-Transfer-Encoding: binary\r\nX-Experience-API-Hash: {sha2}\r\n\r\n".encode()
        )
        chunks.extend([content, b"\r\n"])
    chunks.append(f"--{boundary}--\r\n".encode())
    return Response(
        b"".join(chunks), status=200, content_type=f"multipart/mixed; boundary={boundary}"
    )
