"""Platforms' public keys, fetched from their registered key-set URLs (PyJWT's PyJWKClient, its
HTTP replaced by lti.net's SSRF-safe client): each key set is cached for a TTL, and an unknown
`kid` refetches it once (at most once per cooldown)."""

from __future__ import annotations

import threading
import time
from typing import Any

from jwt import PyJWKClient, PyJWKClientConnectionError, PyJWKClientError, PyJWKSetError

from lti.errors import LaunchRejectedError, LtiError
from lti.net import SafeHttp, UnsafeUrlError, UrlPolicy

MAX_KEY_SET_BYTES = 256 * 1024


class _RefusedUrlError(PyJWKClientConnectionError):
    """The key-set URL is one Ashiato does not call (lti.net)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class _SafeJWKClient(PyJWKClient):
    """PyJWKClient whose fetches go through lti.net (checked addresses, no redirects, a time
    limit and a size cap) instead of urllib."""

    def __init__(self, uri: str, policy: UrlPolicy, **kwargs: Any) -> None:
        super().__init__(uri, **kwargs)
        self._http = SafeHttp(policy)

    def fetch_data(self) -> Any:
        try:
            answer = self._http.request("GET", self.uri, {"Accept": "application/json"}, None)
            if answer.status != 200:
                raise PyJWKClientConnectionError(f"the key set answered HTTP {answer.status}")
            data = answer.json()
        except UnsafeUrlError as exc:
            raise _RefusedUrlError(exc.reason) from None
        except LtiError as exc:
            raise PyJWKClientConnectionError(exc.reason) from None
        jwk_set = self._as_jwk_set_payload(data)
        if self.jwk_set_cache is not None:
            self.jwk_set_cache.put(jwk_set)
        self._last_successful_fetch = time.monotonic()
        return jwk_set


class PlatformKeyCache:
    """One key-set client per URL, kept for the life of the process (built in create_app)."""

    def __init__(
        self,
        ttl_seconds: float = 300,
        timeout_seconds: float = 5,
        cooldown_seconds: float = 5,
        policy: UrlPolicy | None = None,
    ) -> None:
        self._ttl = ttl_seconds
        # An unknown kid refetches at most once per cooldown (no refetch storms on a platform).
        self._cooldown = cooldown_seconds
        base = policy or UrlPolicy()
        self._policy = UrlPolicy(
            allow_http=base.allow_http,
            allow_private=base.allow_private,
            timeout_seconds=min(base.timeout_seconds, timeout_seconds),
            max_body=min(base.max_body, MAX_KEY_SET_BYTES),
            resolver=base.resolver,
            ssl_context=base.ssl_context,
        )
        self._clients: dict[str, PyJWKClient] = {}
        self._lock = threading.Lock()

    def public_key(self, jwks_url: str, kid: str) -> Any:
        client = self._client(jwks_url)
        try:
            return client.get_signing_key(kid).key
        except _RefusedUrlError as exc:
            raise LaunchRejectedError(
                f"the platform's key-set URL is refused: {exc.reason}"
            ) from None
        except PyJWKClientConnectionError:
            # The reason is shown to the person launching: no details of our network in it.
            raise LaunchRejectedError("the platform's key set cannot be fetched") from None
        except (PyJWKClientError, PyJWKSetError):
            raise LaunchRejectedError(f"the platform's key set has no usable key {kid!r}") from None

    def _client(self, jwks_url: str) -> PyJWKClient:
        with self._lock:
            client = self._clients.get(jwks_url)
            if client is None:
                client = _SafeJWKClient(
                    jwks_url,
                    self._policy,
                    cache_jwk_set=True,
                    lifespan=self._ttl,
                    timeout=self._policy.timeout_seconds,
                    cooldown_duration=self._cooldown,
                )
                self._clients[jwks_url] = client
            return client
