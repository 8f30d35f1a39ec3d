"""Reads through the LRS API (/xapi) by device and tool credentials: every answer that holds
statements or documents about a known person writes access-log rows, and a credential of an
organisation outside the school system (kind "provider": a learning-service company) may read a
pupil's records only while the pupil's consent for it is in force."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from records.audit import Accessor, record_accesses
from records.errors import ForbiddenError
from records.identity.models import ActorLink
from records.keys import index_key
from records.models import Organisation
from records.trust.consent import active_consent
from records.xapi import agent_key

THIRD_PARTY_KINDS = frozenset({"provider"})


def statements_read(
    session: Session,
    credential_id: int,
    org_id: int,
    statements: Iterable[Mapping[str, Any]],
    resource: str = "xapi.statements",
) -> int:
    """Log (and, for third parties, check consent for) the people these statements are about;
    returns how many people (0: nothing was written, the caller need not commit)."""
    keys: Counter[str] = Counter()
    for st in statements:
        seen = set()
        for agent in (st.get("actor"), st.get("object")):
            if isinstance(agent, Mapping) and agent.get("objectType", "Agent") in (
                "Agent",
                "Group",
            ):
                key = agent_key(agent)
                if key is not None:
                    seen.add(index_key(key))
        keys.update(seen)
    return agents_read(session, credential_id, org_id, keys, resource)


def agents_read(
    session: Session,
    credential_id: int,
    org_id: int,
    keys: Mapping[str, int],
    resource: str,
) -> int:
    """`keys`: index keys of agents read, with how many records each."""
    if not keys:
        return 0
    people: Counter[int] = Counter()
    for key, person_id in session.execute(
        select(ActorLink.agent_key, ActorLink.person_id).where(ActorLink.agent_key.in_(list(keys)))
    ):
        people[person_id] += keys[key]
    if not people:
        return 0
    kind = session.scalar(select(Organisation.kind).where(Organisation.id == org_id))
    third_party = kind in THIRD_PARTY_KINDS
    if third_party:
        missing = [
            person_id
            for person_id in sorted(people)
            if active_consent(session, person_id, "learning_service", recipient_org_id=org_id)
            is None
        ]
        if missing:
            raise ForbiddenError(
                "these records are about pupils who have not consented (or have revoked their "
                "consent) to share them with your organisation; ask the school"
            )
    purpose = "consented" if third_party else "teaching"
    record_accesses(
        session,
        Accessor(credential_id=credential_id, org_id=org_id),
        [(person_id, resource, purpose, count) for person_id, count in sorted(people.items())],
    )
    return len(people)


def agent_document_read(
    session: Session, credential_id: int, org_id: int, agent: Mapping[str, Any], resource: str
) -> int:
    key = agent_key(agent)
    if key is None:
        return 0
    return agents_read(session, credential_id, org_id, {index_key(key): 1}, resource)
