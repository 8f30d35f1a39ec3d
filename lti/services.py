"""Calling a platform's LTI Advantage services: an OAuth 2 access token by the client-credentials
grant with a signed JWT assertion (1EdTech Security Framework §4.1), then JSON over HTTP with
the media types NRPS 2.0 and AGS 2.0 define. Paged answers are followed by their Link rel=next
(on the same origin only). Every request goes through lti.net (SSRF checks, time limit, size
cap); service URLs must be on the registered platform's origins (`require_platform_url`).
"""

from __future__ import annotations

import json
import re
import secrets
from collections.abc import Iterator, Mapping
from datetime import datetime, timedelta
from typing import Any, Protocol
from urllib.parse import urlencode, urljoin

import jwt

from lti.net import (
    HttpAnswer,
    SafeHttp,
    ServiceError,
    UnsafeUrlError,
    UrlPolicy,
    on_origins,
    origin_of,
    platform_origins,
)
from lti.ports import Registration, SigningKey

__all__ = [
    "HttpAnswer",
    "PlatformHttp",
    "SafeHttp",
    "ScopeNotGrantedError",
    "ServiceError",
    "UnsafeUrlError",
    "UrlPolicy",
    "access_token",
    "get_json",
    "next_link",
    "paged",
    "post_json",
    "require_platform_url",
]

ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
ASSERTION_LIFETIME = timedelta(minutes=5)
MAX_PAGES = 200


class ScopeNotGrantedError(ServiceError):
    """The platform gave a token without (some of) the scopes asked for."""


class PlatformHttp(Protocol):
    def request(
        self, method: str, url: str, headers: Mapping[str, str], body: bytes | None
    ) -> HttpAnswer: ...


def require_platform_url(registration: Registration, url: str, what: str) -> str:
    """A service URL (from a launch, a page of answers or an admin) must be on one of the
    registered platform's origins: Ashiato sends the platform's access token only there."""
    if not on_origins(url, platform_origins(registration)):
        raise UnsafeUrlError(
            f"the {what} {url[:80]!r} is not on the platform's registered origins "
            f"({', '.join(sorted(platform_origins(registration)))})"
        )
    return url


def client_assertion(registration: Registration, key: SigningKey, now: datetime) -> str:
    """The JWT that authenticates the tool at the platform's token endpoint."""
    payload = {
        "iss": registration.client_id,
        "sub": registration.client_id,
        "aud": registration.token_url,
        "iat": int(now.timestamp()),
        "exp": int((now + ASSERTION_LIFETIME).timestamp()),
        "jti": secrets.token_urlsafe(16),
    }
    return jwt.encode(payload, key.private_pem, algorithm="RS256", headers={"kid": key.kid})


def access_token(
    http: PlatformHttp,
    registration: Registration,
    key: SigningKey,
    scopes: list[str],
    now: datetime,
) -> str:
    form = {
        "grant_type": "client_credentials",
        "client_assertion_type": ASSERTION_TYPE,
        "client_assertion": client_assertion(registration, key, now),
        "scope": " ".join(scopes),
    }
    answer = http.request(
        "POST",
        registration.token_url,
        {"Content-Type": "application/x-www-form-urlencoded", "Accept": "application/json"},
        urlencode(form).encode("ascii"),
    )
    if answer.status != 200:
        raise ServiceError(f"the platform refused an access token (HTTP {answer.status})")
    data = answer.json()
    token = data.get("access_token") if isinstance(data, dict) else None
    if not isinstance(token, str) or not token:
        raise ServiceError("the platform's token answer has no access_token")
    granted = set(str(data.get("scope", "")).split())
    missing = [scope for scope in scopes if scope not in granted]
    if missing and "scope" in data:
        raise ScopeNotGrantedError(f"the platform did not grant {', '.join(missing)}")
    return token


def get_json(http: PlatformHttp, url: str, token: str, media_type: str) -> HttpAnswer:
    answer = http.request(
        "GET", url, {"Authorization": f"Bearer {token}", "Accept": media_type}, None
    )
    if answer.status != 200:
        raise ServiceError(f"the platform's service answered HTTP {answer.status}")
    return answer


def paged(http: PlatformHttp, url: str, token: str, media_type: str) -> Iterator[Any]:
    """Each page's JSON, following Link rel="next" (at most MAX_PAGES pages)."""
    seen: set[str] = set()
    first = origin_of(url)
    next_url: str | None = url
    while next_url is not None:
        if next_url in seen or len(seen) >= MAX_PAGES:
            raise ServiceError("the platform's pages do not end")
        if origin_of(next_url) != first:
            raise UnsafeUrlError("the platform's next page is on another origin")
        seen.add(next_url)
        answer = get_json(http, next_url, token, media_type)
        yield answer.json()
        found = next_link(answer.headers)
        next_url = urljoin(next_url, found) if found else None


_LINK = re.compile(r'<([^>]+)>\s*;\s*rel="?next"?', re.IGNORECASE)


def next_link(headers: Mapping[str, str]) -> str | None:
    link = next((value for name, value in headers.items() if name.lower() == "link"), "")
    found = _LINK.search(link)
    return found.group(1) if found else None


def post_json(
    http: PlatformHttp, url: str, token: str, media_type: str, payload: Mapping[str, Any]
) -> HttpAnswer:
    answer = http.request(
        "POST",
        url,
        {"Authorization": f"Bearer {token}", "Content-Type": media_type},
        json.dumps(payload, ensure_ascii=False).encode("utf-8"),
    )
    if answer.status not in (200, 201, 202, 204):
        raise ServiceError(f"the platform's service answered HTTP {answer.status}")
    return answer
