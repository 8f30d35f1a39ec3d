"""Persistence of consent and sharing."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import DateTime, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from records.db import Base, JSONDocument

TZDateTime = DateTime(timezone=True)


class Consent(Base):
    """A pupil's (or guardian's) consent to share some of the pupil's data with a recipient for
    a purpose, until it is revoked. Never deleted: a revocation is a date, the history stays."""

    __tablename__ = "consents"
    id: Mapped[int] = mapped_column(primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id"))
    purpose: Mapped[str] = mapped_column(String(32))
    recipient_kind: Mapped[str] = mapped_column(String(16))  # school | board | third_party
    recipient_org_id: Mapped[int | None] = mapped_column(ForeignKey("organisations.id"))
    recipient_name: Mapped[str] = mapped_column(String(255), default="")
    scope: Mapped[str] = mapped_column(String(32))  # portfolio | statements | all
    given_by_account_id: Mapped[int | None] = mapped_column(ForeignKey("accounts.id"))
    given_at: Mapped[datetime] = mapped_column(TZDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(TZDateTime)
    revoked_by_account_id: Mapped[int | None] = mapped_column(ForeignKey("accounts.id"))

    __table_args__ = (Index("ix_consents_person", "person_id", "purpose"),)


class ConsentReceipt(Base):
    """What the pupil can download for every change of a consent: the change, signed."""

    __tablename__ = "consent_receipts"
    id: Mapped[int] = mapped_column(primary_key=True)
    consent_id: Mapped[int] = mapped_column(ForeignKey("consents.id"), index=True)
    change: Mapped[str] = mapped_column(String(16))  # given | revoked
    at: Mapped[datetime] = mapped_column(TZDateTime)
    body: Mapped[dict[str, Any]] = mapped_column(JSONDocument)
    signature: Mapped[str] = mapped_column(String(64))


class ShareLink(Base):
    """Part of a pupil's portfolio shown to someone outside through a link that expires, needs
    the recipient to sign in or give a one-time code, and logs every view."""

    __tablename__ = "share_links"
    id: Mapped[int] = mapped_column(primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id"), index=True)
    consent_id: Mapped[int] = mapped_column(ForeignKey("consents.id"))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    title: Mapped[str] = mapped_column(String(255))
    statement_ids: Mapped[list[str]] = mapped_column(JSONDocument)
    requires: Mapped[str] = mapped_column(String(16))  # sign_in | code
    code_hash: Mapped[str] = mapped_column(String(64), default="")
    failed_codes: Mapped[int] = mapped_column(default=0)
    created_by_account_id: Mapped[int | None] = mapped_column(ForeignKey("accounts.id"))
    created_at: Mapped[datetime] = mapped_column(TZDateTime)
    expires_at: Mapped[datetime] = mapped_column(TZDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(TZDateTime)
    note: Mapped[str] = mapped_column(Text, default="")


class ErasureRequest(Base):
    """An APPI erasure request: asked by the pupil, a guardian or an admin, approved by a
    school admin, then carried out. It outlives the person: it names them only by a hash of
    their person id, and keeps the signed certificate of what was removed (counts only)."""

    __tablename__ = "erasure_requests"
    id: Mapped[int] = mapped_column(primary_key=True)
    person_id: Mapped[int | None] = mapped_column(ForeignKey("people.id", ondelete="SET NULL"))
    subject_hash: Mapped[str] = mapped_column(String(64), index=True)
    org_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"))
    reason: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[str] = mapped_column(String(16))  # requested | refused | done
    requested_by_account_id: Mapped[int | None] = mapped_column(ForeignKey("accounts.id"))
    requested_at: Mapped[datetime] = mapped_column(TZDateTime)
    decided_by_account_id: Mapped[int | None] = mapped_column(ForeignKey("accounts.id"))
    decided_at: Mapped[datetime | None] = mapped_column(TZDateTime)
    certificate: Mapped[dict[str, Any] | None] = mapped_column(JSONDocument)
    signature: Mapped[str] = mapped_column(String(64), default="")


class LegalHold(Base):
    """While a hold is in place, neither retention nor erasure removes the person's data."""

    __tablename__ = "legal_holds"
    id: Mapped[int] = mapped_column(primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id"), index=True)
    reason: Mapped[str] = mapped_column(Text)
    placed_by_account_id: Mapped[int | None] = mapped_column(ForeignKey("accounts.id"))
    placed_at: Mapped[datetime] = mapped_column(TZDateTime)
    released_at: Mapped[datetime | None] = mapped_column(TZDateTime)


class RetentionPolicy(Base):
    """How long learning records are kept, per municipality (or school): the retention job
    removes statements (and files only they used) stored longer ago than `days`."""

    __tablename__ = "retention_policies"
    id: Mapped[int] = mapped_column(primary_key=True)
    org_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"))
    kind: Mapped[str] = mapped_column(String(32))  # statements
    days: Mapped[int]

    __table_args__ = (Index("ix_retention_policies_org_kind", "org_id", "kind", unique=True),)
