"""The tool's key pairs: one current (signs), the previous one still published until the next
rotation, so platforms that cached our key set keep verifying during a rotation."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from lti.keys import generate_key
from lti.models import LtiToolKey


def rotate_keys(session: Session) -> LtiToolKey:
    """A new current key; the current becomes previous; the previous is retired (unpublished)."""
    now = datetime.now(UTC)
    for key in session.scalars(select(LtiToolKey).where(LtiToolKey.status == "previous")):
        key.status = "retired"
        key.retired_at = now
    for key in session.scalars(select(LtiToolKey).where(LtiToolKey.status == "current")):
        key.status = "previous"
    session.flush()
    new = generate_key()
    row = LtiToolKey(
        kid=new.kid,
        private_pem=new.private_pem,
        public_jwk=new.public_jwk,
        status="current",
        created_at=now,
        retired_at=None,
    )
    session.add(row)
    session.flush()
    return row


def current_key(session: Session) -> LtiToolKey:
    """The current key, made on first use."""
    key = session.scalar(
        select(LtiToolKey).where(LtiToolKey.status == "current").order_by(LtiToolKey.id.desc())
    )
    return key if key is not None else rotate_keys(session)


def published_keys(session: Session) -> list[LtiToolKey]:
    return list(
        session.scalars(
            select(LtiToolKey)
            .where(LtiToolKey.status.in_(("current", "previous")))
            .order_by(LtiToolKey.id.desc())
        )
    )
