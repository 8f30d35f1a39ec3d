"""Assignment and Grade Services 2.0: read line items and results, post a teacher's score, and
record scores sent and received as xAPI statements about the pupil (`scored`).

Scores received (results read from the platform) are recorded only when they differ from the
latest score known for that pupil and line item, under an id derived from what was read: reading
the same results twice, or reading back a score Ashiato sent, records nothing new.
"""

from __future__ import annotations

import json
import math
import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from sqlalchemy.orm import Session

from lti.deep_linking import ASHIATO_TAG
from lti.errors import RegistrationError
from lti.record import lti_writer
from lti.services import PlatformHttp, ServiceError, paged, post_json
from records.identity.models import Person
from records.identity.people import own_agent
from records.query import Reader, StatementQuery, find_statements
from records.store import save_statements
from records.xapi import agent_key, parse_statement

SCOPE_LINEITEM_READ = "https://purl.imsglobal.org/spec/lti-ags/scope/lineitem.readonly"
SCOPE_RESULT_READ = "https://purl.imsglobal.org/spec/lti-ags/scope/result.readonly"
SCOPE_SCORE = "https://purl.imsglobal.org/spec/lti-ags/scope/score"
LINEITEMS_MEDIA_TYPE = "application/vnd.ims.lis.v2.lineitemcontainer+json"
RESULTS_MEDIA_TYPE = "application/vnd.ims.lis.v2.resultcontainer+json"
SCORE_MEDIA_TYPE = "application/vnd.ims.lis.v1.score+json"
SCORED = "http://adlnet.gov/expapi/verbs/scored"
_RECEIVED_IDS = uuid.UUID("5b2f7f0e-8f1c-4a55-9a59-6f1d3c1e2a10")  # namespace of received ids


@dataclass(frozen=True, slots=True)
class LineItem:
    id: str
    label: str
    score_maximum: float
    resource_link_id: str | None
    resource_id: str = ""
    tag: str = ""

    @property
    def is_ashiato_activity(self) -> bool:
        """Placed by Ashiato's deep linking (an Ashiato activity with a gradebook column)."""
        return self.tag == ASHIATO_TAG or self.resource_id.startswith("ashiato:")


@dataclass(frozen=True, slots=True)
class Score:
    user_id: str  # the pupil's `sub` at the platform
    given: float
    maximum: float
    comment: str
    timestamp: datetime


@dataclass(frozen=True, slots=True)
class Result:
    """A pupil's current result on a line item, as the platform's gradebook holds it."""

    user_id: str
    score: float
    maximum: float
    comment: str


def line_items(http: PlatformHttp, lineitems_url: str, token: str) -> list[LineItem]:
    items = []
    for page in paged(http, lineitems_url, token, LINEITEMS_MEDIA_TYPE):
        if not isinstance(page, list):
            raise ServiceError("the line items answer is not a list")
        for raw in page:
            item = _line_item(raw)
            if item is not None:
                items.append(item)
    return items


def _line_item(raw: Any) -> LineItem | None:
    if not isinstance(raw, dict) or not isinstance(raw.get("id"), str) or not raw["id"]:
        return None
    return LineItem(
        id=raw["id"],
        label=_text(raw.get("label")),
        score_maximum=_number(raw.get("scoreMaximum")) or 0.0,
        resource_link_id=_text(raw.get("resourceLinkId")) or None,
        resource_id=_text(raw.get("resourceId")),
        tag=_text(raw.get("tag")),
    )


def results(http: PlatformHttp, lineitem_url: str, token: str) -> list[Result]:
    """GET {line item}/results, every page."""
    found = []
    for page in paged(http, _below(lineitem_url, "results"), token, RESULTS_MEDIA_TYPE):
        if not isinstance(page, list):
            raise ServiceError("the results answer is not a list")
        for raw in page:
            result = _result(raw)
            if result is not None:
                found.append(result)
    return found


def _result(raw: Any) -> Result | None:
    if not isinstance(raw, dict):
        return None
    user_id, score = raw.get("userId"), _number(raw.get("resultScore"))
    if not isinstance(user_id, str | int) or isinstance(user_id, bool) or score is None:
        return None  # no score yet (or not one we can read)
    maximum = _number(raw.get("resultMaximum"))
    if maximum is None or maximum <= 0:
        maximum = 1.0  # AGS: no maximum means 1
    if not 0 <= score <= maximum:
        return None
    return Result(str(user_id), score, maximum, _text(raw.get("comment"), 1000))


def check_score(given: float, maximum: float) -> None:
    if not maximum > 0:
        raise RegistrationError("the maximum score must be more than 0")
    if not 0 <= given <= maximum:
        raise RegistrationError("the score must be between 0 and the maximum")


def post_score(http: PlatformHttp, lineitem_url: str, token: str, score: Score) -> None:
    """POST {line item}/scores (the path is added before any query string)."""
    check_score(score.given, score.maximum)
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
    post_json(http, _below(lineitem_url, "scores"), token, SCORE_MEDIA_TYPE, payload)


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
    """<pupil> scored <line item> with <score> (instructor: the teacher), as sent to the
    platform. Flushes."""
    check_score(score.given, score.maximum)
    data = _scored(
        pupil,
        lineitem_id,
        label,
        score.given,
        score.maximum,
        score.comment,
        service_url,
        "sent",
    )
    data["timestamp"] = score.timestamp.isoformat()
    if teacher is not None:
        data["context"]["instructor"] = own_agent(teacher.public_id, service_url)
    return save_statements(session, [parse_statement(data)], lti_writer(org_id, service_url))[0]


def record_result(
    session: Session,
    *,
    pupil: Person,
    lineitem_id: str,
    label: str,
    result: Result,
    org_id: int,
    service_url: str,
) -> str | None:
    """<pupil> scored <line item> with the score the platform's gradebook holds, unless that
    is the latest score known already (sent by Ashiato or received before). Returns the new
    statement's id, or None when nothing new was recorded. Flushes."""
    latest = latest_score(session, pupil, lineitem_id, org_id, service_url)
    if latest is not None and latest[1:] == (result.score, result.maximum, result.comment):
        return None
    previous = latest[0] if latest is not None else ""
    key = "\n".join(
        [
            str(org_id),
            lineitem_id,
            pupil.public_id,
            repr(result.score),
            repr(result.maximum),
            result.comment,
            previous,
        ]
    )
    data = _scored(
        pupil,
        lineitem_id,
        label,
        result.score,
        result.maximum,
        result.comment,
        service_url,
        "received",
    )
    # The same reading (after the same latest score) always makes the same statement: a
    # second, concurrent reading is an identical re-post, which the store ignores.
    data["id"] = str(uuid.uuid5(_RECEIVED_IDS, key))
    return save_statements(session, [parse_statement(data)], lti_writer(org_id, service_url))[0]


def latest_score(
    session: Session, pupil: Person, lineitem_id: str, org_id: int, service_url: str
) -> tuple[str, float, float, str] | None:
    """(statement id, score, maximum, comment) of the newest `scored` statement of the pupil
    for the line item, if any."""
    key = agent_key(own_agent(pupil.public_id, service_url))
    query = StatementQuery(agent_key=key, verb_id=SCORED, activity_id=lineitem_id, limit=1)
    page = find_statements(session, Reader(org_id=org_id), query, page_size=1)
    if not page.texts:
        return None
    statement = json.loads(page.texts[0])
    score = statement.get("result", {}).get("score", {})
    return (
        str(statement["id"]),
        float(score.get("raw", -1)),
        float(score.get("max", 0)),
        str(statement.get("result", {}).get("response", "")),
    )


def _scored(
    pupil: Person,
    lineitem_id: str,
    label: str,
    given: float,
    maximum: float,
    comment: str,
    service_url: str,
    source: str,
) -> dict[str, Any]:
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
                "raw": given,
                "min": 0,
                "max": maximum,
                "scaled": round(given / maximum, 6),
            }
        },
        # Whether Ashiato sent the score to the gradebook or read it from there.
        "context": {"extensions": {f"{service_url}xapi/extensions/lti/score-source": source}},
    }
    if comment:
        data["result"]["response"] = comment[:1000]
    return data


def _below(lineitem_url: str, name: str) -> str:
    """{line item}/name, the path extended before any query string."""
    parts = urlsplit(lineitem_url)
    return urlunsplit(parts._replace(path=parts.path.rstrip("/") + "/" + name))


def _number(value: Any) -> float | None:
    """A finite JSON number as a float; None for anything else (booleans included)."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    number = float(value)
    return number if math.isfinite(number) else None


def _text(value: Any, limit: int = 255) -> str:
    return value.strip()[:limit] if isinstance(value, str) else ""
