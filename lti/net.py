"""Outgoing HTTP to platforms, safe against server-side request forgery (SSRF).

Ashiato fetches URLs that an administrator registers (key set, token endpoint) or that a
platform sends in a launch (NRPS and AGS endpoints). Each request:
 - is https (plain http only where the policy allows it: development and tests);
 - resolves the host once, and refuses it if *any* address is loopback, private, link-local,
   multicast, reserved, unspecified or otherwise not global (unless the policy allows private
   addresses: tests and development, where the test platform runs on localhost);
 - connects to the address that was checked (the socket is pinned to it, TLS still verifies the
   host name), so a DNS answer that changes between check and connect (rebinding) cannot
   redirect it;
 - follows no redirects, has a time limit for the whole exchange, and a cap on the body.

Service URLs a launch claims must also be on one of the registered platform's origins
(`platform_origins`, `on_origins`).
"""

from __future__ import annotations

import http.client
import ipaddress
import json
import socket
import ssl
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from lti.errors import LtiError
from lti.ports import Registration

MAX_BODY = 10 * 1024 * 1024
MAX_URL_LENGTH = 1000
DEFAULT_PORTS = {"https": 443, "http": 80}

Resolver = Callable[[str, int], list[str]]
_NAT64 = ipaddress.IPv6Network("64:ff9b::/96")


class UnsafeUrlError(LtiError):
    """A URL Ashiato will not call (scheme, address or origin). -> 400"""


class ServiceError(LtiError):
    """The platform could not be reached, answered too slowly or too much, or its service
    refused or failed. -> 424 (the request depended on it)"""

    status = 424


def system_resolver(host: str, port: int) -> list[str]:
    """Every address the system's resolver gives for the host (IPv4 and IPv6)."""
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return list(dict.fromkeys(str(info[4][0]) for info in infos))


@dataclass(frozen=True, slots=True)
class UrlPolicy:
    """Which URLs may be called. Production: https and public addresses only."""

    allow_http: bool = False
    allow_private: bool = False
    timeout_seconds: float = 10.0
    max_body: int = MAX_BODY
    resolver: Resolver = field(default=system_resolver, compare=False)
    ssl_context: ssl.SSLContext | None = field(default=None, compare=False)


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


def forbidden_address(address: str) -> bool:
    """Whether an IP address is one Ashiato must never call (anything but a global unicast)."""
    try:
        ip = ipaddress.ip_address(address.split("%", 1)[0])
    except ValueError:
        return True
    if isinstance(ip, ipaddress.IPv6Address):
        mapped = ip.ipv4_mapped or ip.sixtofour
        if ip in _NAT64:  # 64:ff9b::a.b.c.d reaches a.b.c.d through a NAT64 gateway
            mapped = ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
        if mapped is not None and forbidden_address(str(mapped)):
            return True
        if ip.teredo is not None:
            return True
    return bool(
        ip.is_loopback
        or ip.is_private
        or ip.is_link_local
        or ip.is_multicast
        or ip.is_reserved
        or ip.is_unspecified
        or not ip.is_global
    )


@dataclass(frozen=True, slots=True)
class Target:
    """A checked URL: where to connect (a checked address) and what to ask for."""

    scheme: str
    host: str
    port: int
    path: str
    addresses: tuple[str, ...]


def check_scheme(url: str, policy: UrlPolicy) -> tuple[str, str, int]:
    """(scheme, host, port) of an absolute http(s) URL the policy allows; UnsafeUrlError else."""
    if not isinstance(url, str) or not url or len(url) > MAX_URL_LENGTH:
        raise UnsafeUrlError("the URL is missing or longer than 1000 characters")
    parts = urlsplit(url)
    schemes = ("https", "http") if policy.allow_http else ("https",)
    if parts.scheme not in schemes:
        wanted = "http or https" if policy.allow_http else "https"
        raise UnsafeUrlError(f"{_shown(url)} is not an {wanted} URL")
    if parts.username is not None or parts.password is not None:
        raise UnsafeUrlError(f"{_shown(url)} carries a user name or password")
    try:
        host, port = parts.hostname, parts.port
    except ValueError:
        raise UnsafeUrlError(f"{_shown(url)} has an unusable port") from None
    if not host:
        raise UnsafeUrlError(f"{_shown(url)} names no host")
    return parts.scheme, host, port or DEFAULT_PORTS[parts.scheme]


def resolve(url: str, policy: UrlPolicy) -> Target:
    """Check the URL and every address its host resolves to (see the module's docstring)."""
    scheme, host, port = check_scheme(url, policy)
    if _is_ip(host):
        addresses = [host]
    else:
        if not policy.allow_private and _local_name(host):
            raise UnsafeUrlError(f"{host} is a local host name")
        try:
            addresses = policy.resolver(host, port)
        except (OSError, UnicodeError):
            raise ServiceError(f"the host {host} cannot be resolved") from None
        if not addresses:
            raise ServiceError(f"the host {host} cannot be resolved")
    if not policy.allow_private:
        refused = [address for address in addresses if forbidden_address(address)]
        if refused:
            raise UnsafeUrlError(
                f"{host} is (or resolves to) {refused[0]}, a loopback, private, link-local, "
                "multicast or reserved address"
            )
    parts = urlsplit(url)
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    return Target(scheme, host, port, path, tuple(addresses))


def check_registered_url(url: str, policy: UrlPolicy) -> None:
    """For registrations: the scheme, and the host's addresses when it resolves now (a host that
    does not resolve yet is accepted: every later request checks it again)."""
    try:
        resolve(url, policy)
    except ServiceError:
        return


class SafeHttp:
    """HTTP(S) with the checks above; implements lti.services.PlatformHttp."""

    def __init__(self, policy: UrlPolicy) -> None:
        self._policy = policy

    def request(
        self, method: str, url: str, headers: Mapping[str, str], body: bytes | None
    ) -> HttpAnswer:
        target = resolve(url, self._policy)
        deadline = time.monotonic() + self._policy.timeout_seconds
        connection = self._connection(target)
        try:
            connection.request(method, target.path, body=body, headers=dict(headers))
            answer = connection.getresponse()
            return HttpAnswer(answer.status, _headers(answer), self._body(answer, deadline))
        except (OSError, http.client.HTTPException) as exc:
            raise ServiceError(
                f"the platform at {target.host} cannot be reached ({type(exc).__name__})"
            ) from None
        finally:
            connection.close()

    def _connection(self, target: Target) -> http.client.HTTPConnection:
        timeout = self._policy.timeout_seconds
        address = target.addresses[0]  # the checked address: no second DNS lookup
        if target.scheme == "https":
            context = self._policy.ssl_context or ssl.create_default_context()
            return _PinnedHttps(target.host, target.port, address, timeout, context)
        return _PinnedHttp(target.host, target.port, address, timeout)

    def _body(self, answer: http.client.HTTPResponse, deadline: float) -> bytes:
        limit = self._policy.max_body
        declared = answer.getheader("Content-Length")
        if declared and declared.isdigit() and int(declared) > limit:
            raise ServiceError(f"the platform's answer is larger than {limit} bytes")
        chunks: list[bytes] = []
        size = 0
        while True:
            if time.monotonic() > deadline:
                raise ServiceError("the platform took too long to answer")
            chunk = answer.read(64 * 1024)
            if not chunk:
                return b"".join(chunks)
            size += len(chunk)
            if size > limit:
                raise ServiceError(f"the platform's answer is larger than {limit} bytes")
            chunks.append(chunk)


class _PinnedHttp(http.client.HTTPConnection):
    def __init__(self, host: str, port: int, address: str, timeout: float) -> None:
        super().__init__(host, port, timeout=timeout)
        self._address = address

    def connect(self) -> None:
        self.sock = socket.create_connection((self._address, self.port), self.timeout)


class _PinnedHttps(http.client.HTTPSConnection):
    def __init__(
        self, host: str, port: int, address: str, timeout: float, context: ssl.SSLContext
    ) -> None:
        super().__init__(host, port, timeout=timeout, context=context)
        self._address = address
        self._tls = context

    def connect(self) -> None:
        sock = socket.create_connection((self._address, self.port), self.timeout)
        # The certificate is checked against the host name, not the address we connected to.
        self.sock = self._tls.wrap_socket(sock, server_hostname=self.host)


def origin_of(url: str) -> str | None:
    """scheme://host[:port] with the default port left out, lower case; None if not a URL."""
    parts = urlsplit(url)
    try:
        host, port = parts.hostname, parts.port
    except ValueError:
        return None
    if parts.scheme not in DEFAULT_PORTS or not host:
        return None
    shown = f"[{host}]" if ":" in host else host
    if port is None or port == DEFAULT_PORTS[parts.scheme]:
        return f"{parts.scheme}://{shown}"
    return f"{parts.scheme}://{shown}:{port}"


def platform_origins(registration: Registration) -> frozenset[str]:
    """The origins of the URLs registered for the platform (issuer, auth, token, key set)."""
    urls = (
        registration.issuer,
        registration.auth_login_url,
        registration.token_url,
        registration.jwks_url,
    )
    return frozenset(origin for origin in map(origin_of, urls) if origin is not None)


def on_origins(url: str, origins: Iterable[str]) -> bool:
    origin = origin_of(url)
    return origin is not None and origin in set(origins)


def _headers(answer: http.client.HTTPResponse) -> dict[str, str]:
    found: dict[str, str] = {}
    for name, value in answer.getheaders():
        found[name] = f"{found[name]}, {value}" if name in found else value
    return found


def _is_ip(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True


def _local_name(host: str) -> bool:
    name = host.lower().rstrip(".")
    return name == "localhost" or name.endswith((".localhost", ".local", ".internal"))


def _shown(url: str) -> str:
    return repr(url[:80])
