"""OIDC third-party login initiation (LTI 1.3 Core §5.1.1, 1EdTech Security Framework §5.1).

The platform asks us to start a login; we pick its registration, issue a state (bound to the
browser by the caller's cookie) and a nonce, both remembered server-side and usable once, and
send the browser to the platform's authentication endpoint.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from urllib.parse import urlencode, urlsplit

from lti.errors import LoginRequestError
from lti.ports import NonceStore, Registration, RegistrationStore, StateStore

LOGIN_LIFETIME = timedelta(minutes=10)
# Login parameters a platform may send, kept to start again in a new window.
LOGIN_PARAMS = (
    "iss",
    "login_hint",
    "target_link_uri",
    "lti_message_hint",
    "client_id",
    "lti_deployment_id",
)
MAX_PARAM_LENGTH = 2000


@dataclass(frozen=True, slots=True)
class LoginRedirect:
    url: str  # the platform's authentication endpoint with our request
    state: str  # to be bound to the browser (cookie) by the caller


def digest(value: str) -> str:
    """How state, nonces and tickets are stored: SHA-256, hex."""
    return hashlib.sha256(value.encode("utf-8")).hexdigest()


def begin_login(
    params: Mapping[str, str],
    *,
    launch_url: str,
    registrations: RegistrationStore,
    states: StateStore,
    nonces: NonceStore,
    now: datetime,
) -> LoginRedirect:
    """Check the login initiation and build the authentication request."""
    given = {name: params[name] for name in LOGIN_PARAMS if params.get(name)}
    if any(len(value) > MAX_PARAM_LENGTH for value in given.values()):
        raise LoginRequestError("a login parameter is too long")
    for required in ("iss", "login_hint", "target_link_uri"):
        if required not in given:
            raise LoginRequestError(f"the platform did not send {required}")
    registration = _registration(registrations, given["iss"], given.get("client_id"))
    deployment_id = given.get("lti_deployment_id")
    if deployment_id and registrations.deployment(registration.id, deployment_id) is None:
        raise LoginRequestError(f"deployment {deployment_id!r} is not registered for this platform")
    target = given["target_link_uri"]
    if not is_our_launch_url(target, launch_url):
        raise LoginRequestError("target_link_uri is not a launch URL of this tool")
    state = secrets.token_urlsafe(32)
    nonce = secrets.token_urlsafe(32)
    expires = now + LOGIN_LIFETIME
    states.issue(digest(state), digest(nonce), registration.id, target, given, expires)
    nonces.issue(digest(nonce), registration.id, expires)
    request = {
        "scope": "openid",
        "response_type": "id_token",
        "response_mode": "form_post",
        "prompt": "none",
        "client_id": registration.client_id,
        "redirect_uri": launch_url,
        "login_hint": given["login_hint"],
        "state": state,
        "nonce": nonce,
    }
    if "lti_message_hint" in given:
        request["lti_message_hint"] = given["lti_message_hint"]  # passed back unaltered
    separator = "&" if urlsplit(registration.auth_login_url).query else "?"
    return LoginRedirect(registration.auth_login_url + separator + urlencode(request), state)


def is_our_launch_url(target: str, launch_url: str) -> bool:
    """The target must be our registered launch URL (query parameters aside)."""
    got, ours = urlsplit(target), urlsplit(launch_url)
    return (got.scheme, got.netloc, got.path) == (ours.scheme, ours.netloc, ours.path) and not (
        got.fragment
    )


def _registration(
    registrations: RegistrationStore, issuer: str, client_id: str | None
) -> Registration:
    found = registrations.find(issuer, client_id)
    if not found:
        raise LoginRequestError("this platform (issuer and client_id) is not registered")
    if len(found) > 1:
        raise LoginRequestError(
            "this issuer has several registrations; the platform must send client_id"
        )
    return found[0]
