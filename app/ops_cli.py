"""`flask ops`: what an operator runs after a restore, an upgrade or an incident.

    flask --app app ops check [--json] [--sample N]   # consistency; exit 1 if anything fails
    flask --app app ops reconcile-jobs [--json]       # job rows brought in line with rq

See docs/OPERATIONS.md.
"""

from __future__ import annotations

import json

import click
from flask.cli import AppGroup
from sqlalchemy.exc import SQLAlchemyError

from app.db import new_session
from app.health import migration_status
from app.queue import reconcile_jobs
from records.consistency import CheckResult, run_checks

ops_cli = AppGroup("ops", help="Operations: consistency check, job reconciliation.")


@ops_cli.command("check")
@click.option("--json", "as_json", is_flag=True, help="Print the results as JSON.")
@click.option(
    "--sample",
    default=2000,
    show_default=True,
    help="How many of the newest statements get their index terms derived again.",
)
def check(as_json: bool, sample: int) -> None:
    """Check the database: schema at the migrations' head, statement index, attachments,
    access-log hash chains, id sequences, file integrity. Exit 1 if any check fails."""
    results = [_migrations()]
    if results[0].ok:
        try:
            with new_session() as session:
                results += run_checks(session, sample)
        except SQLAlchemyError as exc:
            results.append(
                CheckResult("database", False, f"a check could not run ({type(exc).__name__})")
            )
    failed = [r for r in results if not r.ok]
    if as_json:
        click.echo(
            json.dumps(
                {
                    "ok": not failed,
                    "checks": [
                        {"name": r.name, "ok": r.ok, "skipped": r.skipped, "detail": r.detail}
                        for r in results
                    ],
                },
                ensure_ascii=False,
            )
        )
    else:
        for r in results:
            verdict = "skipped" if r.skipped else ("ok" if r.ok else "FAILED")
            click.echo(f"{r.name:<16} {verdict:<8} {r.detail}")
        click.echo("all checks passed" if not failed else f"{len(failed)} checks failed")
    if failed:
        raise SystemExit(1)


def _migrations() -> CheckResult:
    status = migration_status()
    if status["status"] == "ok":
        return CheckResult("migrations", True, f"at head {', '.join(status['revision'])}")
    if status["status"] == "behind":
        return CheckResult(
            "migrations",
            False,
            f"schema at {', '.join(status['current']) or 'nothing'}, code at "
            f"{', '.join(status['head'])}: run `flask db upgrade` (or restore the matching "
            "release)",
        )
    return CheckResult("migrations", False, status["message"])


@ops_cli.command("reconcile-jobs")
@click.option("--json", "as_json", is_flag=True, help="Print the counts as JSON.")
def reconcile(as_json: bool) -> None:
    """Requeue or fail job rows whose rq job was abandoned, failed or lost (workers do this
    themselves every JOB_MAINTENANCE_SECONDS; without Redis, rows of interrupted in-process
    jobs are failed once older than JOB_TIMEOUT)."""
    changed = reconcile_jobs()
    if as_json:
        click.echo(json.dumps(changed))
    else:
        click.echo(f"{changed['requeued']} requeued, {changed['failed']} failed")
