"""Writing org memberships (roles.csv) and enrollments, and ending what a roster no longer lists.

Nothing is deleted. An enrollment that ends gets active=False and an end date; a membership
gets an end date. The end date is the last day (inclusive), so what a roster drops today ended
yesterday; an end date already in the past is kept.

A user removed from the roster (a `tobedeleted` row, or a bulk users.csv that no longer lists a
sourcedId of a covered org) ends that person's enrollments and memberships everywhere except
in the orgs of their other sourcedIds (a pupil who transferred keeps the new school), unless a
row of this package lists them. The person stays active while anything of theirs is current.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import insert, or_, select
from sqlalchemy.orm import Session

from records.identity.models import ActorLink, Enrollment, OrgMembership, Person
from records.identity.oneroster.identifiers import oneroster_home_page
from records.identity.oneroster.plan import Plan
from records.identity.oneroster.report import ImportReport, Outcome
from records.identity.oneroster.world import chunks
from records.identity.oneroster.write_orgs import Ids, assign, table

MembershipKey = tuple[int, int, str]  # person, org, role
EnrollmentKey = tuple[int, str]  # org, sourcedId


def ended(end: date | None, today: date) -> date:
    """The end date of something that stops today: yesterday, unless it ended before."""
    return end if end is not None and end < today else today - timedelta(days=1)


def _current(end: date | None, today: date) -> bool:
    return end is None or end >= today


@dataclass(slots=True)
class Listed:
    """What this package says is current, so that removals leave it alone."""

    memberships: set[MembershipKey]
    enrollments: set[EnrollmentKey]


def _widen(
    old: tuple[date | None, date | None], new: tuple[date | None, date | None]
) -> tuple[date | None, date | None]:
    begin = None if old[0] is None or new[0] is None else min(old[0], new[0])
    end = None if old[1] is None or new[1] is None else max(old[1], new[1])
    return begin, end


def write_memberships(
    session: Session, plan: Plan, ids: Ids, people: dict[str, int], report: ImportReport
) -> set[MembershipKey]:
    roster, today = plan.roster, plan.today
    wanted: dict[MembershipKey, tuple[date | None, date | None]] = {}
    first_row: dict[MembershipKey, int] = {}
    for role in roster.roles:
        org_id, person_id = ids.org(role.org), people.get(role.user)
        if role.deleted or org_id is None or person_id is None:
            continue
        key = (person_id, org_id, role.role)
        first_row.setdefault(key, role.line)
        dates = (role.begin, role.end)
        wanted[key] = _widen(wanted[key], dates) if key in wanted else dates
    for user in roster.users:
        person_id = people.get(user.sourced_id)
        for org in user.orgs if user.role and not user.deleted and person_id else ():
            org_id = ids.org(org)
            if org_id is not None and person_id is not None:
                wanted.setdefault((person_id, org_id, user.role), (None, None))
    persons = {key[0] for key in wanted} | {
        people[r.user] for r in roster.roles if r.deleted and r.user in people
    }
    covered = _covered_ids(plan, ids) if roster.bulk("roles") else []
    stored: dict[MembershipKey, OrgMembership] = {}
    for batch in chunks(sorted(persons)):
        stored.update(
            _by_key(
                session.scalars(select(OrgMembership).where(OrgMembership.person_id.in_(batch)))
            )
        )
    for batch in chunks(covered):
        stored.update(
            _by_key(session.scalars(select(OrgMembership).where(OrgMembership.org_id.in_(batch))))
        )
    outcomes: dict[MembershipKey, Outcome] = {}
    new: list[dict[str, Any]] = []
    for key, (begin, end) in wanted.items():
        membership = stored.get(key)
        if membership is None:
            new.append(
                {
                    "person_id": key[0],
                    "org_id": key[1],
                    "role": key[2],
                    "begin_date": begin,
                    "end_date": end,
                }
            )
            outcomes[key] = "created"
        else:
            changed = assign(membership, begin_date=begin, end_date=end)
            outcomes[key] = "updated" if changed else "unchanged"
    if new:
        session.execute(insert(table(OrgMembership)), new)
    if not roster.has("roles"):
        return set(wanted)
    counts = report.counts("roles.csv")
    for role in roster.roles:
        org_id, person_id = ids.org(role.org), people.get(role.user)
        key = (person_id or 0, org_id or 0, role.role)
        if not role.deleted:
            counts.count(outcomes[key] if first_row.get(key) == role.line else "unchanged")
            continue
        membership = stored.get(key)
        if key in wanted or membership is None or not _current(membership.end_date, today):
            counts.count("unchanged")
        else:
            membership.end_date = ended(membership.end_date, today)
            counts.count("deactivated")
    covered_set = set(covered)
    for key, membership in stored.items():
        if key[1] in covered_set and key not in wanted and _current(membership.end_date, today):
            membership.end_date = ended(membership.end_date, today)
            counts.count("deactivated")
    return set(wanted)


def _by_key(memberships: Iterable[OrgMembership]) -> dict[MembershipKey, OrgMembership]:
    return {(m.person_id, m.org_id, m.role): m for m in memberships}


def _covered_ids(plan: Plan, ids: Ids) -> list[int]:
    return [org_id for org_id in (ids.org(sid) for sid in plan.covered) if org_id is not None]


def write_enrollments(
    session: Session, plan: Plan, ids: Ids, people: dict[str, int], report: ImportReport
) -> set[EnrollmentKey]:
    roster, today = plan.roster, plan.today
    if not roster.has("enrollments"):
        return set()
    counts = report.counts("enrollments.csv")
    stored: dict[EnrollmentKey, Enrollment] = {}
    for batch in chunks(sorted({e.sourced_id for e in roster.enrollments})):
        stored.update(_enrollments(session, Enrollment.sourced_id.in_(batch)))
    covered = _covered_ids(plan, ids) if roster.bulk("enrollments") else []
    for org_batch in chunks(covered):
        stored.update(_enrollments(session, Enrollment.org_id.in_(org_batch), Enrollment.active))
    by_sid: dict[str, list[Enrollment]] = defaultdict(list)
    for enrollment in stored.values():
        by_sid[enrollment.sourced_id].append(enrollment)
    wanted: set[EnrollmentKey] = set()
    new: list[dict[str, Any]] = []
    for row in roster.enrollments:
        if row.deleted:
            school = ids.org(row.school) if row.school else None
            matches = [e for e in by_sid[row.sourced_id] if school in (None, e.org_id)]
            changed = [
                assign(e, active=False, end_date=row.end or ended(e.end_date, today))
                for e in matches
                if e.active
            ]
            counts.count("deactivated" if any(changed) else "unchanged")
            continue
        key = (ids.org(row.school) or 0, row.sourced_id)
        wanted.add(key)
        values = {
            "person_id": people[row.user],
            "class_id": ids.school_class(row.class_ref),
            "role": row.role,
            "primary": row.primary,
            "begin_date": row.begin,
            "end_date": row.end,
            "active": True,
        }
        found = stored.get(key)
        if found is None:
            new.append({"org_id": key[0], "sourced_id": key[1], **values})
            counts.count("created")
        else:
            counts.count("updated" if assign(found, **values) else "unchanged")
    if new:
        session.execute(insert(table(Enrollment)), new)
    listed = {e.sourced_id for e in roster.enrollments}
    covered_set = set(covered)
    for (org_id, sid), enrollment in stored.items():
        if org_id in covered_set and sid not in listed and enrollment.active:
            assign(enrollment, active=False, end_date=ended(enrollment.end_date, today))
            counts.count("deactivated")
    return wanted


def _enrollments(session: Session, *where: Any) -> dict[EnrollmentKey, Enrollment]:
    return {(e.org_id, e.sourced_id): e for e in session.scalars(select(Enrollment).where(*where))}


def write_removals(
    session: Session, plan: Plan, ids: Ids, listed: Listed, report: ImportReport, now: datetime
) -> None:
    """End what removed users had (see the module docstring); deactivate who has nothing left."""
    roster, today = plan.roster, plan.today
    if not roster.has("users"):
        return
    home = oneroster_home_page(plan.service_url, "sourcedId")
    removed: dict[int, set[str]] = defaultdict(set)  # person -> removed sourcedIds
    outcome_of: list[tuple[int | None, str]] = []  # (person, sourcedId) per counted removal
    for row in roster.users:
        if row.deleted:
            person_id = plan.world.link_person.get(plan.user_key(row.sourced_id))
            outcome_of.append((person_id, row.sourced_id))
            if person_id is not None:
                removed[person_id].add(row.sourced_id)
    if roster.bulk("users"):
        listed_users = {row.sourced_id for row in roster.users}
        # Long keys are stored hashed (records.keys.index_key), so those are read too.
        prefix = or_(
            ActorLink.agent_key.startswith(f"account:{home} ", autoescape=True),
            ActorLink.agent_key.startswith("sha256:"),
        )
        for batch in chunks(_covered_ids(plan, ids)):
            for person_id, name in _sourced_ids(session, home, ActorLink.org_id.in_(batch), prefix):
                if name not in listed_users and name not in removed.get(person_id, ()):
                    removed[person_id].add(name)
                    outcome_of.append((person_id, name))
    if not removed:
        for _ in outcome_of:
            report.counts("users.csv").count("unchanged")
        return
    keep: dict[int, set[int]] = defaultdict(set)
    for batch in chunks(sorted(removed)):
        for person_id, name, org_id in _sourced_id_orgs(session, home, batch):
            if name not in removed.get(person_id, ()) and org_id is not None:
                keep[person_id].add(org_id)
    changed: set[int] = set()
    for batch in chunks(sorted(removed)):
        for e in session.scalars(
            select(Enrollment).where(Enrollment.person_id.in_(batch), Enrollment.active)
        ):
            listed_here = (e.org_id, e.sourced_id) in listed.enrollments
            if not listed_here and e.org_id not in keep[e.person_id]:
                assign(e, active=False, end_date=ended(e.end_date, today))
                changed.add(e.person_id)
        for m in session.scalars(select(OrgMembership).where(OrgMembership.person_id.in_(batch))):
            key = (m.person_id, m.org_id, m.role)
            if (
                key not in listed.memberships
                and m.org_id not in keep[m.person_id]
                and _current(m.end_date, today)
            ):
                m.end_date = ended(m.end_date, today)
                changed.add(m.person_id)
    session.flush()
    changed |= _deactivate(session, plan, set(removed), now)
    counts = report.counts("users.csv")
    for person_id, _ in outcome_of:
        counts.count("deactivated" if person_id in changed else "unchanged")


def _sourced_ids(session: Session, home: str, *where: Any) -> list[tuple[int, str]]:
    return [(p, name) for p, name, _ in _links(session, home, *where)]


def _sourced_id_orgs(
    session: Session, home: str, persons: list[int]
) -> list[tuple[int, str, int | None]]:
    return _links(session, home, ActorLink.person_id.in_(persons))


def _links(session: Session, home: str, *where: Any) -> list[tuple[int, str, int | None]]:
    """(person, sourcedId, org) of the sourcedId links matching `where`."""
    found = []
    query = select(ActorLink.person_id, ActorLink.agent, ActorLink.org_id).where(
        ActorLink.source == "oneroster", *where
    )
    for person_id, agent, org_id in session.execute(query):
        account = agent.get("account") if isinstance(agent, dict) else None
        if isinstance(account, dict) and account.get("homePage") == home:
            found.append((person_id, str(account.get("name", "")), org_id))
    return found


def _deactivate(session: Session, plan: Plan, persons: set[int], now: datetime) -> set[int]:
    """Deactivate removed people with nothing current left; the ids that changed."""
    staying = {g.person_id for g in plan.people.groups}
    candidates = sorted(persons - staying)
    today = plan.today
    current: set[int] = set()
    changed: set[int] = set()
    for batch in chunks(candidates):
        current.update(
            session.scalars(
                select(Enrollment.person_id).where(
                    Enrollment.person_id.in_(batch),
                    Enrollment.active,
                    or_(Enrollment.end_date.is_(None), Enrollment.end_date >= today),
                )
            )
        )
        current.update(
            session.scalars(
                select(OrgMembership.person_id).where(
                    OrgMembership.person_id.in_(batch),
                    or_(OrgMembership.end_date.is_(None), OrgMembership.end_date >= today),
                )
            )
        )
        for person in session.scalars(select(Person).where(Person.id.in_(batch))):
            if assign(person, active=person.id in current):
                person.updated_at = now
                changed.add(person.id)
    return changed
