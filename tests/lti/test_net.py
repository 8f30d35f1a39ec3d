"""SSRF protection of every outgoing request to a platform (lti.net), without a database: refused
schemes and addresses, every resolved address checked, the connection pinned to the checked
address (DNS rebinding), no redirects, a time limit, a size cap, and platform origins."""

from __future__ import annotations

import datetime as dt
import ssl
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, ClassVar

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from lti.net import (
    SafeHttp,
    ServiceError,
    UnsafeUrlError,
    UrlPolicy,
    check_registered_url,
    forbidden_address,
    on_origins,
    platform_origins,
    resolve,
)
from lti.ports import Registration
from lti.services import paged, require_platform_url

PUBLIC = "8.8.8.8"  # a global address; these tests only resolve it, never connect to it


@pytest.mark.parametrize(
    "address",
    [
        "127.0.0.1",
        "127.8.9.10",
        "10.1.2.3",
        "172.16.0.1",
        "192.168.1.1",
        "169.254.169.254",  # cloud metadata
        "100.64.0.1",  # carrier-grade NAT
        "0.0.0.0",  # noqa: S104 - an address under test, not a bind
        "224.0.0.1",
        "239.255.255.250",
        "240.0.0.1",
        "255.255.255.255",
        "::1",
        "::",
        "fe80::1",
        "fc00::1",
        "ff02::1",
        "::ffff:127.0.0.1",  # IPv4-mapped loopback
        "::ffff:10.0.0.1",
        "2002:7f00:1::1",  # 6to4 of 127.0.0.1
        "64:ff9b::a9fe:a9fe",  # NAT64 of 169.254.169.254
        "not-an-address",
    ],
)
def test_non_global_addresses_are_forbidden(address: str) -> None:
    assert forbidden_address(address)


@pytest.mark.parametrize("address", ["8.8.8.8", "133.11.0.1", "2001:4860:4860::8888"])
def test_global_addresses_are_allowed(address: str) -> None:
    assert not forbidden_address(address)


def resolver(table: dict[str, list[str]]) -> Any:
    calls: list[str] = []

    def resolve_name(host: str, port: int) -> list[str]:
        calls.append(host)
        if host not in table:
            raise OSError("unknown host")
        return table[host]

    resolve_name.calls = calls  # type: ignore[attr-defined]
    return resolve_name


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("http://portal.example.jp/jwks", "not an https URL"),
        ("file:///etc/passwd", "not an https URL"),
        ("ftp://portal.example.jp/x", "not an https URL"),
        ("gopher://portal.example.jp/", "not an https URL"),
        ("https:///no-host", "names no host"),
        ("https://user:pw@portal.example.jp/", "user name or password"),
        ("https://portal.example.jp:99999/", "port"),
        ("https://127.0.0.1/jwks", "127.0.0.1"),
        ("https://[::1]/jwks", "::1"),
        ("https://169.254.169.254/latest/meta-data/", "169.254.169.254"),
        ("https://10.0.0.8/token", "10.0.0.8"),
        ("https://localhost/token", "local host name"),
        ("https://intranet.local/token", "local host name"),
        ("https://inside.example.jp/token", "10.9.8.7"),  # resolves to a private address
        ("https://mixed.example.jp/token", "192.168.0.9"),  # one of its addresses is private
        ("https://" + "a" * 1000 + ".jp/", "longer than 1000"),
    ],
)
def test_unsafe_urls_are_refused(url: str, reason: str) -> None:
    policy = UrlPolicy(
        resolver=resolver(
            {
                "inside.example.jp": ["10.9.8.7"],
                "mixed.example.jp": [PUBLIC, "192.168.0.9"],
            }
        )
    )
    with pytest.raises(UnsafeUrlError, match=reason.replace(".", r"\.")):
        resolve(url, policy)


def test_a_public_host_is_accepted_with_every_address_checked() -> None:
    names = resolver({"portal.example.jp": [PUBLIC, "2001:db8::1"]})
    with pytest.raises(UnsafeUrlError, match="2001:db8::1"):  # documentation range: not global
        resolve("https://portal.example.jp/jwks", UrlPolicy(resolver=names))
    names = resolver({"portal.example.jp": [PUBLIC]})
    target = resolve("https://portal.example.jp/a/b?c=d", UrlPolicy(resolver=names))
    assert (target.host, target.port, target.path, target.addresses) == (
        "portal.example.jp",
        443,
        "/a/b?c=d",
        (PUBLIC,),
    )


def test_the_development_policy_allows_localhost_and_http() -> None:
    policy = UrlPolicy(allow_http=True, allow_private=True)
    assert resolve("http://127.0.0.1:8000/jwks", policy).addresses == ("127.0.0.1",)
    with pytest.raises(UnsafeUrlError):
        resolve("file:///etc/passwd", policy)


def test_registration_accepts_a_host_that_does_not_resolve_yet_but_refuses_private_ones() -> None:
    names = resolver({"inside.example.jp": ["10.0.0.1"]})
    check_registered_url("https://not-yet.example.jp/jwks", UrlPolicy(resolver=names))
    with pytest.raises(UnsafeUrlError):
        check_registered_url("https://inside.example.jp/jwks", UrlPolicy(resolver=names))


# --- real connections on localhost -------------------------------------------------------------


class _Handler(BaseHTTPRequestHandler):
    seen_hosts: ClassVar[list[str]] = []  # shared with the test, reset per server

    def do_GET(self) -> None:
        self.seen_hosts.append(self.headers.get("Host", ""))
        if self.path == "/redirect":
            self.send_response(302)
            self.send_header("Location", "http://169.254.169.254/")
            self.end_headers()
        elif self.path == "/big":
            body = b"x" * 5000
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
        elif self.path == "/big-undeclared":
            self.send_response(200)
            self.end_headers()
            self.wfile.write(b"y" * 5000)
            self.close_connection = True
        elif self.path == "/slow":
            time.sleep(2)
            self.send_response(200)
            self.end_headers()
        else:
            body = b'{"ok": true}'
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    def log_message(self, *args: Any) -> None:
        pass


def _serve(tls: ssl.SSLContext | None = None) -> Iterator[ThreadingHTTPServer]:
    _Handler.seen_hosts = []
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    server.daemon_threads = True
    if tls is not None:
        server.socket = tls.wrap_socket(server.socket, server_side=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


@pytest.fixture
def server() -> Iterator[ThreadingHTTPServer]:
    yield from _serve()


def _local(server: ThreadingHTTPServer, **overrides: Any) -> tuple[UrlPolicy, str, Any]:
    names = resolver({"platform.test": ["127.0.0.1"]})
    fields: dict[str, Any] = {"allow_http": True, "allow_private": True, "resolver": names}
    return UrlPolicy(**(fields | overrides)), f"http://platform.test:{server.server_port}", names


def test_the_connection_goes_to_the_checked_address_resolved_once(
    server: ThreadingHTTPServer,
) -> None:
    policy, base, names = _local(server)
    # platform.test is unknown to the system's resolver: only the checked address can be used.
    answer = SafeHttp(policy).request("GET", base + "/jwks", {}, None)
    assert (answer.status, answer.json()) == (200, {"ok": True})
    assert names.calls == ["platform.test"]  # one resolution: no second look-up to rebind
    assert _Handler.seen_hosts == [f"platform.test:{server.server_port}"]


def test_dns_rebinding_to_a_private_address_is_refused_before_connecting(
    server: ThreadingHTTPServer,
) -> None:
    names = resolver({"platform.test": ["127.0.0.1"]})
    policy = UrlPolicy(allow_http=True, resolver=names)
    with pytest.raises(UnsafeUrlError, match=r"127\.0\.0\.1"):
        SafeHttp(policy).request("GET", f"http://platform.test:{server.server_port}/", {}, None)
    assert _Handler.seen_hosts == []


def test_redirects_are_not_followed(server: ThreadingHTTPServer) -> None:
    policy, base, _ = _local(server)
    answer = SafeHttp(policy).request("GET", base + "/redirect", {}, None)
    assert answer.status == 302
    assert len(_Handler.seen_hosts) == 1


@pytest.mark.parametrize("path", ["/big", "/big-undeclared"])
def test_answers_over_the_size_cap_are_refused(server: ThreadingHTTPServer, path: str) -> None:
    policy, base, _ = _local(server, max_body=1000)
    with pytest.raises(ServiceError, match="larger than 1000 bytes"):
        SafeHttp(policy).request("GET", base + path, {}, None)


def test_a_slow_platform_times_out(server: ThreadingHTTPServer) -> None:
    policy, base, _ = _local(server, timeout_seconds=0.3)
    started = time.monotonic()
    with pytest.raises(ServiceError, match="cannot be reached"):
        SafeHttp(policy).request("GET", base + "/slow", {}, None)
    assert time.monotonic() - started < 1.5


def _tls_files(tmp_path: Path, name: str) -> tuple[ssl.SSLContext, ssl.SSLContext]:
    """A server context with a self-signed certificate for `name`, and a client context that
    trusts only that certificate (and checks host names)."""
    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(hours=1))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName(name)]), critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_file, key_file = tmp_path / "cert.pem", tmp_path / "key.pem"
    cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    server = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    server.load_cert_chain(cert_file, key_file)
    client = ssl.create_default_context(cafile=str(cert_file))
    return server, client


@pytest.mark.parametrize(
    ("certificate_name", "works"), [("platform.test", True), ("x.test", False)]
)
def test_https_is_pinned_to_the_checked_address_and_still_verifies_the_host_name(
    tmp_path: Path, certificate_name: str, works: bool
) -> None:
    server_tls, client_tls = _tls_files(tmp_path, certificate_name)
    for server in _serve(server_tls):
        names = resolver({"platform.test": ["127.0.0.1"]})
        policy = UrlPolicy(allow_private=True, resolver=names, ssl_context=client_tls)
        url = f"https://platform.test:{server.server_port}/jwks"
        if works:
            assert SafeHttp(policy).request("GET", url, {}, None).json() == {"ok": True}
        else:
            with pytest.raises(ServiceError, match="cannot be reached"):
                SafeHttp(policy).request("GET", url, {}, None)


# --- platform origins ------------------------------------------------------------------------

REGISTRATION = Registration(
    id=1,
    issuer="https://portal.example.jp",
    client_id="c",
    auth_login_url="https://portal.example.jp/auth",
    token_url="https://api.portal.example.jp:8443/token",
    jwks_url="https://portal.example.jp/jwks",
    org_id=1,
    unknown_users="refuse",
)


def test_platform_origins_are_those_of_its_registered_urls() -> None:
    assert platform_origins(REGISTRATION) == {
        "https://portal.example.jp",
        "https://api.portal.example.jp:8443",
    }
    assert on_origins("https://portal.example.jp:443/nrps/1", platform_origins(REGISTRATION))
    assert on_origins("https://PORTAL.example.jp/x", platform_origins(REGISTRATION))
    for other in (
        "https://evil.example.jp/nrps",
        "http://portal.example.jp/nrps",
        "https://portal.example.jp:8443/nrps",
        "https://portal.example.jp.evil.jp/",
        "https://portal.example.jp@evil.jp/",
    ):
        assert not on_origins(other, platform_origins(REGISTRATION)), other
        with pytest.raises(UnsafeUrlError, match="registered origins"):
            require_platform_url(REGISTRATION, other, "memberships URL")


class _PagedHttp:
    """Two pages; the first names a next page on another origin."""

    def request(self, method: str, url: str, headers: Any, body: bytes | None) -> Any:
        from lti.net import HttpAnswer

        link = '<https://evil.example.jp/page2>; rel="next"'
        return HttpAnswer(200, {"Link": link}, b"{}")


def test_a_next_page_on_another_origin_is_not_followed() -> None:
    pages = paged(_PagedHttp(), "https://portal.example.jp/nrps", "token", "x")
    assert next(pages) == {}
    with pytest.raises(UnsafeUrlError, match="another origin"):
        next(pages)
