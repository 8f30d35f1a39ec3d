"""People and their identifiers.

Every person gets a pseudonymous xAPI identity: an `account` whose homePage is this service's URL
and whose name is a person id we issue. Every other identifier a device or tool sends is linked
to the person as an alias (an ActorLink). Statements are never rewritten.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from records.errors import BadRequestError, NotFoundError, StatementConflictError
from records.identity.models import ActorLink, Person
from records.keys import index_key
from records.xapi import agent_key, parse_agent, person_object

PERSON_KINDS = frozenset({"student", "teacher", "staff", "guardian"})


@dataclass(frozen=True, slots=True)
class Names:
    family: str = ""
    given: str = ""
    middle: str = ""
    kana_family: str = ""
    kana_given: str = ""
    kana_middle: str = ""

    @property
    def display(self) -> str:
        return " ".join(part for part in (self.family, self.given) if part)


def new_public_id() -> str:
    """A pseudonymous person id: random, so it says nothing about the person."""
    return "p-" + secrets.token_hex(12)


def own_agent(public_id: str, service_url: str) -> dict[str, Any]:
    return {"objectType": "Agent", "account": {"homePage": service_url, "name": public_id}}


def create_person(
    session: Session,
    kind: str,
    names: Names,
    service_url: str,
    *,
    grade: str | None = None,
    details: Mapping[str, Any] | None = None,
    public_id: str | None = None,
) -> Person:
    if kind not in PERSON_KINDS:
        raise BadRequestError(
            f"person kind {kind!r} is not one of {', '.join(sorted(PERSON_KINDS))}"
        )
    now = datetime.now(UTC)
    person = Person(
        public_id=public_id or new_public_id(),
        kind=kind,
        family_name=names.family,
        given_name=names.given,
        middle_name=names.middle,
        kana_family_name=names.kana_family,
        kana_given_name=names.kana_given,
        kana_middle_name=names.kana_middle,
        grade=grade,
        details=dict(details or {}),
        active=True,
        created_at=now,
        updated_at=now,
    )
    session.add(person)
    session.flush()
    link_identifier(session, person.id, own_agent(person.public_id, service_url), source="own")
    return person


def link_identifier(
    session: Session,
    person_id: int,
    agent: Mapping[str, Any],
    *,
    source: str,
    org_id: int | None = None,
) -> ActorLink:
    """Make `agent` an identifier of the person. Linking it again to the same person is a no-op;
    an identifier already linked to someone else is refused (merge the two people instead)."""
    checked = parse_agent(dict(agent), "identifier")
    key = agent_key(checked)
    if key is None:
        raise BadRequestError("an anonymous group cannot identify a person")
    stored_key = index_key(key)
    existing = session.scalar(select(ActorLink).where(ActorLink.agent_key == stored_key))
    if existing is not None:
        if existing.person_id == person_id:
            return existing
        raise StatementConflictError(
            f"identifier {key} already belongs to another person; merge the two people instead"
        )
    link = ActorLink(
        person_id=person_id,
        agent_key=stored_key,
        agent=_identifying_part(checked),
        source=source,
        org_id=org_id,
        created_at=datetime.now(UTC),
    )
    try:
        with session.begin_nested():
            session.add(link)
    except IntegrityError:
        raise StatementConflictError(
            f"identifier {key} was just linked by another request; retry"
        ) from None
    return link


def person_for_agent(session: Session, agent: Mapping[str, Any]) -> Person | None:
    """The person an agent identifies, if any identifier of theirs matches."""
    key = agent_key(agent)
    if key is None:
        return None
    return session.scalar(
        select(Person)
        .join(ActorLink, ActorLink.person_id == Person.id)
        .where(ActorLink.agent_key == index_key(key))
    )


def get_person(session: Session, person_id: int) -> Person:
    person = session.get(Person, person_id)
    if person is None:
        raise NotFoundError(f"no person with id {person_id}")
    return person


def find_person(session: Session, public_id: str) -> Person:
    person = session.scalar(select(Person).where(Person.public_id == public_id))
    if person is None:
        raise NotFoundError(f"no person with id {public_id!r}")
    return person


def person_agent_keys(session: Session, person_id: int) -> list[str]:
    """The index keys of every identifier of the person (for "all statements of a person")."""
    return list(
        session.scalars(select(ActorLink.agent_key).where(ActorLink.person_id == person_id))
    )


def xapi_person(session: Session, agent: Mapping[str, Any], org_id: int) -> dict[str, Any]:
    """The xAPI Person object for GET /xapi/agents: the identifiers of whoever `agent` identifies
    that the asking organisation may know (its own aliases and the person's pseudonymous
    account; never another school's), or just `agent` when nobody is linked to it."""
    person = person_for_agent(session, agent)
    if person is None:
        return person_object([agent])
    agents: list[Mapping[str, Any]] = list(
        session.scalars(
            select(ActorLink.agent)
            .where(
                ActorLink.person_id == person.id,
                (ActorLink.org_id == org_id) | (ActorLink.source == "own"),
            )
            .order_by(ActorLink.id)
        )
    )
    return person_object(_with_name(agents, agent))


def _with_name(
    agents: Iterable[Mapping[str, Any]], asked: Mapping[str, Any]
) -> list[Mapping[str, Any]]:
    named = list(agents)
    if asked.get("name"):
        named.append({"name": asked["name"]})
    return named


def _identifying_part(agent: Mapping[str, Any]) -> dict[str, Any]:
    kept = {k: agent[k] for k in ("mbox", "mbox_sha1sum", "openid", "account") if k in agent}
    return {"objectType": "Agent", **kept}
