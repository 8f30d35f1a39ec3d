"""Who a launch is: the platform user (iss + sub, and lis.person_sourcedid / OneRoster sourcedId
when present) linked to an Ashiato person through ActorLinks, and the account they sign in with.

Instructor -> teacher, Learner -> pupil, through the person's existing account and role grants.
Somebody nobody is linked to is created or refused, as the registration says.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from lti.errors import RoleMismatchError, UnknownUserError
from lti.launch import Launch
from records.identity.accounts import AccountInfo, create_account, load_account, record_event
from records.identity.models import Account, ActorLink, Person, RoleGrant
from records.identity.oneroster.identifiers import account_agent, oneroster_home_page
from records.identity.people import Names, create_person, link_identifier, person_for_agent
from records.models import Organisation

KIND_OF_ROLE = {"teacher": "teacher", "pupil": "student"}


@dataclass(frozen=True, slots=True)
class LaunchUser:
    account: AccountInfo
    person: Person
    role: str  # teacher | pupil
    created: bool  # a person (and account) was created by this launch


def platform_agent(issuer: str, subject: str) -> dict[str, Any]:
    """The xAPI agent of a platform user: account {homePage: issuer, name: sub}."""
    return account_agent(issuer, subject)


def launch_role(launch: Launch) -> str:
    if launch.is_instructor:
        return "teacher"
    if launch.is_learner:
        return "pupil"
    raise RoleMismatchError("only instructors and learners can open Ashiato from a course")


def resolve_user(
    session: Session, launch: Launch, service_url: str, remote_addr: str
) -> LaunchUser:
    """The signed-in account for a validated launch (links identifiers; flushes, no commit)."""
    role = launch_role(launch)
    org_id = launch.deployment.org_id
    agent = platform_agent(launch.registration.issuer, launch.subject)
    person = person_for_agent(session, agent)
    if person is None and launch.person_sourcedid:
        roster_agent = account_agent(
            oneroster_home_page(service_url, "sourcedId"), launch.person_sourcedid
        )
        person = person_for_agent(session, roster_agent)
    created = False
    if person is None:
        if launch.registration.unknown_users != "create":
            raise UnknownUserError(
                "you are not linked to anybody in Ashiato yet; ask your school's administrator "
                "to link your account"
            )
        person = create_person(
            session,
            KIND_OF_ROLE[role],
            Names(family=launch.family_name or launch.name, given=launch.given_name),
            service_url,
            grade=launch.grade if role == "pupil" else None,
        )
        created = True
    if not person.active or person.merged_into_id is not None:
        raise UnknownUserError("the person you are linked to was deactivated or merged")
    link_identifier(session, person.id, agent, source="lti", org_id=org_id)
    account = _account(session, person, role, org_id, launch, created)
    record_event(
        session, "lti_sign_in", account.id, account.email, remote_addr, launch.registration.issuer
    )
    return LaunchUser(account=account, person=person, role=role, created=created)


def _account(
    session: Session, person: Person, role: str, org_id: int, launch: Launch, created: bool
) -> AccountInfo:
    orgs = {org_id, launch.registration.org_id}
    account_id = session.scalar(
        select(Account.id)
        .join(RoleGrant, RoleGrant.account_id == Account.id)
        .where(
            Account.person_id == person.id,
            Account.active.is_(True),
            RoleGrant.role == role,
            RoleGrant.org_id.in_(orgs),
        )
        .order_by(Account.id)
        .limit(1)
    )
    if account_id is not None:
        return load_account(session, account_id)
    has_account = session.scalar(select(Account.id).where(Account.person_id == person.id))
    may_create = created or (launch.registration.unknown_users == "create" and has_account is None)
    if not may_create or person.kind != KIND_OF_ROLE[role]:
        raise RoleMismatchError(
            f"you have no {role} account at this school in Ashiato; ask your school's administrator"
        )
    org_code = session.scalar(select(Organisation.code).where(Organisation.id == org_id))
    if org_code is None:  # pragma: no cover - the deployment's foreign key guarantees it
        raise RoleMismatchError("the school of this deployment no longer exists")
    return create_account(
        session,
        f"lti-{person.public_id}@lti.invalid",  # a login name nobody can type a password for
        secrets.token_urlsafe(32),
        role,
        org_code,
        person_id=person.id,
    )


def platform_user_id(session: Session, person_id: int, issuer: str) -> str | None:
    """The person's `sub` at the platform, from their identity links."""
    for agent in session.scalars(
        select(ActorLink.agent).where(ActorLink.person_id == person_id, ActorLink.source == "lti")
    ):
        account = agent.get("account") if isinstance(agent, dict) else None
        if isinstance(account, dict) and account.get("homePage") == issuer:
            return str(account["name"])
    return None
