"""Finishing a launch's sign-in in a new window: an LMS frame cannot keep our session cookie,
so the frame offers a link with a ticket that signs the account in once, within two minutes."""

from __future__ import annotations

import secrets
from datetime import datetime, timedelta
from typing import Any, cast

from sqlalchemy import CursorResult, select, update
from sqlalchemy.orm import Session

from lti.errors import LaunchRejectedError
from lti.models import LtiHandoff
from lti.oidc import digest

HANDOFF_LIFETIME = timedelta(minutes=2)


def issue_handoff(session: Session, account_id: int, target: str, now: datetime) -> str:
    ticket = secrets.token_urlsafe(32)
    session.add(
        LtiHandoff(
            ticket_hash=digest(ticket),
            account_id=account_id,
            target=target,
            expires_at=now + HANDOFF_LIFETIME,
            used_at=None,
        )
    )
    session.flush()
    return ticket


def redeem_handoff(session: Session, ticket: str, now: datetime) -> tuple[int, str]:
    """(account id, where to go), once; LaunchRejectedError if unknown, used or expired."""
    hashed = digest(ticket)
    # One atomic UPDATE: two windows racing with the same ticket cannot both win.
    result = cast(
        CursorResult[Any],
        session.execute(
            update(LtiHandoff)
            .where(
                LtiHandoff.ticket_hash == hashed,
                LtiHandoff.used_at.is_(None),
                LtiHandoff.expires_at > now,
            )
            .values(used_at=now)
            .execution_options(synchronize_session=False)
        ),
    )
    if result.rowcount != 1:
        raise LaunchRejectedError("this link was used already or has expired; launch again")
    row = session.execute(
        select(LtiHandoff.account_id, LtiHandoff.target).where(LtiHandoff.ticket_hash == hashed)
    ).one()
    return int(row.account_id), str(row.target)
