"""Every check that needs the database, gathered into the Plan the writers follow."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy.orm import Session

from records.identity.oneroster.errors import Problems
from records.identity.oneroster.identifiers import sourced_id_key
from records.identity.oneroster.matching import People, assign_kinds, identify_rows, match_people
from records.identity.oneroster.references import References
from records.identity.oneroster.roster import Roster
from records.identity.oneroster.world import World, load_world


@dataclass(slots=True)
class Plan:
    roster: Roster
    world: World
    refs: References
    people: People
    service_url: str
    today: date
    covered: list[str]  # sourcedIds of the orgs whose data the package's bulk files replace
    # The orgs whose nearest common ancestor owns the package's new academic sessions.
    session_orgs: list[str]

    def user_key(self, sourced_id: str) -> str:
        return sourced_id_key(self.service_url, sourced_id)


def check_roster(
    session: Session, roster: Roster, service_url: str, today: date, problems: Problems
) -> Plan:
    identified = identify_rows(roster, service_url)
    keys = {ident.key for found, _ in identified.values() for ident in found}
    referenced = {e.user for e in roster.enrollments} | {r.user for r in roster.roles}
    user_keys = {sid: sourced_id_key(service_url, sid) for sid in referenced if sid}
    world = load_world(session, roster, keys | set(user_keys.values()))

    def user_in_db(sourced_id: str) -> bool:
        return user_keys.get(sourced_id, "") in world.link_person

    refs = References(roster, world, user_in_db, problems)
    refs.check_all()
    people = match_people(roster, world, identified, problems)
    assign_kinds(people, roster, world, problems)
    covered = covered_orgs(roster)
    plan = Plan(roster, world, refs, people, service_url, today, covered, [])
    plan.session_orgs = _session_orgs(plan, problems)
    return plan


def covered_orgs(roster: Roster) -> list[str]:
    """The orgs a package speaks for: every school in orgs.csv and every org that owns a row
    (a class's or enrollment's school, a course's or role's org, a 1.1 user's orgs). A bulk file
    replaces the rows of these orgs and of no others."""
    found: dict[str, None] = {}
    for org in roster.orgs:
        if org.kind == "school" and not org.deleted:
            found[org.sourced_id] = None
    owners = [
        *(c.school for c in roster.classes),
        *(c.org for c in roster.courses),
        *(e.school for e in roster.enrollments),
        *(r.org for r in roster.roles),
        *(org for u in roster.users for org in u.orgs),
    ]
    for sid in owners:
        if sid:
            found[sid] = None
    return list(found)


def _session_orgs(plan: Plan, problems: Problems) -> list[str]:
    """New academic sessions belong to the smallest org subtree covering the package: the
    nearest common ancestor of its covered orgs (or, without any, of its orgs.csv rows)."""
    stored = plan.world.sessions
    new = [s for s in plan.roster.sessions if not s.deleted and s.sourced_id not in stored]
    if not new:
        return []
    orgs = plan.covered or [o.sourced_id for o in plan.roster.orgs if not o.deleted]
    known = [sid for sid in orgs if sid in plan.refs.orgs.active or sid in plan.world.org_by_sid]
    if not known:
        problems.add(
            "academicSessions.csv",
            new[0].line,
            "sourcedId",
            "cannot tell which organisation this session belongs to: add the classes or "
            "orgs that use it to the package",
        )
    return known
