"""Retention: learning records are kept as long as the municipality (or school) decided, then a
scheduled job removes them; a legal hold keeps a person's records whatever the policy."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from records.errors import BadRequestError, ForbiddenError, NotFoundError
from records.identity.accounts import AccountInfo
from records.identity.models import ActorLink
from records.identity.people import find_person
from records.models import StatementIndex, StoredStatement
from records.organisations import get_organisation, subtree_ids
from records.trust.erasure import delete_statements
from records.trust.models import LegalHold, RetentionPolicy

KINDS = frozenset({"statements"})
MIN_DAYS = 30  # a typo must not erase a school's year


def set_policy(
    session: Session, viewer: AccountInfo, org_code: str, kind: str, days: int
) -> RetentionPolicy:
    org = get_organisation(session, org_code)
    if not (viewer.has_role("system_admin") or org.id in viewer.orgs_for("school_admin")):
        raise ForbiddenError("only a system admin or the organisation's admin sets retention")
    if kind not in KINDS:
        raise BadRequestError(f"unknown kind of data {kind!r}; one of {', '.join(sorted(KINDS))}")
    if days < MIN_DAYS:
        raise BadRequestError(f"keep records at least {MIN_DAYS} days")
    policy = session.scalar(
        select(RetentionPolicy).where(
            RetentionPolicy.org_id == org.id, RetentionPolicy.kind == kind
        )
    )
    if policy is None:
        policy = RetentionPolicy(org_id=org.id, kind=kind, days=days)
        session.add(policy)
    policy.days = days
    session.flush()
    return policy


def place_hold(session: Session, viewer: AccountInfo, public_id: str, reason: str) -> LegalHold:
    if not viewer.has_role("system_admin", "school_admin"):
        raise ForbiddenError("only admins place legal holds")
    if not reason.strip():
        raise BadRequestError("say why the records must be kept")
    person = find_person(session, public_id)
    hold = LegalHold(
        person_id=person.id,
        reason=reason.strip(),
        placed_by_account_id=viewer.id or None,  # 0: the operator at the command line
        placed_at=datetime.now(UTC),
    )
    session.add(hold)
    session.flush()
    return hold


def release_hold(session: Session, viewer: AccountInfo, hold_id: int) -> None:
    if not viewer.has_role("system_admin", "school_admin"):
        raise ForbiddenError("only admins release legal holds")
    hold = session.get(LegalHold, hold_id)
    if hold is None or hold.released_at is not None:
        raise NotFoundError("no such legal hold in place")
    hold.released_at = datetime.now(UTC)


def apply_retention(session: Session, now: datetime | None = None) -> Counter[str]:
    """Remove statements older than their organisation's policy, except held people's."""
    now = now or datetime.now(UTC)
    removed: Counter[str] = Counter()
    held_keys = list(
        session.scalars(
            select(ActorLink.agent_key).where(
                ActorLink.person_id.in_(
                    select(LegalHold.person_id).where(LegalHold.released_at.is_(None))
                )
            )
        )
    )
    for policy in session.scalars(select(RetentionPolicy).order_by(RetentionPolicy.id)):
        orgs = subtree_ids(session, policy.org_id)
        cutoff = now - timedelta(days=policy.days)
        stmt = select(StoredStatement.seq).where(
            StoredStatement.org_id.in_(orgs), StoredStatement.stored < cutoff
        )
        if held_keys:
            stmt = stmt.where(
                ~StoredStatement.seq.in_(
                    select(StatementIndex.seq).where(
                        StatementIndex.kind.in_(("a", "A")), StatementIndex.key.in_(held_keys)
                    )
                )
            )
        delete_statements(session, list(session.scalars(stmt)), removed)
    return removed
