"""Platforms' public keys, fetched from their registered key-set URLs over HTTP (PyJWT's
PyJWKClient): each key set is cached for a TTL, and an unknown `kid` refetches it once."""

from __future__ import annotations

import threading
from typing import Any

from jwt import PyJWKClient, PyJWKClientConnectionError, PyJWKClientError, PyJWKSetError

from lti.errors import LaunchRejectedError


class PlatformKeyCache:
    """One PyJWKClient per key-set URL, kept for the life of the process (built in create_app)."""

    def __init__(
        self, ttl_seconds: float = 300, timeout_seconds: float = 5, cooldown_seconds: float = 5
    ) -> None:
        self._ttl = ttl_seconds
        self._timeout = timeout_seconds
        # An unknown kid refetches at most once per cooldown (no refetch storms on a platform).
        self._cooldown = cooldown_seconds
        self._clients: dict[str, PyJWKClient] = {}
        self._lock = threading.Lock()

    def public_key(self, jwks_url: str, kid: str) -> Any:
        client = self._client(jwks_url)
        try:
            return client.get_signing_key(kid).key
        except PyJWKClientConnectionError:
            # The reason is shown to the person launching: no details of our network in it.
            raise LaunchRejectedError("the platform's key set cannot be fetched") from None
        except (PyJWKClientError, PyJWKSetError):
            raise LaunchRejectedError(f"the platform's key set has no usable key {kid!r}") from None

    def _client(self, jwks_url: str) -> PyJWKClient:
        with self._lock:
            client = self._clients.get(jwks_url)
            if client is None:
                client = PyJWKClient(
                    jwks_url,
                    cache_jwk_set=True,
                    lifespan=self._ttl,
                    timeout=self._timeout,
                    cooldown_duration=self._cooldown,
                )
                self._clients[jwks_url] = client
            return client
