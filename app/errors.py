"""Domain errors and HTTP errors become JSON answers a person can act on; never a bare 500."""

from __future__ import annotations

import logging
from collections.abc import Callable

from flask import Flask, current_app, has_request_context, jsonify, request
from flask.typing import ResponseReturnValue
from sqlalchemy.exc import IntegrityError, OperationalError
from werkzeug.exceptions import HTTPException

from records import errors as domain
from records.identity.accounts import TooManyAttemptsError

log = logging.getLogger(__name__)

STATUS: dict[type[domain.RecordsError], int] = {
    domain.InvalidStatementError: 400,
    domain.BadRequestError: 400,
    domain.AuthenticationError: 401,
    domain.ForbiddenError: 403,
    domain.NotFoundError: 404,
    domain.StatementConflictError: 409,
    domain.DocumentConflictError: 409,
    domain.PreconditionFailedError: 412,
    TooManyAttemptsError: 429,
}


def error_response(status: int, message: str) -> ResponseReturnValue:
    if wants_page():
        # Rendered by app.web (registered there): pages in the reader's language.
        page: Callable[[int, str], ResponseReturnValue] = current_app.extensions["error_page"]
        return page(status, message)
    response = jsonify({"error": {"status": status, "message": message}})
    response.status_code = status
    if status == 401:
        response.headers["WWW-Authenticate"] = 'Basic realm="Ashiato LRS"'
    return response


def wants_page() -> bool:
    """Browser pages get an HTML error page in the reader's language; everything else JSON."""
    if not has_request_context():
        return False
    if "error_page" not in current_app.extensions:
        return False
    if request.blueprint is not None:
        return request.blueprint == "web" or request.blueprint.startswith("web.")
    if request.path.startswith(("/xapi", "/api/")):
        return False
    return request.accept_mimetypes.best == "text/html"


def init_app(app: Flask) -> None:
    @app.errorhandler(domain.RecordsError)
    def _domain(exc: domain.RecordsError) -> ResponseReturnValue:
        status = next((STATUS[cls] for cls in type(exc).__mro__ if cls in STATUS), 400)
        return error_response(status, exc.message)

    @app.errorhandler(HTTPException)
    def _http(exc: HTTPException) -> ResponseReturnValue:
        status = exc.code or 500
        messages = {
            413: "the request body is larger than this server accepts "
            f"({app.config['MAX_CONTENT_LENGTH']} bytes); send smaller batches",
            404: "no such resource; see /xapi/about and /api/v1/openapi.json",
            405: "this resource does not accept that HTTP method",
        }
        return error_response(status, messages.get(status, exc.description or exc.name))

    @app.errorhandler(IntegrityError)
    def _conflicting_write(exc: IntegrityError) -> ResponseReturnValue:
        # Two requests raced for the same unique thing; nothing of this one was written.
        log.warning("conflicting concurrent write: %s", exc.__class__.__name__)
        return error_response(409, "a concurrent request changed the same record; retry")

    @app.errorhandler(OperationalError)
    def _database_down(exc: OperationalError) -> ResponseReturnValue:
        log.error("database unavailable: %s", exc.__class__.__name__)
        response = error_response(503, "the database is unavailable; retry shortly")
        response.headers["Retry-After"] = "5"  # type: ignore[union-attr]
        return response
