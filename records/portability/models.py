"""Persistence of portability: organisations' signing keys, the trust list, built export
packages (stored in chunks, so neither writing nor serving one holds it in memory) and
finished imports. Persistence only."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import DateTime, ForeignKey, Integer, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column

from records.db import Base, BigIntPK, JSONDocument

TZDateTime = DateTime(timezone=True)


class OrgSigningKey(Base):
    """An Ed25519 key pair of an organisation. The private key is stored only encrypted
    (PKCS#8, encrypted with a key the application holds) and no API ever returns it.

    The newest key that is neither retired nor revoked signs; retired keys stay published so
    packages they signed still verify; revoked keys are published as revoked."""

    __tablename__ = "org_signing_keys"
    id: Mapped[int] = mapped_column(primary_key=True)
    org_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"), index=True)
    kid: Mapped[str] = mapped_column(String(64), unique=True)
    public_key: Mapped[str] = mapped_column(String(64))  # Ed25519 Multikey, "z6Mk..."
    private_key_pkcs8: Mapped[bytes] = mapped_column(LargeBinary)  # encrypted PEM
    created_at: Mapped[datetime] = mapped_column(TZDateTime)
    retired_at: Mapped[datetime | None] = mapped_column(TZDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(TZDateTime)


class TrustedKey(Base):
    """A public key this instance accepts transfer packages from (the trust list)."""

    __tablename__ = "trusted_keys"
    id: Mapped[int] = mapped_column(primary_key=True)
    kid: Mapped[str] = mapped_column(String(64), unique=True)
    public_key: Mapped[str] = mapped_column(String(64))
    org_code: Mapped[str] = mapped_column(String(64))
    label: Mapped[str] = mapped_column(String(255), default="")
    added_at: Mapped[datetime] = mapped_column(TZDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(TZDateTime)


class TransferExport(Base):
    """One export of a pupil's records: built by a job, downloadable until it expires."""

    __tablename__ = "transfer_exports"
    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    job_id: Mapped[str] = mapped_column(ForeignKey("background_jobs.id"), index=True)
    org_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"))
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id"), index=True)
    requested_by_account_id: Mapped[int | None] = mapped_column(ForeignKey("accounts.id"))
    created_at: Mapped[datetime] = mapped_column(TZDateTime)
    expires_at: Mapped[datetime] = mapped_column(TZDateTime)
    kid: Mapped[str | None] = mapped_column(String(64))
    size: Mapped[int] = mapped_column(Integer, default=0)
    sha256: Mapped[str] = mapped_column(String(64), default="")
    counts: Mapped[dict[str, Any]] = mapped_column(JSONDocument, default=dict)
    # Who receives the package: "self" (the pupil's own copy), "school" (the transfer flow),
    # "board" or "third_party" (these need the pupil's consent, checked at start and download),
    # or "" (not said: the transfer flow, as before recipients were recorded).
    recipient_kind: Mapped[str] = mapped_column(String(16), default="", server_default="")
    recipient_org_id: Mapped[int | None] = mapped_column(ForeignKey("organisations.id"))
    # Why the data leaves: a consent purpose (records.trust.consent.SHARING_PURPOSES).
    purpose: Mapped[str] = mapped_column(String(32), default="transfer", server_default="transfer")


class TransferExportChunk(Base):
    """A piece of a built package, in order (n = 0, 1, ...)."""

    __tablename__ = "transfer_export_chunks"
    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True, autoincrement=True)
    export_id: Mapped[str] = mapped_column(
        ForeignKey("transfer_exports.id", ondelete="CASCADE"), index=True
    )
    n: Mapped[int] = mapped_column(Integer)
    content: Mapped[bytes] = mapped_column(LargeBinary)


class TransferUploadChunk(Base):
    """A piece of an uploaded package waiting for its import job, in order (n = 0, 1, ...):
    an upload of any size is written and read a chunk at a time, and any worker can read it."""

    __tablename__ = "transfer_upload_chunks"
    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True, autoincrement=True)
    job_id: Mapped[str] = mapped_column(
        ForeignKey("background_jobs.id", ondelete="CASCADE"), index=True
    )
    n: Mapped[int] = mapped_column(Integer)
    content: Mapped[bytes] = mapped_column(LargeBinary)


class TransferImport(Base):
    """A package imported here: where it came from, whom it was linked to, and the receipt."""

    __tablename__ = "transfer_imports"
    id: Mapped[int] = mapped_column(primary_key=True)
    job_id: Mapped[str] = mapped_column(ForeignKey("background_jobs.id"), index=True)
    org_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"))
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id"))
    export_id: Mapped[str] = mapped_column(String(36))
    source_org_code: Mapped[str] = mapped_column(String(64))
    kid: Mapped[str] = mapped_column(String(64))
    receipt: Mapped[dict[str, Any]] = mapped_column(JSONDocument, default=dict)
    imported_at: Mapped[datetime] = mapped_column(TZDateTime)
