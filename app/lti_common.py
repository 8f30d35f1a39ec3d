"""What the LTI pages and commands share: the URL policy for calls to platforms (lti.net), the
refusal page (every LtiError is a 4xx page with its reason, never a 500), and the page's
security policy when a platform frames it or receives its form."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any
from urllib.parse import urlsplit

from flask import Response, current_app, make_response, render_template
from flask.typing import ResponseReturnValue
from flask_babel import gettext

from app.security import CONTENT_SECURITY_POLICY
from lti.errors import (
    BrowserMismatchError,
    CourseNotLinkedError,
    LaunchRejectedError,
    LoginRequestError,
    LtiError,
    RegistrationError,
    RoleMismatchError,
    UnknownUserError,
)
from lti.net import ServiceError, UnsafeUrlError, UrlPolicy


def url_policy(config: Mapping[str, Any] | None = None) -> UrlPolicy:
    """Which platform URLs Ashiato calls. Outside production, plain http (`LTI_ALLOW_HTTP`) and
    loopback or private addresses (`LTI_ALLOW_PRIVATE_URLS`: a test platform on localhost) are
    allowed unless set otherwise; in production both are refused unless set."""
    config = current_app.config if config is None else config
    production = bool(config.get("PRODUCTION"))
    return UrlPolicy(
        allow_http=bool(config.get("LTI_ALLOW_HTTP", not production)),
        allow_private=bool(config.get("LTI_ALLOW_PRIVATE_URLS", not production)),
        timeout_seconds=float(config.get("LTI_HTTP_TIMEOUT", 10)),
    )


def origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


def with_policy(
    body: ResponseReturnValue,
    *,
    frame_origins: Sequence[str] = (),
    form_origins: Sequence[str] = (),
) -> Response:
    """The app's security policy, letting the platform frame this page or receive its form."""
    response = make_response(body)
    policy = CONTENT_SECURITY_POLICY
    if frame_origins:
        framed = "frame-ancestors " + " ".join(frame_origins)
        policy = policy.replace("frame-ancestors 'none'", framed)
    if form_origins:
        posted = "form-action 'self' " + " ".join(form_origins)
        policy = policy.replace("form-action 'self'", posted)
    response.headers["Content-Security-Policy"] = policy
    return response


def refused(exc: LtiError, frame_origins: Sequence[str] = ()) -> Response:
    titles = {
        LoginRequestError: gettext("This course link is not set up for Ashiato"),
        BrowserMismatchError: gettext("Please open Ashiato in a new window"),
        LaunchRejectedError: gettext("Ashiato could not check this launch"),
        UnknownUserError: gettext("You are not linked to Ashiato yet"),
        RoleMismatchError: gettext("You cannot open Ashiato with this role"),
        RegistrationError: gettext("This cannot be saved"),
        UnsafeUrlError: gettext("Ashiato does not call this address"),
        ServiceError: gettext("The LMS did not answer as expected"),
        CourseNotLinkedError: gettext("This LMS course is not linked to this class"),
    }
    title = next(
        (titles[cls] for cls in type(exc).__mro__ if cls in titles),
        gettext("Ashiato could not check this launch"),
    )
    explanations = {
        UnknownUserError: gettext("Ask your school's administrator to link your account."),
        RoleMismatchError: gettext("Ask your school's administrator to give you an account."),
        BrowserMismatchError: gettext(
            "Your browser did not keep Ashiato's cookie inside the course page."
        ),
        RegistrationError: gettext("Please correct it and try again."),
        UnsafeUrlError: gettext(
            "Platform addresses must be https on the public internet, on the platform's own "
            "registered addresses."
        ),
        ServiceError: gettext("Please try again later, or ask your school's administrator."),
        CourseNotLinkedError: gettext(
            "Open Ashiato from the course in your LMS once as its teacher, then try again."
        ),
    }
    explanation = next(
        (explanations[cls] for cls in type(exc).__mro__ if cls in explanations),
        gettext("Please go back to your course and open the link again."),
    )
    restart = exc.login_params if isinstance(exc, BrowserMismatchError) else None
    page = render_template(
        "lti/refused.html",
        title=title,
        explanation=explanation,
        reason=exc.reason,
        restart=restart,
    )
    response = with_policy(page, frame_origins=frame_origins)
    response.status_code = exc.status
    return response
