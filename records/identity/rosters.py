"""Who may import a roster, and see its job: system admins anywhere; a school admin only for
a roster whose schools are all their own."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from records.errors import ForbiddenError
from records.identity.accounts import AccountInfo
from records.identity.oneroster.errors import Problems
from records.identity.oneroster.roster import read_roster
from records.jobs import JobView
from records.models import Organisation


def check_import_allowed(session: Session, viewer: AccountInfo, data: bytes) -> int | None:
    """The organisation the import is for (None: a system admin's import of any scope)."""
    if viewer.has_role("system_admin"):
        return None
    admin_orgs = viewer.orgs_for("school_admin")
    if not admin_orgs:
        raise ForbiddenError("only school admins and system admins may import rosters")
    own_codes = set(
        session.scalars(select(Organisation.code).where(Organisation.id.in_(admin_orgs)))
    )
    # Problems in the file are reported by the import job; here only its schools matter.
    schools = {row.code for row in read_roster(data, Problems()).orgs if row.kind == "school"}
    foreign = sorted(schools - own_codes)
    if foreign:
        raise ForbiddenError(
            f"this roster contains schools that are not yours: {', '.join(foreign)}"
        )
    return min(admin_orgs)


def check_job_visible(session: Session, viewer: AccountInfo, job: JobView) -> None:
    if viewer.has_role("system_admin") or job.requested_by_account_id == viewer.id:
        return
    if job.org_id is not None and job.org_id in viewer.orgs_for("school_admin"):
        return
    raise ForbiddenError("this job belongs to someone else")
