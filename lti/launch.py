"""The id_token launch (LTI 1.3 Core §5.1.2, 1EdTech Security Framework §5.1.3).

Every check, in order; the first that fails refuses the launch with a reason:
 1. state: sent, equal to the browser's state cookie, issued by us, unexpired, used once;
 2. header: alg RS256 only (never none, never HMAC), kid present;
 3. iss and aud name the registration the state was issued for; with several audiences, azp;
 4. signature with the platform key chosen by kid (key set over HTTP, TTL cache, one refetch);
 5. exp and iat with a small leeway; sub present;
 6. deployment_id registered for that platform;
 7. nonce: the one issued with this state, and usable once;
 8. message type and LTI version 1.3.0; target_link_uri the one of the login;
 9. a resource link (resource link launch) or deep-linking settings (deep-linking request).
NRPS and AGS endpoints the launch claims are kept only when they are on the platform's origins.
"""

from __future__ import annotations

import hmac
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

import jwt

from lti import claims as c
from lti.errors import BrowserMismatchError, LaunchRejectedError
from lti.japan import launch_grade
from lti.net import on_origins, platform_origins
from lti.oidc import digest
from lti.ports import (
    Deployment,
    LoginState,
    NonceStore,
    PlatformKeys,
    Registration,
    RegistrationStore,
    StateStore,
)

LEEWAY_SECONDS = 60  # clock skew allowed on exp and iat
MAX_TOKEN_LENGTH = 64 * 1024
MAX_DEEP_LINKING_DATA = 2048


@dataclass(frozen=True, slots=True)
class DeepLinkingSettings:
    return_url: str
    accept_types: tuple[str, ...]
    data: str | None
    accept_lineitem: bool = True  # false only when the platform says so


@dataclass(frozen=True, slots=True)
class Launch:
    """A validated launch: who, from where, into what."""

    registration: Registration
    deployment: Deployment
    subject: str
    message_type: str
    roles: tuple[str, ...]
    target_link_uri: str
    resource_link_id: str | None
    resource_link_title: str
    context_id: str | None
    context_title: str
    name: str
    given_name: str
    family_name: str
    person_sourcedid: str | None
    grade: str | None
    platform_guid: str | None
    custom: Mapping[str, Any] = field(default_factory=dict)
    deep_linking: DeepLinkingSettings | None = None
    memberships_url: str | None = None  # NRPS context_memberships_url
    lineitems_url: str | None = None  # AGS lineitems

    @property
    def is_instructor(self) -> bool:
        return any(role in c.INSTRUCTOR_ROLES for role in self.roles)

    @property
    def is_learner(self) -> bool:
        return any(role in c.LEARNER_ROLES for role in self.roles)


def check_state(
    form_state: str, cookie_state: str | None, states: StateStore, now: datetime
) -> LoginState:
    """Check 1: the state belongs to this browser and is used once."""
    if not form_state:
        raise LaunchRejectedError("the launch has no state")
    login = states.consume(digest(form_state), now)
    if login is None:
        raise LaunchRejectedError("the state is unknown, expired or was used already")
    if cookie_state is None or not hmac.compare_digest(cookie_state, form_state):
        raise BrowserMismatchError(
            "this browser did not start the login (no matching cookie)", login.login_params
        )
    return login


def validate_launch(
    id_token: str,
    login: LoginState,
    *,
    registrations: RegistrationStore,
    keys: PlatformKeys,
    nonces: NonceStore,
    now: datetime,
) -> Launch:
    """Checks 2-9 on an id_token whose state passed check_state."""
    if not id_token or len(id_token) > MAX_TOKEN_LENGTH:
        raise LaunchRejectedError("the launch has no usable id_token")
    registration = registrations.get(login.platform_id)
    if registration is None:
        raise LaunchRejectedError("the platform of this login is no longer registered")
    kid = _checked_header(id_token)
    _check_unverified_audience(id_token, registration)
    key = keys.public_key(registration.jwks_url, kid)
    payload = _verified(id_token, key, registration, now)
    deployment = _deployment(payload, registration, registrations)
    _check_nonce(payload, login, registration, nonces, now)
    message_type = _check_message(payload, login)
    return _launch(payload, registration, deployment, message_type)


def _checked_header(id_token: str) -> str:
    try:
        header = jwt.get_unverified_header(id_token)
    except jwt.PyJWTError:
        raise LaunchRejectedError("the id_token is not a JWT") from None
    if header.get("alg") != "RS256":
        raise LaunchRejectedError(f"the id_token is signed with {header.get('alg')!r}, not RS256")
    kid = header.get("kid")
    if not isinstance(kid, str) or not kid:
        raise LaunchRejectedError("the id_token names no key (kid)")
    return kid


def _check_unverified_audience(id_token: str, registration: Registration) -> None:
    """Before fetching keys: the token must at least claim to be for this registration."""
    try:
        unverified = jwt.decode(id_token, options={"verify_signature": False})
    except jwt.PyJWTError:
        raise LaunchRejectedError("the id_token cannot be read") from None
    if unverified.get("iss") != registration.issuer:
        raise LaunchRejectedError("the id_token's issuer is not the platform of this login")
    audiences = _audiences(unverified.get("aud"))
    if registration.client_id not in audiences:
        raise LaunchRejectedError("the id_token is not addressed to this tool (aud)")


def _verified(id_token: str, key: Any, registration: Registration, now: datetime) -> dict[str, Any]:
    try:
        payload: dict[str, Any] = jwt.decode(
            id_token,
            key,
            algorithms=["RS256"],
            audience=registration.client_id,
            issuer=registration.issuer,
            leeway=LEEWAY_SECONDS,
            options={"require": ["exp", "iat", "iss", "aud", "sub", "nonce"]},
        )
    except jwt.ExpiredSignatureError:
        raise LaunchRejectedError("the id_token has expired") from None
    except jwt.ImmatureSignatureError:
        raise LaunchRejectedError("the id_token was issued in the future (iat)") from None
    except jwt.InvalidSignatureError:
        raise LaunchRejectedError("the id_token's signature is not the platform's") from None
    except jwt.MissingRequiredClaimError as exc:
        raise LaunchRejectedError(f"the id_token has no {exc.claim} claim") from None
    except jwt.InvalidAudienceError:
        raise LaunchRejectedError("the id_token is not addressed to this tool (aud)") from None
    except jwt.InvalidIssuerError:
        raise LaunchRejectedError("the id_token's issuer is not registered") from None
    except jwt.PyJWTError as exc:
        raise LaunchRejectedError(f"the id_token is not valid ({exc})") from None
    iat = payload.get("iat")
    if not isinstance(iat, int | float) or iat > now.timestamp() + LEEWAY_SECONDS:
        raise LaunchRejectedError("the id_token was issued in the future (iat)")
    audiences = _audiences(payload.get("aud"))
    azp = payload.get("azp")
    if len(audiences) > 1 and azp is None:
        raise LaunchRejectedError("the id_token has several audiences but no azp")
    if azp is not None and azp != registration.client_id:
        raise LaunchRejectedError("the id_token's authorized party (azp) is not this tool")
    if not isinstance(payload.get("sub"), str) or not payload["sub"]:
        raise LaunchRejectedError("the id_token names no user (sub)")
    return payload


def _deployment(
    payload: Mapping[str, Any], registration: Registration, registrations: RegistrationStore
) -> Deployment:
    deployment_id = payload.get(c.DEPLOYMENT_ID)
    if not isinstance(deployment_id, str) or not deployment_id:
        raise LaunchRejectedError("the id_token has no deployment_id")
    deployment = registrations.deployment(registration.id, deployment_id)
    if deployment is None:
        raise LaunchRejectedError(f"deployment {deployment_id!r} is not registered")
    return deployment


def _check_nonce(
    payload: Mapping[str, Any],
    login: LoginState,
    registration: Registration,
    nonces: NonceStore,
    now: datetime,
) -> None:
    nonce = payload.get("nonce")
    if not isinstance(nonce, str) or not nonce:
        raise LaunchRejectedError("the id_token has no nonce")
    hashed = digest(nonce)
    if not hmac.compare_digest(hashed, login.nonce_hash):
        raise LaunchRejectedError("the id_token's nonce is not the one of this login")
    if not nonces.consume(hashed, registration.id, now):
        raise LaunchRejectedError("the id_token's nonce was used already or has expired")


def _check_message(payload: Mapping[str, Any], login: LoginState) -> str:
    message_type = payload.get(c.MESSAGE_TYPE)
    if message_type not in (c.RESOURCE_LINK_REQUEST, c.DEEP_LINKING_REQUEST):
        raise LaunchRejectedError(f"message type {message_type!r} is not supported")
    if payload.get(c.VERSION) != c.LTI_VERSION:
        raise LaunchRejectedError(f"LTI version {payload.get(c.VERSION)!r} is not 1.3.0")
    if payload.get(c.TARGET_LINK_URI) != login.target_link_uri:
        raise LaunchRejectedError("target_link_uri differs from the one of the login")
    if not isinstance(payload.get(c.ROLES), list):
        raise LaunchRejectedError("the id_token has no roles claim")
    if message_type == c.RESOURCE_LINK_REQUEST:
        link = payload.get(c.RESOURCE_LINK)
        if not isinstance(link, dict) or not isinstance(link.get("id"), str) or not link["id"]:
            raise LaunchRejectedError("the launch has no resource link")
    else:
        settings = payload.get(c.DEEP_LINKING_SETTINGS)
        if not isinstance(settings, dict) or not settings.get("deep_link_return_url"):
            raise LaunchRejectedError("the deep-linking request has no return URL")
        data = settings.get("data")
        if isinstance(data, str) and len(data) > MAX_DEEP_LINKING_DATA:
            raise LaunchRejectedError("the deep-linking request's data is too long")
    return str(message_type)


def _launch(
    payload: Mapping[str, Any],
    registration: Registration,
    deployment: Deployment,
    message_type: str,
) -> Launch:
    link = _mapping(payload.get(c.RESOURCE_LINK))
    context = _mapping(payload.get(c.CONTEXT))
    custom = _mapping(payload.get(c.CUSTOM))
    lis = _mapping(payload.get(c.LIS))
    platform = _mapping(payload.get(c.TOOL_PLATFORM))
    settings = _mapping(payload.get(c.DEEP_LINKING_SETTINGS))
    nrps = _mapping(payload.get(c.NRPS))
    ags = _mapping(payload.get(c.AGS))
    deep_linking = None
    if message_type == c.DEEP_LINKING_REQUEST:
        deep_linking = DeepLinkingSettings(
            return_url=str(settings["deep_link_return_url"]),
            accept_types=tuple(str(t) for t in settings.get("accept_types") or ()),
            # Returned to the platform exactly as it sent it (never trimmed).
            data=settings["data"] if isinstance(settings.get("data"), str) else None,
            accept_lineitem=settings.get("accept_lineitem") is not False,
        )
    return Launch(
        registration=registration,
        deployment=deployment,
        subject=str(payload["sub"]),
        message_type=message_type,
        roles=tuple(str(role) for role in payload[c.ROLES]),
        target_link_uri=str(payload[c.TARGET_LINK_URI]),
        resource_link_id=_text(link.get("id")) or None,
        resource_link_title=_text(link.get("title")),
        context_id=_text(context.get("id")) or None,
        context_title=_text(context.get("title")),
        name=_text(payload.get("name")),
        given_name=_text(payload.get("given_name")),
        family_name=_text(payload.get("family_name")),
        person_sourcedid=_text(lis.get("person_sourcedid")) or None,
        grade=launch_grade(custom),
        platform_guid=_text(platform.get("guid")) or None,
        custom=dict(custom),
        deep_linking=deep_linking,
        memberships_url=_service_url(nrps.get("context_memberships_url"), registration),
        lineitems_url=_service_url(ags.get("lineitems"), registration),
    )


def _audiences(aud: Any) -> list[str]:
    if isinstance(aud, str):
        return [aud]
    if isinstance(aud, list):
        return [a for a in aud if isinstance(a, str)]
    return []


def _mapping(value: Any) -> Mapping[str, Any]:
    return value if isinstance(value, dict) else {}


def _service_url(value: Any, registration: Registration) -> str | None:
    """A service endpoint the launch claims, kept only when it is on one of the registered
    platform's origins (the platform's access tokens are sent there); otherwise ignored."""
    if not isinstance(value, str) or len(value) > 1000:
        return None
    parts = urlsplit(value)
    if parts.scheme not in ("https", "http") or not parts.netloc:
        return None
    return value if on_origins(value, platform_origins(registration)) else None


def _text(value: Any) -> str:
    return value.strip()[:255] if isinstance(value, str) else ""
