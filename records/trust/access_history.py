"""'Who looked at my data': a pupil's access log in plain words, for the pupil, their guardian
and their school's admins; and a school's whole log for its admins. Reading the log is itself
logged (it says who looked at whom)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from records.audit import Accessor, record_access, record_accesses
from records.errors import BadRequestError, ForbiddenError
from records.identity.access import administered_people, may_read_access_log
from records.identity.accounts import AccountInfo
from records.identity.directory import purpose_of
from records.identity.models import AccessLogEntry, Account, Person, RoleGrant
from records.identity.people import find_person
from records.models import Credential, Organisation
from records.trust import words

PAGE_SIZE = 50


@dataclass(frozen=True, slots=True)
class AccessRow:
    id: int
    at: datetime
    subject_public_id: str
    subject_name: str
    who: str  # a name, a device/tool, or "you"
    role: str | None  # a key of words.ROLES
    organisation: str
    what: str
    purpose: str  # a key of words.PURPOSES
    purpose_words: str
    count: int
    by_self: bool


@dataclass(frozen=True, slots=True)
class AccessFilter:
    since: datetime | None = None
    purpose: str | None = None
    include_self: bool = True  # the pupil's page hides their own visits unless asked

    def __post_init__(self) -> None:
        if self.purpose is not None and self.purpose not in words.PURPOSES:
            raise BadRequestError(f"unknown purpose {self.purpose!r}")


@dataclass(frozen=True, slots=True)
class AccessPage:
    rows: list[AccessRow]
    next_before: int | None  # id to continue from (older rows)


def person_access_log(
    session: Session,
    viewer: AccountInfo,
    public_id: str,
    today: date,
    locale: str,
    filters: AccessFilter,
    before: int | None = None,
    limit: int = PAGE_SIZE,
) -> AccessPage:
    person = find_person(session, public_id)
    if not may_read_access_log(session, viewer, person.id, today):
        raise ForbiddenError("you may see only your own access log (or your child's)")
    stmt = select(AccessLogEntry).where(AccessLogEntry.subject_person_id == person.id)
    page = _page(session, _filtered(stmt, filters), locale, before, limit, viewer)
    purpose = "self" if viewer.person_id == person.id else purpose_of(viewer, person.id)
    record_access(session, Accessor(account_id=viewer.id), person.id, "access_log", purpose)
    return page


def school_access_log(
    session: Session,
    viewer: AccountInfo,
    today: date,
    locale: str,
    filters: AccessFilter,
    before: int | None = None,
    limit: int = PAGE_SIZE,
) -> AccessPage:
    if not viewer.has_role("school_admin", "system_admin"):
        raise ForbiddenError("only school admins see their school's access log")
    stmt = select(AccessLogEntry).where(
        AccessLogEntry.subject_person_id.in_(administered_people(viewer, today))
    )
    page = _page(session, _filtered(stmt, filters), locale, before, limit, viewer)
    subjects = sorted({row.subject_public_id for row in page.rows})
    found = session.execute(
        select(Person.public_id, Person.id).where(Person.public_id.in_(subjects))
    )
    ids: dict[str, int] = dict(found.all())
    record_accesses(
        session,
        Accessor(account_id=viewer.id),
        [(ids[s], "access_log", "administration", 1) for s in subjects],
    )
    return page


Query = Select[AccessLogEntry]


def _filtered(stmt: Query, filters: AccessFilter) -> Query:
    if filters.since is not None:
        stmt = stmt.where(AccessLogEntry.at >= filters.since)
    if filters.purpose is not None:
        stmt = stmt.where(AccessLogEntry.purpose == filters.purpose)
    if not filters.include_self:
        stmt = stmt.where(AccessLogEntry.purpose != "self")
    return stmt


def _page(
    session: Session,
    stmt: Query,
    locale: str,
    before: int | None,
    limit: int,
    viewer: AccountInfo,
) -> AccessPage:
    if before is not None:
        stmt = stmt.where(AccessLogEntry.id < before)
    entries = list(session.scalars(stmt.order_by(AccessLogEntry.id.desc()).limit(limit + 1)))
    more = len(entries) > limit
    entries = entries[:limit]
    rows = _describe(session, entries, locale, viewer)
    return AccessPage(rows, entries[-1].id if more and entries else None)


def _describe(
    session: Session, entries: Sequence[AccessLogEntry], locale: str, viewer: AccountInfo
) -> list[AccessRow]:
    """Names for every actor, credential, organisation and subject: four queries a page."""
    account_ids = {e.actor_account_id for e in entries if e.actor_account_id}
    credential_ids = {e.actor_credential_id for e in entries if e.actor_credential_id}
    accounts = {
        account_id: (person_id, email)
        for account_id, person_id, email in session.execute(
            select(Account.id, Account.person_id, Account.email).where(Account.id.in_(account_ids))
        )
    }
    roles: dict[int, tuple[str, int]] = {}
    for account_id, granted, org_id in session.execute(
        select(RoleGrant.account_id, RoleGrant.role, RoleGrant.org_id)
        .where(RoleGrant.account_id.in_(account_ids))
        .order_by(RoleGrant.id)
    ):
        roles.setdefault(account_id, (granted, org_id))
    credentials = {
        cid: (label, org_id)
        for cid, label, org_id in session.execute(
            select(Credential.id, Credential.label, Credential.org_id).where(
                Credential.id.in_(credential_ids)
            )
        )
    }
    person_ids = {pid for pid, _ in accounts.values() if pid} | {
        e.subject_person_id for e in entries
    }
    people = {p.id: p for p in session.scalars(select(Person).where(Person.id.in_(person_ids)))}
    org_ids = {org for _, org in roles.values()} | {org for _, org in credentials.values()}
    org_ids |= {e.actor_org_id for e in entries if e.actor_org_id}
    named = session.execute(
        select(Organisation.id, Organisation.name).where(Organisation.id.in_(org_ids))
    )
    orgs: dict[int, str] = dict(named.all())
    found = []
    for e in entries:
        subject = people.get(e.subject_person_id)
        role: str | None = None
        organisation = orgs.get(e.actor_org_id or 0, "")
        by_self = False
        if e.actor_account_id is not None:
            person_id, _email = accounts.get(e.actor_account_id, (None, ""))
            by_self = person_id is not None and person_id == e.subject_person_id
            actor = people.get(person_id or 0)
            who = _name(actor) if actor else _word(locale, "an account", "アカウント")
            if by_self:
                who = _word(locale, "you", "あなた")
            grant = roles.get(e.actor_account_id)
            if grant is not None:
                role = grant[0]
                organisation = organisation or orgs.get(grant[1], "")
        elif e.actor_credential_id is not None:
            label, org_id = credentials.get(e.actor_credential_id, ("", 0))
            who = _word(locale, f"device or tool “{label}”", f"端末・ツール「{label}」")
            organisation = organisation or orgs.get(org_id, "")
        else:
            who = _word(locale, "Ashiato (system)", "足跡（システム）")
        purpose = words.PURPOSES.get(e.purpose)
        found.append(
            AccessRow(
                id=e.id,
                at=e.at,
                subject_public_id=subject.public_id if subject else "",
                subject_name=_name(subject) if subject else "",
                who=who,
                role=role,
                organisation=organisation,
                what=words.resource_words(e.resource).get(locale),
                purpose=e.purpose,
                purpose_words=purpose.get(locale) if purpose else e.purpose,
                count=e.count,
                by_self=by_self,
            )
        )
    return found


def _name(person: Person) -> str:
    return " ".join(p for p in (person.family_name, person.given_name) if p) or person.public_id


def _word(locale: str, en: str, ja: str) -> str:
    return ja if locale == "ja" else en
