"""Who may import a roster, and see its job: system admins anywhere; a school admin only for
a roster whose schools are all their own."""

from __future__ import annotations

from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from records.errors import ForbiddenError
from records.identity.access import administered_people
from records.identity.accounts import AccountInfo
from records.identity.models import ActorLink, Person
from records.identity.oneroster.errors import Problems
from records.identity.oneroster.identifiers import sourced_id_key
from records.identity.oneroster.roster import Roster, read_roster
from records.jobs import JobView
from records.models import Organisation


def check_import_allowed(
    session: Session, viewer: AccountInfo, data: bytes, service_url: str, today: date
) -> int | None:
    """The organisation the import is for (None: a system admin's import of any scope).

    A school admin's roster may only touch their own schools: every organisation a row points
    at (courses, classes, enrollments, roles, users' organisations) must be theirs, and a user
    who already exists elsewhere may appear only to be placed in their school (a transfer in),
    never just to be changed. Everything else about the file is the import job's to report.
    """
    if viewer.has_role("system_admin"):
        return None
    admin_orgs = viewer.orgs_for("school_admin")
    if not admin_orgs:
        raise ForbiddenError("only school admins and system admins may import rosters")
    own = session.execute(
        select(Organisation.code, Organisation.sourced_id).where(Organisation.id.in_(admin_orgs))
    ).all()
    own_codes = {code for code, _ in own}
    roster = read_roster(data, Problems())
    code_of = {row.sourced_id: row.code for row in roster.orgs}
    foreign_schools = sorted({row.code for row in roster.orgs if row.kind == "school"} - own_codes)
    if foreign_schools:
        raise ForbiddenError(
            f"this roster contains schools that are not yours: {', '.join(foreign_schools)}"
        )
    refs = _org_refs(roster)
    unknown = refs - set(code_of)
    if unknown:
        found = session.execute(
            select(Organisation.sourced_id, Organisation.code).where(
                Organisation.sourced_id.in_(unknown)
            )
        ).all()
        code_of.update({sourced_id: code for sourced_id, code in found if sourced_id})
    foreign_refs = sorted(ref for ref in refs if code_of.get(ref) not in own_codes)
    if foreign_refs:
        raise ForbiddenError(
            "this roster refers to organisations that are not yours (or unknown): "
            + ", ".join(foreign_refs[:10])
        )
    placed_here = {e.user for e in roster.enrollments} | {r.user for r in roster.roles}
    placed_here |= {u.sourced_id for u in roster.users if u.primary_org or u.orgs}
    keys = {sourced_id_key(service_url, u.sourced_id): u.sourced_id for u in roster.users}
    if keys:
        existing = session.execute(
            select(ActorLink.agent_key, ActorLink.person_id).where(
                ActorLink.agent_key.in_(list(keys))
            )
        ).all()
        members = set(
            session.scalars(
                administered_people(viewer, today).where(
                    Person.id.in_([person_id for _, person_id in existing])
                )
            )
        )
        strangers = sorted(
            keys[key]
            for key, person_id in existing
            if person_id not in members and keys[key] not in placed_here
        )
        if strangers:
            raise ForbiddenError(
                "this roster changes people of other schools without placing them in yours: "
                + ", ".join(strangers[:10])
            )
    return min(admin_orgs)


def _org_refs(roster: Roster) -> set[str]:
    refs = {c.org for c in roster.courses} | {c.school for c in roster.classes}
    refs |= {e.school for e in roster.enrollments} | {r.org for r in roster.roles}
    for user in roster.users:
        refs |= {user.primary_org, *user.orgs}
    return {ref for ref in refs if ref}


def check_job_visible(session: Session, viewer: AccountInfo, job: JobView) -> None:
    if viewer.has_role("system_admin") or job.requested_by_account_id == viewer.id:
        return
    if job.org_id is not None and job.org_id in viewer.orgs_for("school_admin"):
        return
    raise ForbiddenError("this job belongs to someone else")
