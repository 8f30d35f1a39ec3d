"""flask transfer: signing keys and the trust list of transfer packages (issue 5).

    flask transfer keys create --org CODE      a new key for the school (older ones retire)
    flask transfer keys list [--org CODE]      published public keys (never a private key)
    flask transfer keys revoke --kid KID       packages it signed are no longer accepted
    flask transfer trust add --org CODE --key z6Mk... [--label ...]
    flask transfer trust list
    flask transfer trust remove --kid KID
    flask transfer import PACKAGE.zip --school CODE [--person PUBLIC_ID] [--json]

A receiving instance accepts packages signed by keys on its trust list (and by its own
organisations' keys). Exchange keys out of band: `keys list` on the sending instance, then
`trust add` on the receiving one.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import TypeVar

import click
from flask import current_app
from flask.cli import AppGroup

from app.db import new_session
from app.urls import public_url
from records.errors import RecordsError
from records.jobs import create_job, set_status
from records.organisations import get_organisation
from records.portability.imports import import_file
from records.portability.keys import PublicKeyInfo, create_key, published_keys, revoke_key
from records.portability.trust import TrustEntry, add_trusted, list_trusted, remove_trusted

T = TypeVar("T")

transfer_cli = AppGroup("transfer", help="Transfer packages: signing keys and the trust list.")
keys_cli = AppGroup("keys", help="This instance's organisations' signing keys.")
trust_cli = AppGroup("trust", help="Keys whose packages this instance accepts.")
transfer_cli.add_command(keys_cli)
transfer_cli.add_command(trust_cli)


@keys_cli.command("create")
@click.option("--org", "org_code", required=True, help="Code of the organisation.")
@click.option("--json", "as_json", is_flag=True)
def keys_create(org_code: str, as_json: bool) -> None:
    """Create (rotate to) a new signing key; the previous one is retired but stays published."""
    secret = current_app.config["SECRET_KEY"].encode("utf-8")
    with new_session() as session:
        info = _or_fail(lambda: create_key(session, org_code, secret))
        session.commit()
    _print_keys([info], as_json)


@keys_cli.command("list")
@click.option("--org", "org_code", default=None)
@click.option("--json", "as_json", is_flag=True)
def keys_list(org_code: str | None, as_json: bool) -> None:
    with new_session() as session:
        keys = published_keys(session, org_code)
    _print_keys(keys, as_json)


@keys_cli.command("revoke")
@click.option("--kid", required=True)
def keys_revoke(kid: str) -> None:
    with new_session() as session:
        info = _or_fail(lambda: revoke_key(session, kid))
        session.commit()
    click.echo(f"revoked {info.kid} of {info.org_code}")


@trust_cli.command("add")
@click.option("--org", "org_code", required=True, help="Code of the sending organisation.")
@click.option("--key", "public_key", required=True, help="Multikey (z6Mk...) or JWK 'x'.")
@click.option("--label", default="", help="Where the key came from, for the record.")
@click.option("--json", "as_json", is_flag=True)
def trust_add(org_code: str, public_key: str, label: str, as_json: bool) -> None:
    with new_session() as session:
        entry = _or_fail(lambda: add_trusted(session, public_key, org_code, label))
        session.commit()
    _print_trust([entry], as_json)


@trust_cli.command("list")
@click.option("--json", "as_json", is_flag=True)
def trust_list(as_json: bool) -> None:
    with new_session() as session:
        entries = list_trusted(session)
    _print_trust(entries, as_json)


@trust_cli.command("remove")
@click.option("--kid", required=True)
def trust_remove(kid: str) -> None:
    """Stop accepting packages signed by this key (kept on the list as revoked)."""
    with new_session() as session:
        entry = _or_fail(lambda: remove_trusted(session, kid))
        session.commit()
    click.echo(f"removed {entry.kid} ({entry.org_code}) from the trust list")


@transfer_cli.command("import")
@click.argument("package", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--school", "org_code", required=True, help="Code of the receiving school.")
@click.option("--person", default=None, help="Public id of the pupil, if no identifier matches.")
@click.option("--json", "as_json", is_flag=True, help="Print the receipt as JSON.")
def transfer_import(package: Path, org_code: str, person: str | None, as_json: bool) -> None:
    """Import a transfer package from a file (any size: it is never read into memory whole).
    Every check runs first; a refused package leaves nothing written."""
    with new_session() as session:
        org_id = _or_fail(lambda: get_organisation(session, org_code)).id
        job_id = create_job(session, "transfer_import", org_id=org_id, requested_by=None)
        session.commit()
        try:
            receipt = import_file(
                session,
                package,
                job_id,
                public_url(),
                datetime.now(UTC).date(),
                person,
                lambda _done, _total: None,
            )
        except RecordsError as exc:
            session.rollback()
            set_status(session, job_id, "failed", error=exc.message)
            session.commit()
            raise click.ClickException(f"refused: {exc.message}") from None
        set_status(session, job_id, "finished", result={"receipt": receipt.as_dict()})
        session.commit()
    if as_json:
        click.echo(json.dumps(receipt.as_dict(), ensure_ascii=False))
        return
    click.echo(
        f"imported {receipt.statements_imported}, skipped {receipt.statements_skipped}, "
        f"conflicts {len(receipt.conflicts)}; attachments stored {receipt.attachments_stored}; "
        f"aliases linked {receipt.aliases_linked} (pupil {receipt.person})"
    )


def _print_keys(keys: list[PublicKeyInfo], as_json: bool) -> None:
    if as_json:
        click.echo(
            json.dumps(
                [
                    {
                        "kid": k.kid,
                        "org": k.org_code,
                        "publicKey": k.public_key,
                        "status": k.status,
                        "jwk": k.jwk(),
                    }
                    for k in keys
                ]
            )
        )
        return
    for k in keys:
        click.echo(f"{k.org_code}\t{k.status}\t{k.kid}\t{k.public_key}")


def _print_trust(entries: list[TrustEntry], as_json: bool) -> None:
    if as_json:
        click.echo(
            json.dumps(
                [
                    {
                        "kid": e.kid,
                        "org": e.org_code,
                        "publicKey": e.public_key,
                        "label": e.label,
                        "revoked": e.revoked_at is not None,
                    }
                    for e in entries
                ]
            )
        )
        return
    for e in entries:
        status = "revoked" if e.revoked_at is not None else "trusted"
        click.echo(f"{e.org_code}\t{status}\t{e.kid}\t{e.public_key}\t{e.label}")


def _or_fail(action: Callable[[], T]) -> T:
    try:
        return action()
    except RecordsError as exc:
        raise click.ClickException(exc.message) from None
