"""Courses (LTI contexts) Ashiato was launched from, with their NRPS and AGS endpoints as the
latest launch sent them, so members can be synced and scores sent later. Flushes only."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from lti.errors import RegistrationError
from lti.launch import Launch
from lti.models import LtiContext


def remember_context(session: Session, launch: Launch, now: datetime) -> LtiContext | None:
    if launch.context_id is None:
        return None
    row = session.scalar(
        select(LtiContext).where(
            LtiContext.platform_id == launch.registration.id,
            LtiContext.deployment_id == launch.deployment.deployment_id,
            LtiContext.context_id == launch.context_id,
        )
    )
    if row is None:
        row = LtiContext(
            platform_id=launch.registration.id,
            deployment_id=launch.deployment.deployment_id,
            context_id=launch.context_id,
            org_id=launch.deployment.org_id,
        )
        session.add(row)
    row.title = launch.context_title or row.title or launch.context_id
    row.org_id = launch.deployment.org_id
    row.memberships_url = launch.memberships_url or row.memberships_url
    row.lineitems_url = launch.lineitems_url or row.lineitems_url
    row.updated_at = now
    session.flush()
    return row


def contexts_of(session: Session, org_ids: Iterable[int]) -> list[LtiContext]:
    return list(
        session.scalars(
            select(LtiContext)
            .where(LtiContext.org_id.in_(list(org_ids)))
            .order_by(LtiContext.title, LtiContext.id)
        )
    )


def get_context(session: Session, context_row_id: int) -> LtiContext:
    row = session.get(LtiContext, context_row_id)
    if row is None:
        raise RegistrationError(f"no LTI course {context_row_id}")
    return row
