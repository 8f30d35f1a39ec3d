"""The LTI tool's ports (lti.ports) over the request's database session.

State and nonce are consumed with one conditional UPDATE each, so two requests racing with the
same value cannot both succeed. Expired rows are swept when new ones are issued.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any, cast

from sqlalchemy import CursorResult, delete, select, update
from sqlalchemy.orm import Session

from lti.models import LtiDeployment, LtiLoginState, LtiNonce, LtiPlatform
from lti.ports import Deployment, LoginState, Registration, SigningKey
from lti.tool_keys import current_key, published_keys

# Used and expired rows are kept this long (for investigating a launch), then swept.
KEEP_EXPIRED = timedelta(days=1)


def _registration(row: LtiPlatform) -> Registration:
    return Registration(
        id=row.id,
        issuer=row.issuer,
        client_id=row.client_id,
        auth_login_url=row.auth_login_url,
        token_url=row.token_url,
        jwks_url=row.jwks_url,
        org_id=row.org_id,
        unknown_users=row.unknown_users,
    )


class SqlRegistrations:
    def __init__(self, session: Session) -> None:
        self._session = session

    def find(self, issuer: str, client_id: str | None) -> list[Registration]:
        query = select(LtiPlatform).where(
            LtiPlatform.issuer == issuer, LtiPlatform.active.is_(True)
        )
        if client_id is not None:
            query = query.where(LtiPlatform.client_id == client_id)
        return [_registration(row) for row in self._session.scalars(query.order_by(LtiPlatform.id))]

    def get(self, platform_id: int) -> Registration | None:
        row = self._session.get(LtiPlatform, platform_id)
        return _registration(row) if row is not None and row.active else None

    def deployment(self, platform_id: int, deployment_id: str) -> Deployment | None:
        row = self._session.scalar(
            select(LtiDeployment).where(
                LtiDeployment.platform_id == platform_id,
                LtiDeployment.deployment_id == deployment_id,
            )
        )
        return Deployment(row.platform_id, row.deployment_id, row.org_id) if row else None


class SqlStates:
    def __init__(self, session: Session) -> None:
        self._session = session

    def issue(
        self,
        state_hash: str,
        nonce_hash: str,
        platform_id: int,
        target_link_uri: str,
        login_params: Mapping[str, str],
        expires_at: datetime,
    ) -> None:
        self._session.execute(
            delete(LtiLoginState).where(LtiLoginState.expires_at < expires_at - KEEP_EXPIRED)
        )
        self._session.add(
            LtiLoginState(
                state_hash=state_hash,
                nonce_hash=nonce_hash,
                platform_id=platform_id,
                target_link_uri=target_link_uri,
                login_params=dict(login_params),
                expires_at=expires_at,
                used_at=None,
            )
        )
        self._session.flush()

    def consume(self, state_hash: str, now: datetime) -> LoginState | None:
        if not _claim(
            self._session,
            update(LtiLoginState).where(
                LtiLoginState.state_hash == state_hash,
                LtiLoginState.used_at.is_(None),
                LtiLoginState.expires_at > now,
            ),
            now,
        ):
            return None
        row = self._session.scalar(
            select(LtiLoginState).where(LtiLoginState.state_hash == state_hash)
        )
        if row is None:  # pragma: no cover - just updated
            return None
        return LoginState(row.platform_id, row.nonce_hash, row.target_link_uri, row.login_params)


class SqlNonces:
    def __init__(self, session: Session) -> None:
        self._session = session

    def issue(self, nonce_hash: str, platform_id: int, expires_at: datetime) -> None:
        self._session.execute(
            delete(LtiNonce).where(LtiNonce.expires_at < expires_at - KEEP_EXPIRED)
        )
        self._session.add(
            LtiNonce(
                nonce_hash=nonce_hash, platform_id=platform_id, expires_at=expires_at, used_at=None
            )
        )
        self._session.flush()

    def consume(self, nonce_hash: str, platform_id: int, now: datetime) -> bool:
        return _claim(
            self._session,
            update(LtiNonce).where(
                LtiNonce.nonce_hash == nonce_hash,
                LtiNonce.platform_id == platform_id,
                LtiNonce.used_at.is_(None),
                LtiNonce.expires_at > now,
            ),
            now,
        )


class SqlToolKeys:
    def __init__(self, session: Session) -> None:
        self._session = session

    def signing_key(self) -> SigningKey:
        key = current_key(self._session)
        return SigningKey(kid=key.kid, private_pem=key.private_pem)

    def published(self) -> list[dict[str, Any]]:
        return [dict(key.public_jwk) for key in published_keys(self._session)]


def _claim(session: Session, statement: Any, now: datetime) -> bool:
    """Run a conditional `UPDATE ... SET used_at = now`; True if exactly one row was claimed."""
    result = cast(
        CursorResult[Any],
        session.execute(statement.values(used_at=now).execution_options(synchronize_session=False)),
    )
    return result.rowcount == 1
