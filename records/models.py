"""Persistence of the learning-record domain: organisations, credentials, statements and their
index rows, attachments, activities and documents. Persistence only: no web or format code."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    Boolean,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from records.db import Base, BigIntPK, JSONDocument

TZDateTime = DateTime(timezone=True)


class Organisation(Base):
    """A school or an education board; every record belongs to exactly one."""

    __tablename__ = "organisations"
    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(255))
    created_at: Mapped[datetime] = mapped_column(TZDateTime)
    # The tree nation -> prefecture -> municipality (its board) -> school; `code` is the
    # official code for those kinds (JIS X 0401, JIS X 0402, MEXT school code).
    kind: Mapped[str] = mapped_column(String(16), default="other", server_default="other")
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("organisations.id"), index=True)
    sourced_id: Mapped[str | None] = mapped_column(String(255), unique=True)


class Credential(Base):
    """An LRS key/secret pair. The secret is kept only as a keyed hash (HMAC-SHA256)."""

    __tablename__ = "credentials"
    id: Mapped[int] = mapped_column(primary_key=True)
    org_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"), index=True)
    key: Mapped[str] = mapped_column(String(64), unique=True)
    secret_hash: Mapped[str] = mapped_column(String(64))
    scopes: Mapped[str] = mapped_column(String(255))
    label: Mapped[str] = mapped_column(String(255))
    created_at: Mapped[datetime] = mapped_column(TZDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(TZDateTime)
    last_used_at: Mapped[datetime | None] = mapped_column(TZDateTime)


class StoredStatement(Base):
    """One accepted statement, verbatim in `full`, beside the columns queries filter on."""

    __tablename__ = "statements"
    seq: Mapped[int] = mapped_column(BigIntPK, primary_key=True, autoincrement=True)
    org_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"))
    statement_id: Mapped[str] = mapped_column(String(36))
    credential_id: Mapped[int | None] = mapped_column(ForeignKey("credentials.id"))
    stored: Mapped[datetime] = mapped_column(TZDateTime)
    timestamp: Mapped[datetime] = mapped_column(TZDateTime)
    verb_id: Mapped[str] = mapped_column(Text)
    ref_id: Mapped[str | None] = mapped_column(String(36))
    voided: Mapped[bool] = mapped_column(Boolean, default=False)
    is_voiding: Mapped[bool] = mapped_column(Boolean, default=False)
    full: Mapped[dict[str, Any]] = mapped_column(JSONDocument)

    __table_args__ = (
        UniqueConstraint("org_id", "statement_id"),
        Index("ix_statements_org_stored", "org_id", "stored", "seq"),
        Index("ix_statements_org_ref", "org_id", "ref_id"),
    )


class StatementIndex(Base):
    """Index rows so that every query filter is an index range, not a scan of JSON.

    kind: 'a' agent as actor/object, 'A' agent anywhere (related_agents), 'c' activity as
    object, 'C' activity anywhere (related_activities), 'v' verb, 'r' registration.
    `key` is `records.store.index_key(value)`; `stored` is copied so ranges come out ordered.
    """

    __tablename__ = "statement_index"
    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True, autoincrement=True)
    org_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"))
    seq: Mapped[int] = mapped_column(ForeignKey("statements.seq", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(1))
    key: Mapped[str] = mapped_column(String(300))
    stored: Mapped[datetime] = mapped_column(TZDateTime)

    __table_args__ = (
        # kind and key lead so that one person's keys can be looked up across organisations.
        Index("ix_statement_index_lookup", "kind", "key", "org_id", "stored", "seq"),
        Index("ix_statement_index_seq", "seq"),
    )


class Attachment(Base):
    """Attachment bytes, stored once per organisation and content hash."""

    __tablename__ = "attachments"
    id: Mapped[int] = mapped_column(primary_key=True)
    org_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"))
    sha2: Mapped[str] = mapped_column(String(128))
    content_type: Mapped[str] = mapped_column(String(255))
    length: Mapped[int]
    content: Mapped[bytes] = mapped_column(LargeBinary)

    __table_args__ = (UniqueConstraint("org_id", "sha2"),)


class Activity(Base):
    """The latest known definition of an activity id, for GET /xapi/activities."""

    __tablename__ = "activities"
    id: Mapped[int] = mapped_column(primary_key=True)
    org_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"))
    activity_id: Mapped[str] = mapped_column(Text)
    key: Mapped[str] = mapped_column(String(300))
    definition: Mapped[dict[str, Any]] = mapped_column(JSONDocument)

    __table_args__ = (UniqueConstraint("org_id", "key"),)


class Document(Base):
    """A state, activity-profile or agent-profile document.

    Absent parts of the address (agent, registration, activity) are stored as '' so the unique
    constraint holds on every database (NULLs are distinct in unique constraints).
    """

    __tablename__ = "documents"
    id: Mapped[int] = mapped_column(primary_key=True)
    org_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"))
    kind: Mapped[str] = mapped_column(String(16))
    activity_key: Mapped[str] = mapped_column(String(300))
    agent_key: Mapped[str] = mapped_column(String(300))
    registration: Mapped[str] = mapped_column(String(36))
    doc_key: Mapped[str] = mapped_column(String(300))
    doc_id: Mapped[str] = mapped_column(Text)
    content_type: Mapped[str] = mapped_column(String(255))
    content: Mapped[bytes] = mapped_column(LargeBinary)
    etag: Mapped[str] = mapped_column(String(64))
    updated: Mapped[datetime] = mapped_column(TZDateTime)

    __table_args__ = (
        UniqueConstraint("org_id", "kind", "activity_key", "agent_key", "registration", "doc_key"),
        Index("ix_documents_lookup", "org_id", "kind", "activity_key", "agent_key", "updated"),
    )


class StoreClock(Base):
    """One row. On SQLite, writers update it first so `stored` is taken under the write lock and
    statements become visible in `stored` order. PostgreSQL writers use an advisory lock instead
    (see records.clock)."""

    __tablename__ = "store_clock"
    id: Mapped[int] = mapped_column(primary_key=True)
    last_stored: Mapped[datetime | None] = mapped_column(TZDateTime)


class BackgroundJob(Base):
    """A piece of work run by rq (or in-process): its status, progress and outcome.

    Job functions receive this row's id only, never objects or request data.
    """

    __tablename__ = "background_jobs"
    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    kind: Mapped[str] = mapped_column(String(32))
    status: Mapped[str] = mapped_column(String(16))  # queued | running | finished | failed
    org_id: Mapped[int | None] = mapped_column(ForeignKey("organisations.id"))
    requested_by_account_id: Mapped[int | None] = mapped_column(Integer)
    rq_id: Mapped[str | None] = mapped_column(String(64))
    progress_done: Mapped[int] = mapped_column(Integer, default=0)
    progress_total: Mapped[int] = mapped_column(Integer, default=0)
    result: Mapped[dict[str, Any]] = mapped_column(JSONDocument, default=dict)
    error: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(TZDateTime)
    updated_at: Mapped[datetime] = mapped_column(TZDateTime)


class Upload(Base):
    """Bytes a person uploaded for a job (a roster zip), kept with the job that reads them."""

    __tablename__ = "uploads"
    id: Mapped[int] = mapped_column(primary_key=True)
    job_id: Mapped[str] = mapped_column(ForeignKey("background_jobs.id"), index=True)
    filename: Mapped[str] = mapped_column(String(255))
    content: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[datetime] = mapped_column(TZDateTime)
