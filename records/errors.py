"""Domain errors. `app/errors.py` maps each to an HTTP status; the domain never speaks HTTP."""

from __future__ import annotations


class RecordsError(Exception):
    """Base class of every error the records domain raises on purpose."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class InvalidStatementError(RecordsError):
    """A statement (or a query parameter shaped like part of one) breaks an xAPI rule. -> 400"""


class BadRequestError(RecordsError):
    """A request is malformed in a way that is not about statement content. -> 400"""


class StatementConflictError(RecordsError):
    """The same statement id was already stored with different content. -> 409"""


class NotFoundError(RecordsError):
    """The named statement or document does not exist (for this organisation). -> 404"""


class DocumentConflictError(RecordsError):
    """A document write lacked the concurrency headers the spec demands. -> 409"""


class PreconditionFailedError(RecordsError):
    """If-Match / If-None-Match did not hold. -> 412"""


class AuthenticationError(RecordsError):
    """Unknown, malformed or revoked credential. -> 401"""


class ForbiddenError(RecordsError):
    """Known credential without the scope this action needs. -> 403"""
