"""Managing platform registrations and their deployments (flushes; the edge commits)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from lti.errors import RegistrationError
from lti.japan import school_code_of
from lti.models import LtiDeployment, LtiPlatform
from lti.net import UnsafeUrlError, UrlPolicy, check_registered_url, check_scheme
from lti.ports import UNKNOWN_USER_POLICIES
from records.models import Organisation


def register_platform(
    session: Session,
    *,
    issuer: str,
    client_id: str,
    auth_login_url: str,
    token_url: str,
    jwks_url: str,
    org_code: str,
    unknown_users: str = "refuse",
    title: str = "",
    policy: UrlPolicy | None = None,
) -> LtiPlatform:
    """Register a platform. Its URLs must be https (unless the policy allows http: development,
    tests); the token endpoint and key-set URL, which Ashiato calls, must not be on loopback,
    private, link-local, multicast or reserved addresses (unless the policy allows them)."""
    policy = policy or UrlPolicy()
    for name, url, fetched in (
        ("issuer", issuer, False),
        ("auth endpoint", auth_login_url, False),
        ("token endpoint", token_url, True),
        ("key-set URL", jwks_url, True),
    ):
        _check_url(name, url, policy, fetched)
    if not client_id.strip():
        raise RegistrationError("client_id is required")
    if unknown_users not in UNKNOWN_USER_POLICIES:
        allowed = ", ".join(sorted(UNKNOWN_USER_POLICIES))
        raise RegistrationError(f"the unknown-user policy must be one of {allowed}")
    org_id = _org_id(session, org_code)
    exists = session.scalar(
        select(LtiPlatform.id).where(
            LtiPlatform.issuer == issuer, LtiPlatform.client_id == client_id
        )
    )
    if exists is not None:
        raise RegistrationError(f"{issuer} with client_id {client_id!r} is already registered")
    platform = LtiPlatform(
        issuer=issuer,
        client_id=client_id,
        auth_login_url=auth_login_url,
        token_url=token_url,
        jwks_url=jwks_url,
        org_id=org_id,
        unknown_users=unknown_users,
        title=title,
        active=True,
        created_at=datetime.now(UTC),
    )
    session.add(platform)
    session.flush()
    return platform


def add_deployment(
    session: Session, platform_id: int, deployment_id: str, org_code: str | None = None
) -> LtiDeployment:
    """A deployment of the tool on the platform. Its school is `org_code`, else the organisation
    whose code the deployment id is (a MEXT school code), else the registration's organisation."""
    platform = session.get(LtiPlatform, platform_id)
    if platform is None:
        raise RegistrationError(f"no platform registration {platform_id}")
    if not deployment_id.strip() or len(deployment_id) > 255:
        raise RegistrationError("a deployment id has 1 to 255 characters")
    if org_code is not None:
        org_id = _org_id(session, org_code)
    else:
        # A deployment id shaped like a school code names that school (MEXT form when it is one).
        code = school_code_of(deployment_id) or deployment_id.strip()
        found = session.scalar(select(Organisation.id).where(Organisation.code == code))
        org_id = found if found is not None else platform.org_id
    exists = session.scalar(
        select(LtiDeployment.id).where(
            LtiDeployment.platform_id == platform_id, LtiDeployment.deployment_id == deployment_id
        )
    )
    if exists is not None:
        raise RegistrationError(f"deployment {deployment_id!r} is already registered")
    deployment = LtiDeployment(
        platform_id=platform_id,
        deployment_id=deployment_id,
        org_id=org_id,
        created_at=datetime.now(UTC),
    )
    session.add(deployment)
    session.flush()
    return deployment


def set_platform_active(session: Session, platform_id: int, active: bool) -> LtiPlatform:
    """Stop (or resume) launches and service calls of a registration; nothing is deleted."""
    platform = session.get(LtiPlatform, platform_id)
    if platform is None:
        raise RegistrationError(f"no platform registration {platform_id}")
    platform.active = active
    session.flush()
    return platform


def update_platform(
    session: Session,
    platform_id: int,
    *,
    auth_login_url: str | None = None,
    token_url: str | None = None,
    jwks_url: str | None = None,
    unknown_users: str | None = None,
    policy: UrlPolicy | None = None,
) -> LtiPlatform:
    """Change a registration's endpoints (a platform moved its key set, say) or its
    unknown-user policy, with the same checks as registering."""
    platform = session.get(LtiPlatform, platform_id)
    if platform is None:
        raise RegistrationError(f"no platform registration {platform_id}")
    policy = policy or UrlPolicy()
    for name, url, fetched, column in (
        ("auth endpoint", auth_login_url, False, "auth_login_url"),
        ("token endpoint", token_url, True, "token_url"),
        ("key-set URL", jwks_url, True, "jwks_url"),
    ):
        if url is not None:
            _check_url(name, url, policy, fetched)
            setattr(platform, column, url)
    if unknown_users is not None:
        if unknown_users not in UNKNOWN_USER_POLICIES:
            allowed = ", ".join(sorted(UNKNOWN_USER_POLICIES))
            raise RegistrationError(f"the unknown-user policy must be one of {allowed}")
        platform.unknown_users = unknown_users
    session.flush()
    return platform


def list_platforms(session: Session) -> list[LtiPlatform]:
    return list(session.scalars(select(LtiPlatform).order_by(LtiPlatform.id)))


@dataclass(frozen=True, slots=True)
class PlatformView:
    """A registration as the admin page shows it."""

    id: int
    title: str
    issuer: str
    client_id: str
    unknown_users: str
    deployment_ids: tuple[str, ...]
    active: bool = True


def platforms_of(session: Session, org_id: int) -> list[PlatformView]:
    rows = session.scalars(
        select(LtiPlatform).where(LtiPlatform.org_id == org_id).order_by(LtiPlatform.id)
    ).all()
    deployments: dict[int, list[str]] = {row.id: [] for row in rows}
    for platform_id, deployment_id in session.execute(
        select(LtiDeployment.platform_id, LtiDeployment.deployment_id)
        .where(LtiDeployment.platform_id.in_(list(deployments)))
        .order_by(LtiDeployment.id)
    ):
        deployments[platform_id].append(deployment_id)
    return [
        PlatformView(
            row.id,
            row.title,
            row.issuer,
            row.client_id,
            row.unknown_users,
            tuple(deployments[row.id]),
            row.active,
        )
        for row in rows
    ]


def _org_id(session: Session, org_code: str) -> int:
    org_id = session.scalar(select(Organisation.id).where(Organisation.code == org_code))
    if org_id is None:
        raise RegistrationError(f"no organisation with code {org_code!r}")
    return org_id


def _check_url(name: str, url: str, policy: UrlPolicy, fetched: bool) -> None:
    """The URL's scheme; for URLs Ashiato fetches, also the addresses its host resolves to."""
    try:
        if fetched:
            check_registered_url(url, policy)
        else:
            check_scheme(url, policy)
    except UnsafeUrlError as exc:
        raise RegistrationError(f"the {name} is refused: {exc.reason}") from None
