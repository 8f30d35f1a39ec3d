"""flask CLI: database, organisations, LRS credentials, workers, and the demo server.

Each command parses, calls the domain, commits and prints (JSON with --json, for scripts).
"""

from __future__ import annotations

import json
import shlex
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

import click
from alembic import command as alembic_command
from alembic.config import Config as AlembicConfig
from flask import Flask, current_app
from flask.cli import AppGroup, with_appcontext
from gunicorn.app.base import BaseApplication

from app import demo_seed
from app.analytics_cli import analytics_cli
from app.db import get_engine, new_session
from app.lti_cli import lti_cli
from app.queue import QUEUES, get_redis, run_worker
from app.roster_cli import roster_cli
from app.transfer_cli import transfer_cli
from app.trust_cli import audit_cli
from app.urls import public_url
from records.credentials import authenticate, create_credential, parse_scopes, revoke_credential
from records.errors import RecordsError
from records.identity.accounts import (
    ROLES,
    create_account,
    create_token,
    list_tokens,
    revoke_token,
)
from records.identity.people import Names, create_person, find_person
from records.organisations import KINDS, create_organisation, get_organisation

T = TypeVar("T")
MIGRATIONS = Path(__file__).resolve().parent.parent / "migrations"

db_cli = AppGroup("db", help="Database schema.")
orgs_cli = AppGroup("orgs", help="Organisations (schools, boards).")
credentials_cli = AppGroup("credentials", help="LRS credentials for devices and tools.")


def alembic_config() -> AlembicConfig:
    config = AlembicConfig()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.set_main_option("sqlalchemy.url", current_app.config["DATABASE_URL"])
    return config


def upgrade_database() -> None:
    config = alembic_config()
    with get_engine().begin() as connection:
        config.attributes["connection"] = connection
        alembic_command.upgrade(config, "head")


@db_cli.command("upgrade")
def db_upgrade() -> None:
    """Bring the database to the latest schema."""
    upgrade_database()
    click.echo("database is at the latest schema")


@orgs_cli.command("create")
@click.option(
    "--code",
    required=True,
    help="Official code for its kind (JIS prefecture, 6-digit municipality, MEXT school code).",
)
@click.option("--name", required=True)
@click.option("--kind", type=click.Choice(KINDS), default="other", show_default=True)
@click.option("--parent", "parent_code", default=None, help="Code of the parent organisation.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON for scripts.")
def orgs_create(code: str, name: str, kind: str, parent_code: str | None, as_json: bool) -> None:
    with new_session() as session:
        org = _or_fail(
            lambda: create_organisation(session, code, name, kind=kind, parent_code=parent_code)
        )
        session.commit()
    if as_json:
        click.echo(json.dumps({"id": org.id, "code": org.code, "name": org.name, "kind": org.kind}))
    else:
        click.echo(f"created organisation {org.code} ({org.name})")


@credentials_cli.command("create")
@click.option("--org", "org_code", required=True, help="Code of the owning organisation.")
@click.option("--scopes", default="statements/write statements/read/mine", show_default=True)
@click.option("--label", default="", help="Shown as the authority name of its statements.")
@click.option("--json", "as_json", is_flag=True, help='Print {"key": ..., "secret": ...}.')
def credentials_create(org_code: str, scopes: str, label: str, as_json: bool) -> None:
    hash_key = current_app.config["CREDENTIAL_HASH_KEY"].encode("utf-8")
    with new_session() as session:
        new = _or_fail(
            lambda: create_credential(
                session, org_code, _or_fail(lambda: parse_scopes(scopes)), label, hash_key
            )
        )
        session.commit()
    if as_json:
        click.echo(json.dumps({"key": new.info.key, "secret": new.secret}))
    else:
        click.echo(f"key:    {new.info.key}\nsecret: {new.secret}\n(the secret is shown only once)")


@credentials_cli.command("revoke")
@click.option("--key", required=True)
def credentials_revoke(key: str) -> None:
    with new_session() as session:
        _or_fail(lambda: revoke_credential(session, key))
        session.commit()
    click.echo(f"revoked {key}")


users_cli = AppGroup("users", help="Sign-in accounts.")
tokens_cli = AppGroup("tokens", help="Personal API tokens.")


@users_cli.command("create")
@click.option("--role", required=True, type=click.Choice(sorted(ROLES)))
@click.option("--org", "org_code", required=True, help="Organisation the role applies to.")
@click.option("--email", required=True, help="Login name (not an identifier of the person).")
@click.option("--password", required=True, help="At least 10 characters.")
@click.option("--person", "person_id", default=None, help="Public id of an existing person.")
@click.option("--family-name", default="", help="For a new person (pupil/teacher).")
@click.option("--given-name", default="", help="For a new person (pupil/teacher).")
@click.option("--json", "as_json", is_flag=True)
def users_create(
    role: str,
    org_code: str,
    email: str,
    password: str,
    person_id: str | None,
    family_name: str,
    given_name: str,
    as_json: bool,
) -> None:
    """Create an account; a pupil or teacher without --person gets a new person."""
    with new_session() as session:
        person = None
        if person_id is not None:
            person = _or_fail(lambda: find_person(session, person_id))
        elif role in ("pupil", "teacher"):
            person = create_person(
                session,
                "student" if role == "pupil" else "teacher",
                Names(family=family_name, given=given_name),
                public_url(),
            )
        account = _or_fail(
            lambda: create_account(
                session,
                email,
                password,
                role,
                org_code,
                person_id=person.id if person is not None else None,
            )
        )
        session.commit()
        public_id = person.public_id if person is not None else None
    if as_json:
        click.echo(json.dumps({"id": account.id, "email": account.email, "person": public_id}))
    else:
        click.echo(f"created {role} account {account.email}")


@tokens_cli.command("create")
@click.option("--user", "email", required=True, help="The account's e-mail address.")
@click.option("--label", default="", help="What the token is for.")
@click.option("--json", "as_json", is_flag=True, help='Print {"token": ...}.')
def tokens_create(email: str, label: str, as_json: bool) -> None:
    hash_key = current_app.config["CREDENTIAL_HASH_KEY"].encode("utf-8")
    with new_session() as session:
        token = _or_fail(lambda: create_token(session, email, label, hash_key))
        session.commit()
    click.echo(json.dumps({"token": token}) if as_json else f"token: {token} (shown only once)")


@tokens_cli.command("list")
@click.option("--user", "email", required=True, help="The account's e-mail address.")
@click.option("--json", "as_json", is_flag=True, help="One JSON object per token.")
def tokens_list(email: str, as_json: bool) -> None:
    """The account's tokens: id, label, created, last used, revoked (never the token)."""
    with new_session() as session:
        tokens = _or_fail(lambda: list_tokens(session, email))
    for token in tokens:
        fields = {
            "id": token.id,
            "label": token.label,
            "created_at": token.created_at.isoformat(),
            "last_used_at": token.last_used_at.isoformat() if token.last_used_at else None,
            "revoked_at": token.revoked_at.isoformat() if token.revoked_at else None,
        }
        click.echo(
            json.dumps(fields) if as_json else "\t".join(str(v or "-") for v in fields.values())
        )


@tokens_cli.command("revoke")
@click.option("--id", "token_id", required=True, type=int, help="From `tokens list`.")
def tokens_revoke(token_id: int) -> None:
    """Refuse the token from the next request on."""
    with new_session() as session:
        _or_fail(lambda: revoke_token(session, token_id))
        session.commit()
    click.echo(f"API token {token_id} revoked")


@click.command("worker")
@click.option("--queue", "queues", multiple=True, type=click.Choice(QUEUES))
@click.option("--burst", is_flag=True, help="Stop when the queues are empty.")
def worker(queues: tuple[str, ...], burst: bool) -> None:
    """Run an rq worker inside the app context (app.queue.run_worker: jobs whose worker dies
    are retried or failed, never left running)."""
    if get_redis() is None:
        raise click.ClickException("set ASHIATO_REDIS_URL to run workers (jobs run in-process)")
    run_worker(queues, burst)


@click.group("demo", invoke_without_command=True)
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=5000, show_default=True)
@click.pass_context
@with_appcontext
def demo(ctx: click.Context, host: str, port: int) -> None:
    """Upgrade the database, ensure a demo school and device credential, print them, and serve
    (`demo seed`: generate the synthetic world of the board dashboard first)."""
    upgrade_database()
    if ctx.invoked_subcommand is not None:
        return
    hash_key = current_app.config["CREDENTIAL_HASH_KEY"].encode("utf-8")
    marker = Path(current_app.instance_path) / "demo_credential.json"
    database = current_app.config["DATABASE_URL"]
    known = json.loads(marker.read_text()) if marker.exists() else {}
    if known.get("database") != database or not _still_valid(known, hash_key):
        with new_session() as session:
            try:
                get_organisation(session, "demo-school")
            except RecordsError:
                create_organisation(session, "demo-school", "デモ小学校 (demo school)")
            new = create_credential(
                session, "demo-school", parse_scopes("all"), "demo device", hash_key
            )
            session.commit()
        marker.write_text(
            json.dumps({"key": new.info.key, "secret": new.secret, "database": database})
        )
        marker.chmod(0o600)
    creds = json.loads(marker.read_text())
    url = f"http://{host}:{port}/xapi/"
    example = {
        "actor": {"objectType": "Agent", "mbox": "mailto:pupil@example.jp"},
        "verb": {"id": "http://adlnet.gov/expapi/verbs/completed", "display": {"ja": "完了した"}},
        "object": {"id": "https://example.jp/activities/math-1"},
    }
    body = shlex.quote(json.dumps(example, ensure_ascii=False))
    click.echo(
        f"\nAshiato LRS: {url}\n"
        f"device credential (demo school, scope 'all'): {creds['key']}:{creds['secret']}\n\n"
        "try:\n"
        f"  curl -u {creds['key']}:{creds['secret']} -H 'X-Experience-API-Version: 1.0.3' "
        f"-H 'Content-Type: application/json' -d {body} {url}statements\n\n"
        f"e-portfolio and dashboards: http://{host}:{port}/ — after `make run` (or\n"
        f"`flask --app app demo seed`) sign in as pupil@demo.example.jp, teacher@demo.example.jp,\n"
        f"school-admin@demo.example.jp or analyst-13@demo.example.jp, password "
        f"{demo_seed.DEMO_PASSWORD}\n"
    )
    get_engine().dispose()  # the server's worker opens its own connections
    EmbeddedServer(
        current_app._get_current_object(),  # type: ignore[attr-defined]  # proxy hides it
        {
            "bind": f"{host}:{port}",
            "workers": 1,
            "threads": 8,
            "worker_class": "gthread",
            "accesslog": "-",
        },
    ).run()


class EmbeddedServer(BaseApplication):  # type: ignore[misc]  # gunicorn is untyped
    """gunicorn serving this app from inside the CLI: one process, threads, SQLite."""

    def __init__(self, application: Flask, options: dict[str, object]) -> None:
        self.application = application
        self.options = options
        super().__init__()

    def load_config(self) -> None:
        for key, value in self.options.items():
            self.cfg.set(key, value)

    def load(self) -> Flask:
        return self.application


def _still_valid(known: dict[str, str], hash_key: bytes) -> bool:
    with new_session() as session:
        try:
            authenticate(session, known.get("key", ""), known.get("secret", ""), hash_key)
        except RecordsError:
            return False
    return True


def _or_fail(action: Callable[[], T]) -> T:
    try:
        return action()
    except RecordsError as exc:
        raise click.ClickException(exc.message) from None


def init_app(app: Flask) -> None:
    for group in (db_cli, orgs_cli, credentials_cli, users_cli, tokens_cli, roster_cli, lti_cli):
        app.cli.add_command(group)
    app.cli.add_command(worker)
    demo.add_command(demo_seed.seed)
    app.cli.add_command(analytics_cli)
    app.cli.add_command(demo)
    app.cli.add_command(transfer_cli)
    app.cli.add_command(audit_cli)
