"""Which organisations an account administers: a school admin the organisations of their
school_admin grants, a system admin every organisation. The admin screens open a school only
through `administered_school`, so a school admin never reaches another school's data."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from records.errors import ForbiddenError, NotFoundError
from records.identity.accounts import AccountInfo
from records.models import Organisation

ADMIN_ROLES = ("school_admin", "system_admin")


@dataclass(frozen=True, slots=True)
class School:
    """An organisation as the admin screens show it (usually a school)."""

    id: int
    code: str
    name: str
    kind: str


def require_admin(viewer: AccountInfo) -> None:
    """ForbiddenError unless the account is a school admin or a system admin."""
    if not viewer.has_role(*ADMIN_ROLES):
        raise ForbiddenError("only school admins and system admins may use the admin screens")


def administered_schools(
    session: Session, viewer: AccountInfo, *, after_code: str = "", limit: int = 100
) -> list[School]:
    """The organisations `viewer` administers, by code, `limit` at a time after `after_code`."""
    require_admin(viewer)
    stmt = select(Organisation).where(Organisation.code > after_code)
    if not viewer.has_role("system_admin"):
        stmt = stmt.where(Organisation.id.in_(viewer.orgs_for("school_admin")))
    return [_school(org) for org in session.scalars(stmt.order_by(Organisation.code).limit(limit))]


def administered_school(session: Session, viewer: AccountInfo, code: str) -> School:
    """The organisation with this code, if `viewer` administers it.

    A school admin asking for any other code gets ForbiddenError whether or not it exists, so
    the answer does not tell which codes are in use; a system admin gets NotFoundError for an
    unknown code.
    """
    require_admin(viewer)
    org = session.scalar(select(Organisation).where(Organisation.code == code))
    if viewer.has_role("system_admin"):
        if org is None:
            raise NotFoundError(f"no organisation with code {code!r}")
        return _school(org)
    if org is None or org.id not in viewer.orgs_for("school_admin"):
        raise ForbiddenError("you administer other schools, not this one")
    return _school(org)


def _school(org: Organisation) -> School:
    return School(org.id, org.code, org.name, org.kind)
