"""Which regions' aggregates a viewer may ask for (the rule itself is
records.identity.access.analysis_regions; this applies it to a requested region)."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from records.errors import ForbiddenError, NotFoundError
from records.identity.access import analysis_regions
from records.identity.accounts import AccountInfo
from records.models import Organisation
from records.organisations import subtree_ids

NATION = "JP"


def home_region(session: Session, viewer: AccountInfo) -> str:
    """The region a viewer sees first: the nation for a system admin, else their own region."""
    roots = analysis_regions(viewer)
    if roots is None:
        return NATION
    if not roots:
        raise ForbiddenError("regional analytics are for board analysts and system admins")
    codes = session.scalars(
        select(Organisation.code).where(Organisation.id.in_(roots)).order_by(Organisation.code)
    ).all()
    return codes[0]


def check_region(session: Session, viewer: AccountInfo, code: str) -> None:
    """Raise unless `viewer` may see aggregates of the region with this code."""
    roots = analysis_regions(viewer)
    if roots is None:
        if code.upper() != NATION and _org_id(session, code) is None:
            raise NotFoundError(f"no region with code {code!r}")
        return
    if not roots:
        raise ForbiddenError("regional analytics are for board analysts and system admins")
    org_id = _org_id(session, code) if code.upper() != NATION else None
    if org_id is None or not any(org_id in subtree_ids(session, root) for root in roots):
        # The same answer for a region that exists elsewhere and one that does not.
        raise ForbiddenError(f"region {code!r} is outside your region; you may see only your own")


def _org_id(session: Session, code: str) -> int | None:
    return session.scalar(select(Organisation.id).where(Organisation.code == code))
