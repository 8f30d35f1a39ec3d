"""The document APIs' storage: State, Activity Profile and Agent Profile documents.

Concurrency follows xAPI 1.0.3: ETags are SHA-1 of the content; If-Match / If-None-Match are
checked here; profile PUTs without either header on an existing document are refused (409);
POST merges JSON objects.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal

import orjson
from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from records.errors import (
    BadRequestError,
    DocumentConflictError,
    NotFoundError,
    PreconditionFailedError,
)
from records.jsontext import dump_json
from records.keys import index_key
from records.models import Document
from records.xapi import agent_key

Kind = Literal["state", "activity_profile", "agent_profile"]
JSON_TYPE = "application/json"


@dataclass(frozen=True, slots=True)
class Scope:
    """The part of a document's address shared by all its ids (used by multi-id GET/DELETE)."""

    kind: Kind
    activity_id: str | None = None
    agent: dict[str, Any] | None = None
    registration: str | None = None

    def keys(self) -> tuple[str, str, str]:
        agent = agent_key(self.agent) if self.agent else None
        return (
            index_key(self.activity_id) if self.activity_id else "",
            index_key(agent) if agent else "",
            self.registration or "",
        )


@dataclass(frozen=True, slots=True)
class StoredDocument:
    doc_id: str
    content: bytes
    content_type: str
    etag: str
    updated: datetime


@dataclass(frozen=True, slots=True)
class Preconditions:
    if_match: str | None = None
    if_none_match: str | None = None


def etag_of(content: bytes) -> str:
    return hashlib.sha1(content, usedforsecurity=False).hexdigest()


def get_document(session: Session, org_id: int, scope: Scope, doc_id: str) -> StoredDocument:
    row = _find(session, org_id, scope, doc_id)
    if row is None:
        raise NotFoundError(f"no {_label(scope.kind)} document with id {doc_id!r}")
    return _stored(row)


def list_document_ids(
    session: Session, org_id: int, scope: Scope, since: datetime | None
) -> list[str]:
    activity, agent, registration = scope.keys()
    stmt = select(Document.doc_id).where(
        Document.org_id == org_id,
        Document.kind == scope.kind,
        Document.activity_key == activity,
        Document.agent_key == agent,
    )
    if scope.registration is not None:  # without one: every registration's documents
        stmt = stmt.where(Document.registration == registration)
    if since is not None:
        # UTC: SQLite compares datetimes as text, so offsets must not differ.
        stmt = stmt.where(Document.updated > since.astimezone(UTC))
    return list(session.scalars(stmt.order_by(Document.doc_id)))


def put_document(
    session: Session,
    org_id: int,
    scope: Scope,
    doc_id: str,
    content: bytes,
    content_type: str,
    pre: Preconditions,
) -> StoredDocument:
    row = _find(session, org_id, scope, doc_id)
    _check(pre, row, scope.kind, require=scope.kind != "state")
    return _write(session, org_id, scope, doc_id, row, content, content_type)


def post_document(
    session: Session,
    org_id: int,
    scope: Scope,
    doc_id: str,
    content: bytes,
    content_type: str,
    pre: Preconditions,
) -> StoredDocument:
    """Merge a JSON object into the stored one (top-level properties), or create it."""
    row = _find(session, org_id, scope, doc_id)
    _check(pre, row, scope.kind, require=False)
    if row is None:
        return _write(session, org_id, scope, doc_id, None, content, content_type)
    incoming = _json_object(content, content_type, "the posted document")
    existing = _json_object(row.content, row.content_type, "the stored document")
    merged = dump_json({**existing, **incoming})
    return _write(session, org_id, scope, doc_id, row, merged, JSON_TYPE)


def delete_document(
    session: Session, org_id: int, scope: Scope, doc_id: str, pre: Preconditions
) -> None:
    row = _find(session, org_id, scope, doc_id)
    _check(pre, row, scope.kind, require=False)
    if row is not None:  # deleting what is not there is done already
        session.delete(row)
        session.flush()


def delete_documents(session: Session, org_id: int, scope: Scope) -> None:
    """Delete every state document of an activity + agent (+ registration, if given)."""
    activity, agent, registration = scope.keys()
    stmt = delete(Document).where(
        Document.org_id == org_id,
        Document.kind == scope.kind,
        Document.activity_key == activity,
        Document.agent_key == agent,
    )
    if scope.registration is not None:
        stmt = stmt.where(Document.registration == registration)
    session.execute(stmt)


# --- internals ---------------------------------------------------------------------------------


def _find(session: Session, org_id: int, scope: Scope, doc_id: str) -> Document | None:
    activity, agent, registration = scope.keys()
    return session.scalar(
        select(Document).where(
            Document.org_id == org_id,
            Document.kind == scope.kind,
            Document.activity_key == activity,
            Document.agent_key == agent,
            Document.registration == registration,
            Document.doc_key == index_key(doc_id),
        )
    )


def _check(pre: Preconditions, row: Document | None, kind: Kind, *, require: bool) -> None:
    if pre.if_match is not None and (row is None or not _etag_matches(pre.if_match, row.etag)):
        raise PreconditionFailedError(
            "If-Match does not match the document's current ETag; fetch it again and retry"
        )
    if (
        pre.if_none_match is not None
        and row is not None
        and _etag_matches(pre.if_none_match, row.etag)
    ):
        raise PreconditionFailedError(
            "If-None-Match: the document already exists (or has this ETag)"
        )
    if require and pre.if_match is None and pre.if_none_match is None:
        if row is not None:
            raise DocumentConflictError(
                f"this {_label(kind)} document exists; send If-Match with its ETag to replace it"
            )
        raise BadRequestError(
            f"a PUT of a {_label(kind)} document needs If-Match (to replace) or "
            "If-None-Match: * (to create)"
        )


def _etag_matches(header: str, etag: str) -> bool:
    for candidate in header.split(","):
        value = candidate.strip()
        if value.startswith("W/"):
            value = value[2:]
        if value == "*" or value.strip('"') == etag:
            return True
    return False


def _write(
    session: Session,
    org_id: int,
    scope: Scope,
    doc_id: str,
    row: Document | None,
    content: bytes,
    content_type: str,
) -> StoredDocument:
    now = datetime.now(UTC)
    etag = etag_of(content)
    if row is None:
        activity, agent, registration = scope.keys()
        row = Document(
            org_id=org_id,
            kind=scope.kind,
            activity_key=activity,
            agent_key=agent,
            registration=registration,
            doc_key=index_key(doc_id),
            doc_id=doc_id,
        )
        session.add(row)
    row.content = content
    row.content_type = content_type
    row.etag = etag
    row.updated = now
    session.flush()
    return _stored(row)


def _json_object(content: bytes, content_type: str, what: str) -> dict[str, Any]:
    if not content_type.split(";")[0].strip().lower() == JSON_TYPE:
        raise BadRequestError(
            f"{what} is not application/json, so it cannot be merged; use PUT to replace it"
        )
    try:
        value = orjson.loads(content)
    except orjson.JSONDecodeError:
        raise BadRequestError(f"{what} is not valid JSON, so it cannot be merged") from None
    if not isinstance(value, dict):
        raise BadRequestError(f"{what} is not a JSON object, so it cannot be merged")
    return value


def _stored(row: Document) -> StoredDocument:
    updated = row.updated if row.updated.tzinfo else row.updated.replace(tzinfo=UTC)
    return StoredDocument(row.doc_id, row.content, row.content_type, row.etag, updated)


def _label(kind: Kind) -> str:
    return kind.replace("_", " ")
