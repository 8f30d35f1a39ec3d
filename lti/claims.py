"""Claim names and values of LTI 1.3 Core, Deep Linking 2.0, NRPS 2.0 and AGS 2.0."""

from __future__ import annotations

from typing import Final

LTI: Final = "https://purl.imsglobal.org/spec/lti/claim/"
MESSAGE_TYPE: Final = LTI + "message_type"
VERSION: Final = LTI + "version"
DEPLOYMENT_ID: Final = LTI + "deployment_id"
TARGET_LINK_URI: Final = LTI + "target_link_uri"
RESOURCE_LINK: Final = LTI + "resource_link"
ROLES: Final = LTI + "roles"
CONTEXT: Final = LTI + "context"
CUSTOM: Final = LTI + "custom"
LIS: Final = LTI + "lis"
TOOL_PLATFORM: Final = LTI + "tool_platform"
LAUNCH_PRESENTATION: Final = LTI + "launch_presentation"
DEEP_LINKING_SETTINGS: Final = "https://purl.imsglobal.org/spec/lti-dl/claim/deep_linking_settings"
DEEP_LINKING_CONTENT_ITEMS: Final = "https://purl.imsglobal.org/spec/lti-dl/claim/content_items"
DEEP_LINKING_DATA: Final = "https://purl.imsglobal.org/spec/lti-dl/claim/data"
NRPS: Final = "https://purl.imsglobal.org/spec/lti-nrps/claim/namesroleservice"
AGS: Final = "https://purl.imsglobal.org/spec/lti-ags/claim/endpoint"

RESOURCE_LINK_REQUEST: Final = "LtiResourceLinkRequest"
DEEP_LINKING_REQUEST: Final = "LtiDeepLinkingRequest"
DEEP_LINKING_RESPONSE: Final = "LtiDeepLinkingResponse"
LTI_VERSION: Final = "1.3.0"

# Roles (LIS vocabulary): context roles first, then institution roles.
_CONTEXT_ROLE: Final = "http://purl.imsglobal.org/vocab/lis/v2/membership#"
_INSTITUTION_ROLE: Final = "http://purl.imsglobal.org/vocab/lis/v2/institution/person#"
INSTRUCTOR_ROLES: Final = frozenset(
    {
        _CONTEXT_ROLE + "Instructor",
        _CONTEXT_ROLE + "Instructor#TeachingAssistant",
        _INSTITUTION_ROLE + "Instructor",
        _INSTITUTION_ROLE + "Faculty",
        "Instructor",  # the short form LTI 1.3 allows for context roles
    }
)
LEARNER_ROLES: Final = frozenset(
    {
        _CONTEXT_ROLE + "Learner",
        _INSTITUTION_ROLE + "Student",
        _INSTITUTION_ROLE + "Learner",
        "Learner",
    }
)
