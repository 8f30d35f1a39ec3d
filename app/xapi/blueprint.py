"""The /xapi blueprint: version and credential are checked once, before every view."""

from __future__ import annotations

import re

from flask import Blueprint, Response, current_app, g, request
from flask.typing import ResponseReturnValue

from app.errors import error_response
from app.lrs_auth import credential_from_header
from app.rate_limits import over_limit
from app.xapi.request import from_flask
from records.credentials import CredentialInfo
from records.errors import BadRequestError, ForbiddenError

bp = Blueprint("xapi", __name__)

VERSION = "1.0.3"
_ACCEPTED_VERSION = re.compile(r"^1\.0(\.\d+)?$")
_CORS_HEADERS = {
    "Access-Control-Allow-Origin": "*",
    "Access-Control-Allow-Methods": "GET, HEAD, PUT, POST, DELETE, OPTIONS",
    "Access-Control-Allow-Headers": (
        "Authorization, Content-Type, If-Match, If-None-Match, X-Experience-API-Version, "
        "Accept-Language"
    ),
    "Access-Control-Expose-Headers": (
        "ETag, Last-Modified, X-Experience-API-Version, X-Experience-API-Consistent-Through, "
        "Content-Type"
    ),
    "Access-Control-Max-Age": "86400",
}


@bp.before_request
def _prepare() -> ResponseReturnValue | None:
    if request.method == "OPTIONS":
        return Response(status=200)
    xreq = from_flask(request)
    g.xreq = xreq
    if request.endpoint == "xapi.about":
        return None
    version = xreq.headers.get("X-Experience-API-Version")
    if version is None:
        raise BadRequestError(
            f"send the header X-Experience-API-Version (this LRS speaks {VERSION})"
        )
    if not _ACCEPTED_VERSION.match(version.strip()):
        raise BadRequestError(
            f"X-Experience-API-Version {version!r} is not supported; use {VERSION}"
        )
    # Statement writes check revocation in their own transaction (records.store), so they may
    # take a recently authenticated credential from memory.
    writes_statements = request.endpoint == "xapi.statements" and xreq.method in {"POST", "PUT"}
    g.credential = credential_from_header(
        xreq.headers.get("Authorization"), revocation_checked_later=writes_statements
    )
    limit = int(current_app.config["LRS_REQUESTS_PER_MINUTE"])
    wait = over_limit("credential", g.credential.key, limit)
    if wait is not None:
        response = error_response(
            429,
            f"this credential sent more than {limit} requests in a minute; wait {wait} s "
            "(devices should send statements in batches)",
        )
        response.headers["Retry-After"] = str(wait)  # type: ignore[union-attr]
        return response
    return None


@bp.after_app_request
def _headers(response: Response) -> Response:
    # App-wide so that answers for unknown /xapi paths (404, 405) carry the headers too.
    if not request.path.startswith(f"{request.script_root}/xapi"):
        return response
    headers = response.headers
    headers["X-Experience-API-Version"] = VERSION
    # One pass over the headers instead of a lookup per CORS header (this runs on every call).
    present = {name.lower() for name in headers.keys()}  # noqa: SIM118 - Headers iterates pairs
    headers.extend(
        (name, value) for name, value in _CORS_HEADERS.items() if name.lower() not in present
    )
    return response


def current_credential() -> CredentialInfo:
    credential: CredentialInfo = g.credential
    return credential


def require_scope(*scopes: str) -> CredentialInfo:
    credential = current_credential()
    if not credential.allows(*scopes):
        raise ForbiddenError(
            f"this credential lacks the scope for this action (needs one of: "
            f"{', '.join(scopes)}, all)"
        )
    return credential
