"""What the tool needs from the outside, as Protocols. `app/lti_stores.py` implements them over
the database; tests may implement them in memory. lti/ never opens a session of its own."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

UNKNOWN_USER_POLICIES = frozenset({"create", "refuse"})


@dataclass(frozen=True, slots=True)
class Registration:
    """A platform registration as the launch checks need it."""

    id: int
    issuer: str
    client_id: str
    auth_login_url: str
    token_url: str
    jwks_url: str
    org_id: int
    unknown_users: str  # create | refuse


@dataclass(frozen=True, slots=True)
class Deployment:
    platform_id: int
    deployment_id: str
    org_id: int  # the school (or board) launches through this deployment belong to


@dataclass(frozen=True, slots=True)
class LoginState:
    """What we remembered when we issued a state."""

    platform_id: int
    nonce_hash: str
    target_link_uri: str
    login_params: Mapping[str, str]


@dataclass(frozen=True, slots=True)
class SigningKey:
    kid: str
    private_pem: str


class RegistrationStore(Protocol):
    def find(self, issuer: str, client_id: str | None) -> list[Registration]:
        """Active registrations of the issuer (with that client_id when given)."""

    def get(self, platform_id: int) -> Registration | None: ...

    def deployment(self, platform_id: int, deployment_id: str) -> Deployment | None: ...


class StateStore(Protocol):
    def issue(
        self,
        state_hash: str,
        nonce_hash: str,
        platform_id: int,
        target_link_uri: str,
        login_params: Mapping[str, str],
        expires_at: datetime,
    ) -> None: ...

    def consume(self, state_hash: str, now: datetime) -> LoginState | None:
        """The state, marked used; None if unknown, expired or used before."""


class NonceStore(Protocol):
    def issue(self, nonce_hash: str, platform_id: int, expires_at: datetime) -> None: ...

    def consume(self, nonce_hash: str, platform_id: int, now: datetime) -> bool:
        """True once for a nonce we issued to that platform and that has not expired."""


class PlatformKeys(Protocol):
    def public_key(self, jwks_url: str, kid: str) -> Any:
        """The platform's public key with that kid (its key set fetched over HTTP, cached with
        a TTL, refetched once on an unknown kid). Raises LaunchRejectedError if none."""


class ToolKeyStore(Protocol):
    def signing_key(self) -> SigningKey:
        """The current key pair of the tool."""

    def published(self) -> list[dict[str, Any]]:
        """The public JWKs of every key still published (current and previous)."""
