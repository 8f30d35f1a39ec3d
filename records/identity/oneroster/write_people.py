"""Writing people and their identifier links (after every check passed).

New people are inserted in one statement and their links in another, by the rules of
`records.identity.people.create_person` and `link_identifier`: a pseudonymous public id, the
person's own account link (source "own"), then one link per roster identifier (source
"oneroster", org = the user's first org); a link that exists already is left as it is.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime
from typing import Any

from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from records.identity.models import ActorLink, Person
from records.identity.oneroster.identifiers import stored_key
from records.identity.oneroster.matching import Group
from records.identity.oneroster.plan import Plan
from records.identity.oneroster.report import ImportReport, Outcome
from records.identity.oneroster.rows import EnrollmentRow, RoleRow, UserRow
from records.identity.oneroster.world import chunks
from records.identity.oneroster.write_orgs import Ids, assign, table
from records.identity.people import new_public_id, own_agent

_ENROLLMENT_DETAILS = ("ShussekiNo", "PublicFlg")


class UserOrgs:
    """Each user's orgs in the order that picks the "first org" of their links."""

    def __init__(self, plan: Plan, ids: Ids) -> None:
        self.ids = ids
        self.roles: dict[str, list[RoleRow]] = defaultdict(list)
        for role in sorted(plan.roster.roles, key=lambda r: r.role_type != "primary"):
            if not role.deleted:
                self.roles[role.user].append(role)
        self.enrollments: dict[str, list[EnrollmentRow]] = defaultdict(list)
        for enrollment in plan.roster.enrollments:
            if not enrollment.deleted:
                self.enrollments[enrollment.user].append(enrollment)

    def first(self, row: UserRow) -> int | None:
        candidates = [
            row.primary_org,
            *(r.org for r in self.roles.get(row.sourced_id, [])),
            *row.orgs,
            *(e.school for e in self.enrollments.get(row.sourced_id, [])),
        ]
        for sourced_id in candidates:
            org_id = self.ids.org(sourced_id) if sourced_id else None
            if org_id is not None:
                return org_id
        return None

    def homeroom(self, row: UserRow) -> EnrollmentRow | None:
        """The enrollment whose Japan Profile metadata (出席番号, PublicFlg) describes the user:
        the one in their homeClass, else the first that carries any."""
        mine = self.enrollments.get(row.sourced_id, [])
        for enrollment in mine:
            if row.home_class and enrollment.class_ref == row.home_class:
                return enrollment
        return next((e for e in mine if any(v is not None for v in e.jp.values())), None)


def write_people(
    session: Session, plan: Plan, orgs: UserOrgs, report: ImportReport, now: datetime
) -> dict[str, int]:
    """Create or update everyone in users.csv; link their identifiers. Returns person ids by
    user sourcedId (the package's users and the stored users its rows refer to)."""
    counts = report.counts("users.csv") if plan.roster.has("users") else None
    columns = plan.roster.tables["users"].columns if plan.roster.has("users") else frozenset()
    groups = plan.people.groups
    new = [g for g in groups if g.person_id is None]
    values = [_person_values(plan, g, columns, orgs, None) for g in new]
    public_ids = [new_public_id() for _ in new]
    if new:
        # One executemany, then the ids by public id: RETURNING with ordered rows would be one
        # statement per row on SQLite.
        session.execute(
            insert(table(Person)),
            [
                {**v, "public_id": p, "created_at": now, "updated_at": now}
                for v, p in zip(values, public_ids, strict=True)
            ],
        )
        person_ids: dict[str, int] = {}
        for batch in chunks(public_ids):
            query = select(Person.public_id, Person.id).where(Person.public_id.in_(batch))
            for public_id, person_id in session.execute(query):
                person_ids[public_id] = person_id
        for group, public_id in zip(new, public_ids, strict=True):
            group.person_id = person_ids[public_id]
        report.people_created += len(new)
    changed: set[int] = set()
    for group in groups:
        person = plan.world.persons.get(group.person_id or 0)
        if person is not None and assign(
            person, **_person_values(plan, group, columns, orgs, person.details)
        ):
            person.updated_at = now
            changed.add(person.id)
    linked = _write_links(
        session, plan, orgs, dict(zip(map(id, new), public_ids, strict=True)), now, report
    )
    if counts is not None:
        created = {id(g) for g in new}
        for group in groups:
            for index, row in enumerate(group.rows):
                outcome: Outcome = "unchanged"
                if id(group) in created:
                    outcome = "created" if index == 0 else "updated"
                elif (group.person_id in changed and row is group.last) or row.line in linked:
                    outcome = "updated"
                counts.count(outcome)
    people = {sid: g.person_id for sid, g in plan.people.by_sourced_id.items() if g.person_id}
    for sid in {r.user for r in plan.roster.enrollments} | {r.user for r in plan.roster.roles}:
        if sid and sid not in people:
            stored = plan.world.link_person.get(plan.user_key(sid))
            if stored is not None:
                people[sid] = stored
    return people


def _person_values(
    plan: Plan, group: Group, columns: frozenset[str], orgs: UserOrgs, stored: dict[str, Any] | None
) -> dict[str, Any]:
    row = group.last
    values: dict[str, Any] = {
        "kind": group.kind,
        "family_name": row.family,
        "given_name": row.given,
        "active": True,
    }
    optional = {
        "middleName": ("middle_name", row.middle),
        "metadata.jp.kanaFamilyName": ("kana_family_name", row.kana_family),
        "metadata.jp.kanaGivenName": ("kana_given_name", row.kana_given),
        "metadata.jp.kanaMiddleName": ("kana_middle_name", row.kana_middle),
    }
    for column, (name, value) in optional.items():
        if column in columns or stored is None:
            values[name] = value
    if "grades" in columns or stored is None:
        values["grade"] = row.grade
    details = dict(stored or {})
    for member in group.rows:
        _merge(details, member.jp)
    homeroom = orgs.homeroom(row)
    if homeroom is not None:
        _merge(
            details,
            {
                k: v
                for k, v in homeroom.jp.items()
                if k in _ENROLLMENT_DETAILS and row.jp.get(k) is None
            },
        )
    values["details"] = details
    return values


def _merge(details: dict[str, Any], metadata: dict[str, Any]) -> None:
    for key, value in metadata.items():
        if value is None:
            details.pop(key, None)
        else:
            details[key] = value


def _write_links(
    session: Session,
    plan: Plan,
    orgs: UserOrgs,
    new_public_ids: dict[int, str],
    now: datetime,
    report: ImportReport,
) -> set[int]:
    """Insert the links nobody has yet; the lines of user rows that added one."""
    known = dict(plan.world.link_person)
    links: list[dict[str, Any]] = []
    lines: set[int] = set()
    for group in plan.people.groups:
        person_id = group.person_id
        public_id = new_public_ids.get(id(group))
        if public_id is not None:
            agent = own_agent(public_id, plan.service_url)
            links.append(_link(person_id, stored_key(agent), agent, "own", None, now))
        for ident, row in group.identifiers:
            if ident.key in known:
                continue
            known[ident.key] = person_id or 0
            links.append(
                _link(person_id, ident.key, ident.agent, "oneroster", orgs.first(row), now)
            )
            lines.add(row.line)
    if links:
        session.execute(insert(table(ActorLink)), links)
    report.identifiers_linked += len(links)
    return lines


def _link(
    person_id: int | None,
    key: str,
    agent: dict[str, Any],
    source: str,
    org_id: int | None,
    now: datetime,
) -> dict[str, Any]:
    return {
        "person_id": person_id,
        "agent_key": key,
        "agent": agent,
        "source": source,
        "org_id": org_id,
        "created_at": now,
    }
