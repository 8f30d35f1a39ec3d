"""`flask audit ...`: check that the access log was not changed (the hash chain)."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from contextlib import contextmanager

import click
from flask.cli import AppGroup

from app.db import new_session
from records.audit import verify_chain
from records.errors import RecordsError
from records.identity.accounts import AccountInfo, Grant
from records.identity.people import find_person
from records.trust.retention import apply_retention, place_hold, set_policy

audit_cli = AppGroup(
    "audit", help="The access log (verify its hash chain), retention and legal holds."
)


@audit_cli.command("verify")
@click.option("--person", "public_id", default=None, help="Only this person's chain.")
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")
def verify(public_id: str | None, as_json: bool) -> None:
    """Walk every chain; exit 1 and name the first broken link of each chain that is broken."""
    with new_session() as session:
        subject = find_person(session, public_id).id if public_id else None
        report = verify_chain(session, subject)
    broken = [
        {
            "person_id": b.subject_person_id,
            "position": b.position,
            "row": b.entry_id,
            "reason": b.reason,
        }
        for b in report.broken
    ]
    if as_json:
        click.echo(
            json.dumps(
                {
                    "intact": report.intact,
                    "rows": report.rows,
                    "people": report.people,
                    "unchained": report.unchained,
                    "broken": broken,
                },
                ensure_ascii=False,
            )
        )
    else:
        click.echo(f"{report.rows} rows of {report.people} people checked")
        if report.unchained:
            click.echo(f"{report.unchained} rows were written before the chain existed")
        for b in broken:
            where = f"person {b['person_id']}, row {b['position']} (id {b['row']})"
            click.echo(f"BROKEN: {where}: {b['reason']}")
        click.echo("intact" if report.intact else "the access log was changed")
    if not report.intact:
        sys.exit(1)


@audit_cli.command("retention-set")
@click.option("--org", "org_code", required=True, help="Municipality or school code.")
@click.option("--days", type=int, required=True, help="Keep learning records this many days.")
@click.option("--kind", default="statements", show_default=True)
def retention_set(org_code: str, days: int, kind: str) -> None:
    """Set how long an organisation keeps learning records (run as a system admin)."""
    with new_session() as session, _clean_errors():
        set_policy(session, _system(), org_code, kind, days)
        session.commit()
    click.echo(f"{org_code}: {kind} kept {days} days")


@audit_cli.command("retention-apply")
def retention_apply() -> None:
    """Remove records past their retention (schedule daily, e.g. cron or `rq` cron)."""
    with new_session() as session:
        removed = apply_retention(session)
        session.commit()
    click.echo(json.dumps(dict(removed), ensure_ascii=False))


@audit_cli.command("hold")
@click.option("--person", "public_id", required=True)
@click.option("--reason", required=True)
def hold(public_id: str, reason: str) -> None:
    """Place a legal hold: retention and erasure leave the person's records alone."""
    with new_session() as session, _clean_errors():
        placed = place_hold(session, _system(), public_id, reason)
        session.commit()
    click.echo(f"hold {placed.id} placed")


@contextmanager
def _clean_errors() -> Iterator[None]:
    """A refused command says why, without a traceback."""
    try:
        yield
    except RecordsError as exc:
        raise click.ClickException(exc.message) from None


def _system() -> AccountInfo:
    """The operator at the command line acts as a system admin (the CLI is the server's)."""
    return AccountInfo(
        id=0, email="cli", person_id=None, locale="ja", grants=(Grant("system_admin", 0),)
    )
