"""Assignment and Grade Services 2.0: read line items, post a teacher's score, and record scores
sent (or received) as xAPI statements."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from sqlalchemy.orm import Session

from lti.errors import RegistrationError
from lti.record import lti_writer
from lti.services import PlatformHttp, ServiceError, get_json, post_json
from records.identity.models import Person
from records.identity.people import own_agent
from records.store import save_statements
from records.xapi import parse_statement

SCOPE_LINEITEM_READ = "https://purl.imsglobal.org/spec/lti-ags/scope/lineitem.readonly"
SCOPE_SCORE = "https://purl.imsglobal.org/spec/lti-ags/scope/score"
LINEITEMS_MEDIA_TYPE = "application/vnd.ims.lis.v2.lineitemcontainer+json"
SCORE_MEDIA_TYPE = "application/vnd.ims.lis.v1.score+json"
SCORED = "http://adlnet.gov/expapi/verbs/scored"


@dataclass(frozen=True, slots=True)
class LineItem:
    id: str
    label: str
    score_maximum: float
    resource_link_id: str | None


@dataclass(frozen=True, slots=True)
class Score:
    user_id: str  # the pupil's `sub` at the platform
    given: float
    maximum: float
    comment: str
    timestamp: datetime


def line_items(http: PlatformHttp, lineitems_url: str, token: str) -> list[LineItem]:
    data = get_json(http, lineitems_url, token, LINEITEMS_MEDIA_TYPE).json()
    if not isinstance(data, list):
        raise ServiceError("the line items answer is not a list")
    items = []
    for raw in data:
        if not isinstance(raw, dict) or not isinstance(raw.get("id"), str):
            continue
        maximum = raw.get("scoreMaximum")
        items.append(
            LineItem(
                id=raw["id"],
                label=str(raw.get("label", "")),
                score_maximum=float(maximum) if isinstance(maximum, int | float) else 0.0,
                resource_link_id=raw.get("resourceLinkId")
                if isinstance(raw.get("resourceLinkId"), str)
                else None,
            )
        )
    return items


def check_score(given: float, maximum: float) -> None:
    if not maximum > 0:
        raise RegistrationError("the maximum score must be more than 0")
    if not 0 <= given <= maximum:
        raise RegistrationError("the score must be between 0 and the maximum")


def post_score(http: PlatformHttp, lineitem_url: str, token: str, score: Score) -> None:
    """POST {line item}/scores (the path is added before any query string)."""
    check_score(score.given, score.maximum)
    parts = urlsplit(lineitem_url)
    scores_url = urlunsplit(parts._replace(path=parts.path.rstrip("/") + "/scores"))
    payload: dict[str, Any] = {
        "userId": score.user_id,
        "scoreGiven": score.given,
        "scoreMaximum": score.maximum,
        "activityProgress": "Completed",
        "gradingProgress": "FullyGraded",
        "timestamp": score.timestamp.isoformat(),
    }
    if score.comment:
        payload["comment"] = score.comment
    post_json(http, scores_url, token, SCORE_MEDIA_TYPE, payload)


def record_score(
    session: Session,
    *,
    pupil: Person,
    teacher: Person | None,
    lineitem_id: str,
    label: str,
    score: Score,
    org_id: int,
    service_url: str,
) -> str:
    """<pupil> scored <line item> with <score> (instructor: the teacher). Flushes."""
    check_score(score.given, score.maximum)
    data: dict[str, Any] = {
        "actor": own_agent(pupil.public_id, service_url),
        "verb": {"id": SCORED, "display": {"en": "scored", "ja": "評価された"}},
        "object": {
            "objectType": "Activity",
            "id": lineitem_id,
            "definition": {"name": {"und": label or "LTI line item"}},
        },
        "result": {
            "score": {
                "raw": score.given,
                "min": 0,
                "max": score.maximum,
                "scaled": round(score.given / score.maximum, 6),
            }
        },
        "timestamp": score.timestamp.isoformat(),
    }
    if score.comment:
        data["result"]["response"] = score.comment[:1000]
    if teacher is not None:
        data["context"] = {"instructor": own_agent(teacher.public_id, service_url)}
    return save_statements(session, [parse_statement(data)], lti_writer(org_id, service_url))[0]
