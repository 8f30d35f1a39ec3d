"""Deep Linking 2.0: a teacher picks an Ashiato activity to place in the LMS course, and the tool
answers the platform with a signed LtiDeepLinkingResponse.

The activity travels in the link's custom parameters (`activity`, `unit`); launching the link
opens that activity's form for the pupil (see app/lti_views.py). Unless the platform says it
does not accept line items, the link asks for a gradebook column (AGS line item, tagged
"ashiato"), to which the teacher later sends their assessment from the class page.
"""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import jwt

from lti import claims as c
from lti.errors import LaunchRejectedError, RegistrationError
from lti.ports import SigningKey

ASHIATO_TAG = "ashiato"  # the tag of line items Ashiato asks for (see lti.ags)
RESPONSE_LIFETIME = timedelta(minutes=5)
ACTIVITY_KINDS = ("reflection", "activity", "goal")
MAX_UNIT_LENGTH = 100
DEFAULT_POINTS = 10
MAX_POINTS = 1000


@dataclass(frozen=True, slots=True)
class DeepLinkRequest:
    """What a deep-linking launch asked for, kept (signed) until the teacher has chosen."""

    platform_id: int
    issuer: str
    client_id: str
    deployment_id: str
    return_url: str
    data: str | None
    accept_types: tuple[str, ...]
    account_id: int
    accept_lineitem: bool = True

    def as_dict(self) -> dict[str, Any]:
        return {
            "platform_id": self.platform_id,
            "issuer": self.issuer,
            "client_id": self.client_id,
            "deployment_id": self.deployment_id,
            "return_url": self.return_url,
            "data": self.data,
            "accept_types": list(self.accept_types),
            "account_id": self.account_id,
            "accept_lineitem": self.accept_lineitem,
        }

    @classmethod
    def from_dict(cls, raw: Mapping[str, Any]) -> DeepLinkRequest:
        try:
            return cls(
                platform_id=int(raw["platform_id"]),
                issuer=str(raw["issuer"]),
                client_id=str(raw["client_id"]),
                deployment_id=str(raw["deployment_id"]),
                return_url=str(raw["return_url"]),
                data=None if raw.get("data") is None else str(raw["data"]),
                accept_types=tuple(str(t) for t in raw.get("accept_types") or ()),
                account_id=int(raw["account_id"]),
                accept_lineitem=raw.get("accept_lineitem", True) is not False,
            )
        except (KeyError, TypeError, ValueError):
            raise LaunchRejectedError("the deep-linking request is unreadable") from None


@dataclass(frozen=True, slots=True)
class ActivityChoice:
    kind: str  # reflection | activity | goal
    unit: str  # e.g. "分数" (shown in the title, passed as custom.unit)
    title: str
    points: int = DEFAULT_POINTS  # the gradebook column's maximum score

    @property
    def resource_id(self) -> str:
        """The line item's resourceId: which Ashiato activity the column grades."""
        return f"ashiato:{self.kind}:{self.unit}"[:255]


def choose_activity(
    kind: str, unit: str, titles: Mapping[str, str], points: str = ""
) -> ActivityChoice:
    """The teacher's choice, checked; `titles` are the kinds' names in the teacher's language."""
    if kind not in ACTIVITY_KINDS:
        raise LaunchRejectedError(f"{kind!r} is not an Ashiato activity")
    unit = " ".join(unit.split())[:MAX_UNIT_LENGTH]
    name = titles.get(kind, kind)
    maximum = DEFAULT_POINTS
    if points.strip():
        if not points.strip().isdigit() or not 1 <= int(points) <= MAX_POINTS:
            raise RegistrationError(f"the points must be a whole number from 1 to {MAX_POINTS}")
        maximum = int(points)
    return ActivityChoice(
        kind=kind, unit=unit, title=f"{name}: {unit}" if unit else name, points=maximum
    )


def response_token(
    request: DeepLinkRequest,
    choice: ActivityChoice,
    *,
    launch_url: str,
    key: SigningKey,
    now: datetime,
) -> str:
    """The LtiDeepLinkingResponse JWT (RS256, our current kid) with one LTI resource link."""
    if request.accept_types and "ltiResourceLink" not in request.accept_types:
        raise LaunchRejectedError("the platform does not accept LTI resource links here")
    custom = {"activity": choice.kind}
    if choice.unit:
        custom["unit"] = choice.unit
    item: dict[str, Any] = {
        "type": "ltiResourceLink",
        "title": choice.title,
        "url": launch_url,
        "custom": custom,
    }
    if request.accept_lineitem:
        item["lineItem"] = {
            "scoreMaximum": choice.points,
            "label": choice.title,
            "resourceId": choice.resource_id,
            "tag": ASHIATO_TAG,
        }
    payload: dict[str, Any] = {
        "iss": request.client_id,
        "aud": request.issuer,
        "iat": int(now.timestamp()),
        "exp": int((now + RESPONSE_LIFETIME).timestamp()),
        "nonce": secrets.token_urlsafe(16),
        c.MESSAGE_TYPE: c.DEEP_LINKING_RESPONSE,
        c.VERSION: c.LTI_VERSION,
        c.DEPLOYMENT_ID: request.deployment_id,
        c.DEEP_LINKING_CONTENT_ITEMS: [item],
    }
    if request.data is not None:
        payload[c.DEEP_LINKING_DATA] = request.data  # returned as the platform sent it
    return jwt.encode(payload, key.private_pem, algorithm="RS256", headers={"kid": key.kid})
