"""flask lti ...: platform registrations, deployments and the tool's keys.

Each command parses, calls lti/, commits and prints (JSON with --json, for scripts).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime
from typing import TypeVar

import click
from flask.cli import AppGroup
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.db import new_session
from app.lti_common import url_policy
from app.lti_stores import SqlRegistrations, SqlToolKeys
from app.urls import public_url
from lti import ags
from lti.contexts import get_context
from lti.errors import LtiError
from lti.models import LtiContext
from lti.people import platform_user_id
from lti.ports import UNKNOWN_USER_POLICIES, Registration
from lti.registrations import (
    add_deployment,
    list_platforms,
    register_platform,
    set_platform_active,
    update_platform,
)
from lti.roster_sync import find_class, sync_course
from lti.services import SafeHttp, access_token, require_platform_url
from lti.tool_keys import rotate_keys
from records.errors import RecordsError
from records.identity.people import find_person

T = TypeVar("T")

lti_cli = AppGroup("lti", help="LTI 1.3: platform registrations, deployments, tool keys.")


@lti_cli.command("register-platform")
@click.option("--issuer", required=True, help="The platform's iss (an https URL).")
@click.option("--client-id", required=True, help="The client_id the platform gave Ashiato.")
@click.option("--auth-url", required=True, help="The platform's OIDC authentication endpoint.")
@click.option("--token-url", required=True, help="The platform's OAuth 2 token endpoint.")
@click.option("--jwks-url", required=True, help="The platform's key-set (JWKS) URL.")
@click.option("--org", "org_code", required=True, help="Code of the owning school or board.")
@click.option(
    "--unknown-users",
    type=click.Choice(sorted(UNKNOWN_USER_POLICIES)),
    default="refuse",
    show_default=True,
    help="Launch by somebody not linked: create a person and account, or refuse.",
)
@click.option("--title", default="", help="A name for people (e.g. 学習eポータル).")
@click.option("--deployment", "deployments", multiple=True, help="A deployment id (repeatable).")
@click.option("--json", "as_json", is_flag=True)
def register(
    issuer: str,
    client_id: str,
    auth_url: str,
    token_url: str,
    jwks_url: str,
    org_code: str,
    unknown_users: str,
    title: str,
    deployments: tuple[str, ...],
    as_json: bool,
) -> None:
    """Register a platform; print the URLs to enter on the platform's side."""
    with new_session() as session:
        platform = _or_fail(
            lambda: register_platform(
                session,
                issuer=issuer,
                client_id=client_id,
                auth_login_url=auth_url,
                token_url=token_url,
                jwks_url=jwks_url,
                org_code=org_code,
                unknown_users=unknown_users,
                title=title,
                policy=url_policy(),
            )
        )
        for deployment_id in deployments:
            _add(session, platform.id, deployment_id)
        session.commit()
        platform_id = platform.id
    base = public_url()
    tool = {
        "platform": platform_id,
        "login_url": base + "lti/login",
        "launch_url": base + "lti/launch",
        "jwks_url": base + "lti/jwks.json",
    }
    if as_json:
        click.echo(json.dumps(tool))
    else:
        click.echo(f"registered platform {platform_id} ({issuer}); on the platform enter:")
        for name in ("login_url", "launch_url", "jwks_url"):
            click.echo(f"  {name}: {tool[name]}")


@lti_cli.command("add-deployment")
@click.option("--platform", "platform_id", required=True, type=int)
@click.option("--deployment", "deployment_id", required=True)
@click.option(
    "--org",
    "org_code",
    default=None,
    help="The school; default: the school whose code the deployment id is, else the platform's.",
)
def add_deployment_command(platform_id: int, deployment_id: str, org_code: str | None) -> None:
    with new_session() as session:
        deployment = _or_fail(lambda: add_deployment(session, platform_id, deployment_id, org_code))
        session.commit()
        org_id = deployment.org_id
    click.echo(f"added deployment {deployment_id} (organisation {org_id})")


@lti_cli.command("list")
def list_command() -> None:
    with new_session() as session:
        for platform in list_platforms(session):
            state = "active" if platform.active else "inactive"
            click.echo(
                f"{platform.id}\t{platform.issuer}\t{platform.client_id}\t"
                f"unknown users: {platform.unknown_users}\t{state}"
            )


@lti_cli.command("update-platform")
@click.option("--platform", "platform_id", required=True, type=int)
@click.option("--auth-url", default=None, help="A new OIDC authentication endpoint.")
@click.option("--token-url", default=None, help="A new OAuth 2 token endpoint.")
@click.option("--jwks-url", default=None, help="A new key-set (JWKS) URL.")
@click.option("--unknown-users", type=click.Choice(sorted(UNKNOWN_USER_POLICIES)), default=None)
def update_platform_command(
    platform_id: int,
    auth_url: str | None,
    token_url: str | None,
    jwks_url: str | None,
    unknown_users: str | None,
) -> None:
    """Change a registration's endpoints or unknown-user policy (same checks as registering)."""
    with new_session() as session:
        _or_fail(
            lambda: update_platform(
                session,
                platform_id,
                auth_login_url=auth_url,
                token_url=token_url,
                jwks_url=jwks_url,
                unknown_users=unknown_users,
                policy=url_policy(),
            )
        )
        session.commit()
    click.echo(f"updated platform {platform_id}")


@lti_cli.command("deactivate")
@click.option("--platform", "platform_id", required=True, type=int)
def deactivate_command(platform_id: int) -> None:
    """Refuse the platform's launches and stop calling its services (nothing is deleted)."""
    _set_active(platform_id, False)
    click.echo(f"platform {platform_id} is inactive: its launches are refused")


@lti_cli.command("activate")
@click.option("--platform", "platform_id", required=True, type=int)
def activate_command(platform_id: int) -> None:
    _set_active(platform_id, True)
    click.echo(f"platform {platform_id} is active again")


def _set_active(platform_id: int, active: bool) -> None:
    with new_session() as session:
        _or_fail(lambda: set_platform_active(session, platform_id, active))
        session.commit()


@lti_cli.command("rotate-keys")
def rotate_keys_command() -> None:
    """A new signing key; the old one stays published until the next rotation."""
    with new_session() as session:
        key = rotate_keys(session)
        session.commit()
        kid = key.kid
    click.echo(f"new signing key {kid}; the previous key stays published until the next rotation")


@lti_cli.command("courses")
def courses_command() -> None:
    """Courses Ashiato was launched from, with the services their latest launch offered."""
    with new_session() as session:
        for row in session.scalars(select(LtiContext).order_by(LtiContext.id)):
            services = [
                name
                for name, url in (("nrps", row.memberships_url), ("ags", row.lineitems_url))
                if url
            ]
            click.echo(f"{row.id}\t{row.title}\t{row.deployment_id}\t{','.join(services) or '-'}")


@lti_cli.command("sync-members")
@click.option("--course", "course_id", type=int, default=None, help="A course from `lti courses`.")
@click.option("--platform", "platform_id", type=int, default=None)
@click.option("--deployment", "deployment_id", default=None)
@click.option("--memberships-url", default=None, help="The course's NRPS context_memberships_url.")
@click.option("--class", "class_sourced_id", required=True, help="sourcedId of the class.")
@click.option("--json", "as_json", is_flag=True)
def sync_members_command(
    course_id: int | None,
    platform_id: int | None,
    deployment_id: str | None,
    memberships_url: str | None,
    class_sourced_id: str,
    as_json: bool,
) -> None:
    """Names and Role Provisioning: bring a course's members into a class and identity links
    (--course, or --platform, --deployment and --memberships-url)."""
    now = datetime.now(UTC)
    with new_session() as session:
        if course_id is not None:
            course = _or_fail(lambda: get_context(session, course_id))
            platform_id, deployment_id = course.platform_id, course.deployment_id
            memberships_url = course.memberships_url
        if platform_id is None or deployment_id is None or not memberships_url:
            raise click.ClickException(
                "give --course (with NRPS), or --platform, --deployment and --memberships-url"
            )
        registrations = SqlRegistrations(session)
        registration = _registration(registrations, platform_id)
        deployment = registrations.deployment(platform_id, deployment_id)
        if deployment is None:
            raise click.ClickException(f"deployment {deployment_id!r} is not registered")
        klass = _or_fail(lambda: find_class(session, deployment.org_id, class_sourced_id))
        key = SqlToolKeys(session).signing_key()
        session.commit()  # the tool key, when this is its first use
        url = memberships_url
        report = _or_fail(
            lambda: sync_course(
                session,
                registration=registration,
                deployment=deployment,
                klass=klass,
                memberships_url=url,
                http=SafeHttp(url_policy()),
                key=key,
                service_url=public_url(),
                now=now,
                today=now.date(),
            )
        )
        session.commit()
    summary = {
        "linked": report.linked,
        "created": report.created,
        "enrolled": report.enrolled,
        "ended": report.ended,
        "skipped": report.skipped,
        "unlinked": report.unlinked,
    }
    click.echo(json.dumps(summary) if as_json else " ".join(f"{k}={v}" for k, v in summary.items()))


@lti_cli.command("line-items")
@click.option("--platform", "platform_id", required=True, type=int)
@click.option("--lineitems-url", required=True, help="The course's AGS lineitems URL.")
def line_items_command(platform_id: int, lineitems_url: str) -> None:
    """Assignment and Grade Services: the course's line items (id, label, maximum)."""
    now = datetime.now(UTC)
    http = SafeHttp(url_policy())
    with new_session() as session:
        registration = _registration(SqlRegistrations(session), platform_id)
        key = SqlToolKeys(session).signing_key()
        session.commit()
    _or_fail(lambda: require_platform_url(registration, lineitems_url, "line items URL"))
    scopes = [ags.SCOPE_LINEITEM_READ]
    token = _or_fail(lambda: access_token(http, registration, key, scopes, now))
    for item in _or_fail(lambda: ags.line_items(http, lineitems_url, token)):
        click.echo(f"{item.id}\t{item.label}\t{item.score_maximum:g}")


@lti_cli.command("post-score")
@click.option("--platform", "platform_id", required=True, type=int)
@click.option("--lineitem", "lineitem_url", required=True, help="The line item's URL (its id).")
@click.option("--label", default="", help="The line item's label, for the xAPI statement.")
@click.option("--pupil", "pupil_id", required=True, help="Public id of the pupil.")
@click.option("--teacher", "teacher_id", required=True, help="Public id of the assessing teacher.")
@click.option("--score", "given", required=True, type=float)
@click.option("--max", "maximum", required=True, type=float)
@click.option("--comment", default="")
def post_score_command(
    platform_id: int,
    lineitem_url: str,
    label: str,
    pupil_id: str,
    teacher_id: str,
    given: float,
    maximum: float,
    comment: str,
) -> None:
    """Assignment and Grade Services: send a teacher's score to the gradebook, and record it."""
    now = datetime.now(UTC)
    http = SafeHttp(url_policy())
    with new_session() as session:
        registration = _registration(SqlRegistrations(session), platform_id)
        _or_fail(lambda: require_platform_url(registration, lineitem_url, "line item URL"))
        pupil = _or_fail(lambda: find_person(session, pupil_id))
        teacher = _or_fail(lambda: find_person(session, teacher_id))
        user_id = platform_user_id(session, pupil.id, registration.issuer)
        if user_id is None:
            raise click.ClickException("the pupil is not linked to a user of this platform")
        score = ags.Score(user_id, given, maximum, comment, now)
        _or_fail(lambda: ags.check_score(given, maximum))
        key = SqlToolKeys(session).signing_key()
        session.commit()
        token = _or_fail(lambda: access_token(http, registration, key, [ags.SCOPE_SCORE], now))
        _or_fail(lambda: ags.post_score(http, lineitem_url, token, score))
        ags.record_score(
            session,
            pupil=pupil,
            teacher=teacher,
            lineitem_id=lineitem_url,
            label=label,
            score=score,
            org_id=registration.org_id,
            service_url=public_url(),
        )
        session.commit()
    click.echo(f"sent {given:g}/{maximum:g} for {pupil_id} and recorded it")


def _registration(registrations: SqlRegistrations, platform_id: int) -> Registration:
    registration = registrations.get(platform_id)
    if registration is None:
        raise click.ClickException(f"no active platform registration {platform_id}")
    return registration


def _add(session: Session, platform_id: int, deployment_id: str) -> None:
    try:
        add_deployment(session, platform_id, deployment_id)
    except LtiError as exc:
        raise click.ClickException(exc.reason) from None


def _or_fail(action: Callable[[], T]) -> T:
    try:
        return action()
    except LtiError as exc:
        raise click.ClickException(exc.reason) from None
    except RecordsError as exc:
        raise click.ClickException(exc.message) from None
