"""Calling a platform's LTI Advantage services: an OAuth 2 access token by the client-credentials
grant with a signed JWT assertion (1EdTech Security Framework §4.1), then JSON over HTTP with
the media types NRPS 2.0 and AGS 2.0 define. Paged answers are followed by their Link rel=next.
"""

from __future__ import annotations

import json
import re
import secrets
import urllib.error
import urllib.request
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Protocol
from urllib.parse import urlencode, urlsplit

import jwt

from lti.errors import LtiError
from lti.ports import Registration, SigningKey

ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
ASSERTION_LIFETIME = timedelta(minutes=5)
MAX_PAGES = 200
MAX_BODY = 10 * 1024 * 1024


class ServiceError(LtiError):
    """The platform's service refused or failed. -> 424 (the request depended on it)"""

    status = 424


@dataclass(frozen=True, slots=True)
class HttpAnswer:
    status: int
    headers: Mapping[str, str]
    body: bytes

    def json(self) -> Any:
        try:
            return json.loads(self.body)
        except ValueError:
            raise ServiceError("the platform answered with something that is not JSON") from None


class PlatformHttp(Protocol):
    def request(
        self, method: str, url: str, headers: Mapping[str, str], body: bytes | None
    ) -> HttpAnswer: ...


class UrllibHttp:
    """HTTP with the standard library: a timeout, no redirects followed, bodies capped."""

    def __init__(self, timeout_seconds: float = 10) -> None:
        self._timeout = timeout_seconds

    def request(
        self, method: str, url: str, headers: Mapping[str, str], body: bytes | None
    ) -> HttpAnswer:
        if urlsplit(url).scheme not in ("http", "https"):
            raise ServiceError(f"not an http(s) service URL: {url[:80]!r}")
        outgoing = urllib.request.Request(url, data=body, headers=dict(headers), method=method)  # noqa: S310 - scheme checked above
        opener = urllib.request.build_opener(_NoRedirect())
        try:
            with opener.open(outgoing, timeout=self._timeout) as answer:
                return HttpAnswer(answer.status, dict(answer.headers), answer.read(MAX_BODY))
        except urllib.error.HTTPError as exc:
            with exc:
                return HttpAnswer(exc.code, dict(exc.headers), exc.read(MAX_BODY))
        except (urllib.error.URLError, TimeoutError, OSError) as exc:
            raise ServiceError(f"the platform's service cannot be reached ({exc})") from None


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


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
        raise ServiceError(f"the platform did not grant {', '.join(missing)}")
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
    next_url: str | None = url
    while next_url is not None:
        if next_url in seen or len(seen) >= MAX_PAGES:
            raise ServiceError("the platform's pages do not end")
        seen.add(next_url)
        answer = get_json(http, next_url, token, media_type)
        yield answer.json()
        next_url = next_link(answer.headers)


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
