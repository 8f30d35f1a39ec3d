"""Persistence of the LTI 1.3 tool: platform registrations and their deployments, the tool's own
signing keys, and the short-lived login state, nonces and sign-in hand-offs of launches.

State, nonces and hand-off tickets are stored as SHA-256 hashes: a database reader cannot use them.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Boolean, DateTime, ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from records.db import Base

TZDateTime = DateTime(timezone=True)


class LtiPlatform(Base):
    """A registered LTI 1.3 platform (LMS or learning portal): one issuer + client_id pair."""

    __tablename__ = "lti_platforms"
    id: Mapped[int] = mapped_column(primary_key=True)
    issuer: Mapped[str] = mapped_column(String(255))
    client_id: Mapped[str] = mapped_column(String(255))
    auth_login_url: Mapped[str] = mapped_column(String(1000))
    token_url: Mapped[str] = mapped_column(String(1000))
    jwks_url: Mapped[str] = mapped_column(String(1000))
    # The organisation (school or board) the registration belongs to and whose admins manage it.
    org_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"), index=True)
    # What a launch by somebody not linked to a person does: "create" or "refuse".
    unknown_users: Mapped[str] = mapped_column(String(16), default="refuse")
    title: Mapped[str] = mapped_column(String(255), default="")
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(TZDateTime)

    __table_args__ = (UniqueConstraint("issuer", "client_id"),)


class LtiDeployment(Base):
    """A deployment of the tool on a platform; launches through it belong to `org_id`."""

    __tablename__ = "lti_deployments"
    id: Mapped[int] = mapped_column(primary_key=True)
    platform_id: Mapped[int] = mapped_column(ForeignKey("lti_platforms.id"))
    deployment_id: Mapped[str] = mapped_column(String(255))
    org_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"))
    created_at: Mapped[datetime] = mapped_column(TZDateTime)

    __table_args__ = (UniqueConstraint("platform_id", "deployment_id"),)


class LtiToolKey(Base):
    """One RSA key pair of the tool. `current` signs; `previous` is still published."""

    __tablename__ = "lti_tool_keys"
    id: Mapped[int] = mapped_column(primary_key=True)
    kid: Mapped[str] = mapped_column(String(64), unique=True)
    private_pem: Mapped[str] = mapped_column(Text)
    public_jwk: Mapped[dict[str, Any]]
    status: Mapped[str] = mapped_column(String(16))  # current | previous | retired
    created_at: Mapped[datetime] = mapped_column(TZDateTime)
    retired_at: Mapped[datetime | None] = mapped_column(TZDateTime)


class LtiLoginState(Base):
    """The `state` of one OIDC login, bound to the browser by a cookie and usable once."""

    __tablename__ = "lti_login_states"
    id: Mapped[int] = mapped_column(primary_key=True)
    state_hash: Mapped[str] = mapped_column(String(64), unique=True)
    nonce_hash: Mapped[str] = mapped_column(String(64))
    platform_id: Mapped[int] = mapped_column(ForeignKey("lti_platforms.id"))
    target_link_uri: Mapped[str] = mapped_column(String(1000))
    # The platform's login parameters, to start again in a new window when a frame has no cookie.
    login_params: Mapped[dict[str, Any]]
    expires_at: Mapped[datetime] = mapped_column(TZDateTime, index=True)
    used_at: Mapped[datetime | None] = mapped_column(TZDateTime)


class LtiNonce(Base):
    """A nonce we issued in an authentication request; an id_token may use it once."""

    __tablename__ = "lti_nonces"
    id: Mapped[int] = mapped_column(primary_key=True)
    nonce_hash: Mapped[str] = mapped_column(String(64), unique=True)
    platform_id: Mapped[int] = mapped_column(ForeignKey("lti_platforms.id"))
    expires_at: Mapped[datetime] = mapped_column(TZDateTime, index=True)
    used_at: Mapped[datetime | None] = mapped_column(TZDateTime)


class LtiHandoff(Base):
    """A single-use ticket that finishes a launch's sign-in in a new window (LMS frames
    cannot keep our session cookie)."""

    __tablename__ = "lti_handoffs"
    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_hash: Mapped[str] = mapped_column(String(64), unique=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"))
    target: Mapped[str] = mapped_column(String(1000))
    expires_at: Mapped[datetime] = mapped_column(TZDateTime, index=True)
    used_at: Mapped[datetime | None] = mapped_column(TZDateTime)


class LtiContext(Base):
    """A course (context) Ashiato was launched from, with its LTI Advantage service endpoints,
    remembered from the latest launch so NRPS and AGS can be called later."""

    __tablename__ = "lti_contexts"
    id: Mapped[int] = mapped_column(primary_key=True)
    platform_id: Mapped[int] = mapped_column(ForeignKey("lti_platforms.id"))
    deployment_id: Mapped[str] = mapped_column(String(255))
    context_id: Mapped[str] = mapped_column(String(255))
    title: Mapped[str] = mapped_column(String(255), default="")
    org_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"), index=True)
    memberships_url: Mapped[str | None] = mapped_column(String(1000))
    lineitems_url: Mapped[str | None] = mapped_column(String(1000))
    updated_at: Mapped[datetime] = mapped_column(TZDateTime)

    __table_args__ = (UniqueConstraint("platform_id", "deployment_id", "context_id"),)
