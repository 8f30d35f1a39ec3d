"""flask roster: import OneRoster 1.2 CSV packages (Japan Profile).

    flask roster import roster.zip [--json]

All or nothing: a package with any problem is refused with every problem listed as
file:line:column: message (the line a spreadsheet shows; the header is line 1), and nothing is
written. Otherwise the changes are committed and the counts per file printed.
"""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path

import click
from flask.cli import AppGroup

from app.db import new_session
from app.urls import public_url
from records.codes import JST
from records.errors import RecordsError
from records.identity.oneroster import ImportReport, RosterRejectedError, import_roster

roster_cli = AppGroup("roster", help="Rosters: OneRoster 1.2 CSV packages (Japan Profile).")


@roster_cli.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--json", "as_json", is_flag=True, help="Print the report (or the problems) as JSON.")
def roster_import(file: Path, as_json: bool) -> None:
    """Import a OneRoster 1.2 CSV zip (bulk or delta)."""
    data = file.read_bytes()
    with new_session() as session:
        try:
            report = import_roster(
                session, data, service_url=public_url(), today=datetime.now(JST).date()
            )
        except RosterRejectedError as exc:
            session.rollback()
            _print_problems(exc, as_json)
            raise click.exceptions.Exit(1) from None
        except RecordsError as exc:
            session.rollback()
            raise click.ClickException(exc.message) from None
        session.commit()
    if as_json:
        click.echo(json.dumps(report.as_dict(), ensure_ascii=False))
    else:
        _print_report(file, report)


def _print_problems(exc: RosterRejectedError, as_json: bool) -> None:
    if as_json:
        errors = [
            {"file": e.file, "line": e.line, "column": e.column, "message": e.message}
            for e in exc.errors
        ]
        click.echo(json.dumps({"imported": False, "errors": errors}, ensure_ascii=False))
        return
    for error in exc.errors:
        click.echo(str(error), err=True)
    count = len(exc.errors)
    click.echo(
        f"roster refused: {count} problem{'s' if count != 1 else ''}; nothing was imported",
        err=True,
    )


def _print_report(file: Path, report: ImportReport) -> None:
    click.echo(f"imported {file.name}")
    for name, counts in report.files.items():
        mode = report.modes.get(name, "")
        click.echo(
            f"  {name:<22} {mode:<5} {counts.created:>6} created {counts.updated:>6} updated "
            f"{counts.deactivated:>6} deactivated {counts.unchanged:>6} unchanged"
        )
    click.echo(
        f"  {report.people_created} people created, {report.identifiers_linked} identifiers linked"
    )
