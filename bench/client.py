"""A small keep-alive xAPI client on the standard library (one connection per thread).

The load generator shares the machine with the server and the database, so it stays cheap:
bodies are bytes prepared before the timed part, responses are read and dropped unless asked.
"""

from __future__ import annotations

import base64
import http.client
import time
from dataclasses import dataclass
from urllib.parse import urlsplit

VERSION = "1.0.3"
_RETRYABLE = (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError)


@dataclass(frozen=True, slots=True)
class Target:
    """Where the LRS is: host, port and the path of its xAPI root (ending in '/')."""

    host: str
    port: int
    root: str
    authorization: str

    @classmethod
    def parse(cls, url: str, key: str, secret: str) -> Target:
        parts = urlsplit(url)
        if parts.scheme != "http" or not parts.hostname:
            raise SystemExit(f"--url must be http://host:port/xapi/, got {url!r}")
        if parts.hostname not in {"127.0.0.1", "localhost", "::1"}:
            raise SystemExit("benchmarks only ever target the local machine (127.0.0.1)")
        token = base64.b64encode(f"{key}:{secret}".encode()).decode("ascii")
        root = parts.path if parts.path.endswith("/") else parts.path + "/"
        return cls(parts.hostname, parts.port or 80, root, f"Basic {token}")


@dataclass(frozen=True, slots=True)
class Reply:
    status: int
    body: bytes
    seconds: float


class Connection:
    """One persistent HTTP/1.1 connection; reconnects once if the server closed it."""

    def __init__(self, target: Target, timeout: float = 60.0) -> None:
        self.target = target
        self.timeout = timeout
        self._conn = self._open()
        self._headers = {
            "Authorization": target.authorization,
            "X-Experience-API-Version": VERSION,
        }
        self._post_headers = {**self._headers, "Content-Type": "application/json"}

    def _open(self) -> http.client.HTTPConnection:
        return http.client.HTTPConnection(self.target.host, self.target.port, timeout=self.timeout)

    def post_statements(self, body: bytes) -> Reply:
        return self._send("POST", self.target.root + "statements", body, self._post_headers)

    def get(self, path_and_query: str) -> Reply:
        """GET a path relative to the xAPI root, or an absolute path (a `more` link)."""
        path = (
            path_and_query if path_and_query.startswith("/") else self.target.root + path_and_query
        )
        return self._send("GET", path, None, self._headers)

    def _send(self, method: str, path: str, body: bytes | None, headers: dict[str, str]) -> Reply:
        for attempt in (1, 2):
            start = time.perf_counter()
            try:
                self._conn.request(method, path, body, headers)
                response = self._conn.getresponse()
                data = response.read()
            except _RETRYABLE:
                self._conn.close()
                self._conn = self._open()
                if attempt == 2:
                    raise
                continue
            return Reply(response.status, data, time.perf_counter() - start)
        raise AssertionError("unreachable")

    def close(self) -> None:
        self._conn.close()
