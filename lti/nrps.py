"""Names and Role Provisioning Services 2.0: a course's members, page by page."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from lti.services import PlatformHttp, ServiceError, paged

SCOPE = "https://purl.imsglobal.org/spec/lti-nrps/scope/contextmembership.readonly"
MEDIA_TYPE = "application/vnd.ims.lti-nrps.v2.membershipcontainer+json"


@dataclass(frozen=True, slots=True)
class Member:
    user_id: str
    roles: tuple[str, ...]
    status: str  # Active | Inactive | Deleted
    name: str
    given_name: str
    family_name: str
    person_sourcedid: str | None


def members(http: PlatformHttp, memberships_url: str, token: str) -> Iterator[Member]:
    for page in paged(http, memberships_url, token, MEDIA_TYPE):
        if not isinstance(page, dict) or not isinstance(page.get("members"), list):
            raise ServiceError("the membership answer has no members list")
        for raw in page["members"]:
            member = _member(raw)
            if member is not None:
                yield member


def _member(raw: Any) -> Member | None:
    if not isinstance(raw, dict) or not isinstance(raw.get("user_id"), str) or not raw["user_id"]:
        return None
    roles = raw.get("roles")
    return Member(
        user_id=raw["user_id"],
        roles=tuple(str(r) for r in roles) if isinstance(roles, list) else (),
        status=str(raw.get("status") or "Active"),
        name=_text(raw.get("name")),
        given_name=_text(raw.get("given_name")),
        family_name=_text(raw.get("family_name")),
        person_sourcedid=_text(raw.get("lis_person_sourcedid")) or None,
    )


def _text(value: Any) -> str:
    return value.strip()[:255] if isinstance(value, str) else ""
