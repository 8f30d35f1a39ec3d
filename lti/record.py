"""Launches recorded as xAPI statements: <person> launched <the LMS resource link>."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from lti.launch import Launch
from lti.oidc import digest
from records.identity.models import Person
from records.identity.people import own_agent
from records.store import Writer, save_statements
from records.xapi import parse_statement

LAUNCHED = "http://adlnet.gov/expapi/verbs/launched"
LINK_TYPE = "http://adlnet.gov/expapi/activities/link"
COURSE_TYPE = "http://adlnet.gov/expapi/activities/course"


def lti_writer(org_id: int, service_url: str) -> Writer:
    authority = {
        "objectType": "Agent",
        "name": "Ashiato LTI",
        "account": {"homePage": service_url, "name": "lti"},
    }
    return Writer(org_id=org_id, credential_id=None, authority=authority, may_define=True)


def resource_activity_id(launch: Launch, service_url: str) -> str:
    """A stable activity IRI for the platform's resource link (or deep-linking placement)."""
    link = launch.resource_link_id or f"deep-linking:{launch.context_id or ''}"
    key = digest(f"{launch.registration.issuer}\n{launch.deployment.deployment_id}\n{link}")
    return f"{service_url}lti/resource-links/{key[:40]}"


def course_activity_id(issuer: str, deployment_id: str, context_id: str, service_url: str) -> str:
    """A stable activity IRI for an LMS course (LTI context) of a deployment."""
    key = digest(f"{issuer}\n{deployment_id}\n{context_id}")
    return f"{service_url}lti/courses/{key[:40]}"


def record_launch(session: Session, launch: Launch, person: Person, service_url: str) -> str:
    """Store the launch statement (flushes, no commit) and return its id."""
    ext = f"{service_url}xapi/extensions/lti/"
    extensions: dict[str, Any] = {
        ext + "issuer": launch.registration.issuer,
        ext + "deployment-id": launch.deployment.deployment_id,
        ext + "message-type": launch.message_type,
        ext + "roles": list(launch.roles),
    }
    if launch.context_id:
        extensions[ext + "context-id"] = launch.context_id
    if launch.platform_guid:
        extensions[ext + "platform-guid"] = launch.platform_guid
    name = launch.resource_link_title or launch.context_title or "LTI"
    context: dict[str, Any] = {
        "platform": (launch.platform_guid or launch.registration.issuer)[:255],
        "extensions": extensions,
    }
    if launch.context_id:
        # The course, as a grouping activity: "who launched from this course" is one index look-up.
        course = course_activity_id(
            launch.registration.issuer,
            launch.deployment.deployment_id,
            launch.context_id,
            service_url,
        )
        context["contextActivities"] = {
            "grouping": [
                {
                    "objectType": "Activity",
                    "id": course,
                    "definition": {
                        "name": {"und": launch.context_title or launch.context_id},
                        "type": COURSE_TYPE,
                    },
                }
            ]
        }
    data: dict[str, Any] = {
        "actor": own_agent(person.public_id, service_url),
        "verb": {"id": LAUNCHED, "display": {"en": "launched", "ja": "起動した"}},
        "object": {
            "objectType": "Activity",
            "id": resource_activity_id(launch, service_url),
            "definition": {"name": {"und": name}, "type": LINK_TYPE},
        },
        "context": context,
    }
    ids = save_statements(
        session, [parse_statement(data)], lti_writer(launch.deployment.org_id, service_url)
    )
    return ids[0]
